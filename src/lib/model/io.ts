// Saving and loading a model in the tfjs weights-manifest format (model.json + weights.bin), with
// the model config and a CRC-32 of the weights so that a truncated or corrupted file, or a
// manifest that does not match the config, is refused with a clear message. Loading is
// all-or-nothing: every check runs on the raw bytes before a single variable is created.
// Pure functions over bytes and JSON: Node (fs) and the worker (fetch) supply the files.
import * as tf from '@tensorflow/tfjs-core';
import { parseModelConfig, type ModelConfig } from '../config/model';
import { gptParamSpecs, uniqueName, type ParamSpec, type ParamStore } from './params';
import type { Gpt } from './gpt';

export const MODEL_FORMAT = 'rlhf-playground-gpt';
export const MODEL_FORMAT_VERSION = 1;
export const WEIGHTS_FILE = 'weights.bin';

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** model.json: a tfjs weights manifest plus what this project needs to trust it. */
export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  config: ModelConfig;
  weightsManifest: { paths: string[]; weights: WeightEntry[] }[];
  /** CRC-32 of weights.bin, unsigned. */
  weightsCrc32: number;
  weightsBytes: number;
  /** Free-form facts about how the weights were made (validation loss, steps, seed). */
  meta: Record<string, unknown>;
}

export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE), as zip and PNG use. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Serialises parameters named by `specs` (in that order) into a manifest and one weights buffer. */
export async function saveParams(
  params: ParamStore,
  specs: ParamSpec[],
  config: ModelConfig,
  meta: Record<string, unknown> = {},
): Promise<{ manifest: ModelManifest; weights: Uint8Array }> {
  const arrays = await Promise.all(specs.map((s) => {
    const v = params.get(s.name);
    if (!v) throw new Error(`cannot save: missing parameter "${s.name}"`);
    return v.data() as Promise<Float32Array>;
  }));
  const total = arrays.reduce((a, x) => a + x.length, 0);
  const flat = new Float32Array(total);
  let off = 0;
  for (const a of arrays) {
    flat.set(a, off);
    off += a.length;
  }
  const weights = new Uint8Array(flat.buffer);
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    config,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs.map((s) => ({ name: s.name, shape: s.shape, dtype: 'float32' })) }],
    weightsCrc32: crc32(weights),
    weightsBytes: weights.byteLength,
    meta,
  };
  return { manifest, weights };
}

export async function saveGpt(model: Gpt, meta: Record<string, unknown> = {}) {
  return saveParams(model.params, gptParamSpecs(model.config), model.config, meta);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Checks a parsed model.json against the GPT's expected parameters; returns the typed manifest. */
export function checkManifest(raw: unknown): ModelManifest {
  if (typeof raw !== 'object' || raw === null) throw new ModelLoadError('model.json is not a JSON object');
  const m = raw as Partial<ModelManifest>;
  if (m.format !== MODEL_FORMAT) throw new ModelLoadError(`model.json is not a ${MODEL_FORMAT} file (format: ${JSON.stringify(m.format)})`);
  if (m.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new ModelLoadError(`model.json has format version ${m.formatVersion}; this page reads version ${MODEL_FORMAT_VERSION}`);
  }
  let config: ModelConfig;
  try {
    config = parseModelConfig(m.config);
  } catch (e) {
    throw new ModelLoadError(`model.json has a bad config: ${(e as Error).message}`);
  }
  const groups = m.weightsManifest;
  if (!Array.isArray(groups) || groups.length !== 1 || !Array.isArray(groups[0]?.weights)) {
    throw new ModelLoadError('model.json must have one weightsManifest group with a weights list');
  }
  const entries = groups[0].weights;
  const expected = gptParamSpecs(config);
  const problems: string[] = [];
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const spec of expected) {
    const e = byName.get(spec.name);
    if (!e) problems.push(`missing weight "${spec.name}"`);
    else if (!Array.isArray(e.shape) || !sameShape(e.shape, spec.shape)) {
      problems.push(`weight "${spec.name}" has shape [${e.shape}], the config needs [${spec.shape}]`);
    } else if (e.dtype !== 'float32') problems.push(`weight "${spec.name}" has dtype ${e.dtype}, expected float32`);
  }
  for (const e of entries) if (!expected.some((s) => s.name === e.name)) problems.push(`unexpected weight "${e.name}"`);
  if (problems.length > 0) throw new ModelLoadError(`model.json does not match its config: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`);
  if (typeof m.weightsCrc32 !== 'number' || typeof m.weightsBytes !== 'number') {
    throw new ModelLoadError('model.json lacks weightsCrc32/weightsBytes');
  }
  return m as ModelManifest;
}

/**
 * Builds a Gpt from model.json (parsed) and the weights bytes. Throws ModelLoadError, having
 * created no tensors, when anything is wrong: a truncated or corrupted file, a mismatch, NaNs.
 */
export function loadGpt(rawManifest: unknown, weightsBytes: ArrayBuffer | Uint8Array, prefix = 'base'): { model: Gpt; manifest: ModelManifest } {
  const manifest = checkManifest(rawManifest);
  const bytes = weightsBytes instanceof Uint8Array ? weightsBytes : new Uint8Array(weightsBytes);
  const entries = manifest.weightsManifest[0].weights;
  const needed = entries.reduce((a, e) => a + 4 * e.shape.reduce((x, y) => x * y, 1), 0);
  if (bytes.byteLength !== needed || bytes.byteLength !== manifest.weightsBytes) {
    throw new ModelLoadError(`${WEIGHTS_FILE} has ${bytes.byteLength} bytes; the manifest needs ${needed} (truncated or wrong file?)`);
  }
  const crc = crc32(bytes);
  if (crc !== manifest.weightsCrc32) {
    throw new ModelLoadError(`${WEIGHTS_FILE} is corrupted: its CRC-32 is ${crc.toString(16)}, the manifest says ${manifest.weightsCrc32.toString(16)}`);
  }
  // Copy to an aligned buffer: a Uint8Array view may start at any offset.
  const floats = new Float32Array(bytes.slice().buffer);
  for (let i = 0; i < floats.length; i++) {
    if (!Number.isFinite(floats[i])) throw new ModelLoadError(`${WEIGHTS_FILE} holds a non-finite value at index ${i}`);
  }
  const params: ParamStore = new Map();
  let off = 0;
  for (const e of entries) {
    const n = e.shape.reduce((x, y) => x * y, 1);
    const values = floats.subarray(off, off + n);
    params.set(e.name, tf.tidy(() => tf.variable(tf.tensor(values, e.shape, 'float32'), true, uniqueName(prefix, e.name))));
    off += n;
  }
  return { model: { config: manifest.config, params }, manifest };
}
