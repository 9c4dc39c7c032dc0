// A checkpoint of a whole run as one file (issue 12): the page keeps the latest one to restart a
// crashed worker, stores it across reloads, and exports it to move a run to another browser.
// The file is a zip (fflate, stored: floats barely compress and a periodic checkpoint must be
// quick) holding
//   model.json    a tfjs weights manifest of every variable (reward model, each method's policy,
//                 critic and optimizer moments) with the model config and a CRC-32 (io.ts's);
//   weights.bin   their float32 values, in the manifest's order;
//   run.json      the rest of the run (Run.saveState): seed, settings, step counts, beta, the KL
//                 history, the random streams' positions, the normalisation samples;
//   vocab.json    the vocabulary the weights were trained on;
//   labels.jsonl  the label log, one label per line.
// Reading checks everything before a tensor is made: a file for another model size or vocabulary,
// a bad checksum, a truncated file or a malformed field is refused with a message naming it. A
// restored run continues bit-identically to one that never stopped (tests/unit/checkpoint.test.ts).
import * as tf from '@tensorflow/tfjs-core';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import * as v from 'valibot';
import { checkField } from '../config/fields';
import { LabelSchema, type Label } from '../config/label';
import type { ModelConfig } from '../config/model';
import { DEFAULT_REWARD } from '../config/reward';
import { DEFAULT_PAIRS } from '../config/run';
import type { Tokenizer } from '../data/tokenizer';
import { Rng } from '../math/rng';
import type { Gpt } from '../model/gpt';
import { crc32 } from '../model/io';
import { METHOD_NAMES, METHODS, type MethodName } from './methods/registry';
import { Run, type MethodConfigs, type RunValues } from './run';

export const CHECKPOINT_FORMAT = 'rlhf-playground-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** What CheckpointMeta.format says: the format and its version. */
export const CHECKPOINT_FORMAT_NAME = `${CHECKPOINT_FORMAT}/${CHECKPOINT_VERSION}`;
const FILES = { manifest: 'model.json', weights: 'weights.bin', run: 'run.json', vocab: 'vocab.json', labels: 'labels.jsonl' } as const;

/** What a checkpoint says about itself (issue 12's shared contract): the page stores it beside the bytes and lists it without reading them. */
export interface CheckpointMeta {
  /** When it was taken (ms since epoch). */
  createdAt: number;
  /** A, B and tie labels the reward model had learned. */
  labels: number;
  /** Steps of each method that has a trainer, and the reward model's ('reward'). */
  steps: Record<string, number>;
  /** Size of the file. */
  bytes: number;
  format: string;
}

/** A checkpoint that cannot be read or does not fit this model: the message names the problem. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** A checkpoint read and checked, before any tensor is made. */
export interface CheckpointFile {
  meta: CheckpointMeta;
  values: RunValues;
  /** The label log the file carries (an export: the page's labels; a periodic one: the run's). */
  labels: Label[];
  /** Numbers the worker's scheduler keeps beside the run (its report counters). */
  extra: Record<string, number>;
  tensors: Map<string, { shape: number[]; values: Float32Array }>;
}

// ---- schemas of the files (valibot) ----

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const finite = v.pipe(v.number(), v.finite());
const StateValuesSchema = v.record(v.string(), v.union([finite, v.array(finite)]));
const DemonstrationSchema = v.object({ prompt: v.string(), completion: v.string() });
/** An object with exactly the keys of `defaults`, each of the same type (numbers finite). */
function shapeOf(defaults: object) {
  return v.strictObject(Object.fromEntries(Object.entries(defaults).map(([k, x]) => [k, typeof x === 'number' ? finite : v.string()])));
}
const ManifestSchema = v.object({
  format: v.literal(CHECKPOINT_FORMAT),
  formatVersion: v.literal(CHECKPOINT_VERSION),
  config: v.object({ vocabSize: count, contextLength: count, dModel: count, nLayers: count, nHeads: count, maxNewTokens: count }),
  weightsManifest: v.tuple([v.object({ paths: v.tuple([v.literal(FILES.weights)]), weights: v.array(v.object({ name: v.string(), shape: v.array(count), dtype: v.literal('float32') })) })]),
  weightsCrc32: count,
  weightsBytes: count,
});
const RunFileSchema = v.object({
  format: v.literal(CHECKPOINT_FORMAT),
  formatVersion: v.literal(CHECKPOINT_VERSION),
  createdAt: finite,
  extra: v.record(v.string(), finite),
  run: v.object({
    seed: v.pipe(count, v.maxValue(0xffffffff)),
    settings: v.object({ reward: shapeOf(DEFAULT_REWARD), refitEvery: count, pairs: shapeOf(DEFAULT_PAIRS), methods: v.record(v.string(), v.record(v.string(), v.union([finite, v.string()]))) }),
    enabled: v.array(v.picklist(METHOD_NAMES)),
    labels: v.array(LabelSchema),
    demonstrations: v.array(DemonstrationSchema),
    labelVersion: count,
    refits: count,
    labelsSinceRefit: count,
    blindDraws: count,
    pairStream: v.pipe(count, v.maxValue(0xffffffff)),
    sampleStream: v.pipe(count, v.maxValue(0xffffffff)),
    normalisation: v.nullable(v.object({ prompts: v.array(v.string()), completions: v.array(v.string()) })),
    normStale: v.boolean(),
    ensemble: v.nullable(v.object({ round: count, members: v.array(v.array(finite)), scale: v.pipe(finite, v.gtValue(0)) })),
    rewardStream: v.string(),
    rewardModel: StateValuesSchema,
    methods: v.array(v.object({ name: v.picklist(METHOD_NAMES), stale: v.boolean(), stream: v.pipe(count, v.maxValue(0xffffffff)), labels: v.array(LabelSchema), demonstrations: v.array(DemonstrationSchema), values: StateValuesSchema })),
  }),
});

/** The first problem valibot found, as "field.path: message". */
function firstIssue(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  const path = v.getDotPath(issue);
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Each method's saved settings checked by its fields' rules (as the address is); missing ones take the default. */
function checkMethodConfigs(raw: Record<string, Record<string, number | string>>): MethodConfigs {
  const out = {} as MethodConfigs;
  for (const name of METHOD_NAMES) {
    const spec = METHODS[name];
    const config = { ...spec.defaults };
    for (const [key, value] of Object.entries(raw[name] ?? {})) {
      if (!(key in spec.defaults)) throw new CheckpointError(`run.json: ${spec.title} has no setting "${key}"`);
      const field = spec.fields.find((f) => f.key === key);
      if (field) {
        const parsed = checkField(field, String(value));
        if (!parsed.ok) throw new CheckpointError(`run.json: ${spec.title} ${field.label} "${value}": ${parsed.why}`);
        config[key] = parsed.value;
      } else if (typeof value === typeof spec.defaults[key]) config[key] = value;
      else throw new CheckpointError(`run.json: ${spec.title} setting "${key}" should be a ${typeof spec.defaults[key]}`);
    }
    out[name] = config;
  }
  for (const name of Object.keys(raw)) if (!METHOD_NAMES.includes(name as MethodName)) throw new CheckpointError(`run.json: unknown method "${name}"`);
  return out;
}

function describe(c: ModelConfig): string {
  return `${c.vocabSize} tokens, width ${c.dModel}, ${c.nLayers} layers, ${c.nHeads} heads, context ${c.contextLength}`;
}

// ---- writing ----

/**
 * The run's whole trained state as one file. `labels`: the label log to carry (an export sends
 * the page's); the run's own by default. `extra`: the scheduler's counters.
 */
export async function saveCheckpoint(run: Run, options: { labels?: readonly Label[]; extra?: Record<string, number>; now?: number } = {}): Promise<{ meta: CheckpointMeta; bytes: Uint8Array }> {
  const { values, variables } = run.saveState();
  const arrays = await Promise.all(variables.map(([, t]) => t.data() as Promise<Float32Array>));
  const weights = new Uint8Array(arrays.reduce((n, a) => n + a.byteLength, 0));
  let offset = 0;
  for (const a of arrays) {
    weights.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    offset += a.byteLength;
  }
  const manifest: v.InferOutput<typeof ManifestSchema> = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_VERSION,
    config: { ...run.base.config },
    weightsManifest: [{ paths: [FILES.weights], weights: variables.map(([name, t]) => ({ name, shape: [...t.shape], dtype: 'float32' as const })) }],
    weightsCrc32: crc32(weights),
    weightsBytes: weights.byteLength,
  };
  const createdAt = options.now ?? Date.now();
  const runFile = { format: CHECKPOINT_FORMAT, formatVersion: CHECKPOINT_VERSION, createdAt, extra: options.extra ?? {}, run: values };
  const labels = options.labels ?? values.labels;
  const bytes = zipSync(
    {
      [FILES.manifest]: strToU8(JSON.stringify(manifest)),
      [FILES.weights]: weights,
      [FILES.run]: strToU8(JSON.stringify(runFile)),
      [FILES.vocab]: strToU8(JSON.stringify(run.tokenizer.vocab)),
      [FILES.labels]: strToU8(labels.map((l) => JSON.stringify(l)).join('\n')),
    },
    { level: 0 },
  );
  return { meta: metaOf(values, createdAt, bytes.byteLength), bytes };
}

function metaOf(values: RunValues, createdAt: number, bytes: number): CheckpointMeta {
  const steps: Record<string, number> = { reward: typeof values.rewardModel.steps === 'number' ? values.rewardModel.steps : 0 };
  for (const m of values.methods) steps[m.name] = typeof m.values.steps === 'number' ? m.values.steps : typeof m.values.iteration === 'number' ? m.values.iteration : 0;
  return { createdAt, labels: values.labels.filter((l) => l.choice !== 'skip').length, steps, bytes, format: CHECKPOINT_FORMAT_NAME };
}

// ---- reading ----

function parseJson(files: Record<string, Uint8Array>, name: string): unknown {
  const file = files[name];
  if (!file) throw new CheckpointError(`the checkpoint has no ${name} (is it a checkpoint file of this page?)`);
  try {
    return JSON.parse(strFromU8(file));
  } catch {
    throw new CheckpointError(`${name} in the checkpoint is not valid JSON (the file is damaged)`);
  }
}

/**
 * Reads and checks a checkpoint for the model `expected` (its config and vocabulary). Makes no
 * tensor; throws CheckpointError naming the first problem.
 */
export function readCheckpoint(bytes: Uint8Array, expected: { config: ModelConfig; vocab: readonly string[] }): CheckpointFile {
  if (bytes.byteLength === 0) throw new CheckpointError('the checkpoint file is empty');
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new CheckpointError(`the checkpoint file is truncated or is not a checkpoint (${e instanceof Error ? e.message : String(e)})`);
  }
  const manifestParse = v.safeParse(ManifestSchema, parseJson(files, FILES.manifest));
  if (!manifestParse.success) throw new CheckpointError(`model.json does not describe a checkpoint of this page: ${firstIssue(manifestParse.issues)}`);
  const manifest = manifestParse.output;
  const config = manifest.config;
  const want = expected.config;
  if ((Object.keys(want) as (keyof ModelConfig)[]).some((k) => config[k] !== want[k])) {
    throw new CheckpointError(`the checkpoint is for another model size (${describe(config)}); this page's model has ${describe(want)}`);
  }
  const vocab = parseJson(files, FILES.vocab);
  if (!Array.isArray(vocab) || vocab.length !== expected.vocab.length || vocab.some((w, i) => w !== expected.vocab[i])) {
    const differ = Array.isArray(vocab) ? expected.vocab.filter((w, i) => vocab[i] !== w).length : expected.vocab.length;
    throw new CheckpointError(`the checkpoint is for another vocabulary (${Array.isArray(vocab) ? vocab.length : 0} words, ${differ} of this model's ${expected.vocab.length} differ or are missing)`);
  }
  const weights = files[FILES.weights];
  if (!weights) throw new CheckpointError('the checkpoint has no weights.bin');
  const entries = manifest.weightsManifest[0].weights;
  const needed = entries.reduce((n, e) => n + 4 * e.shape.reduce((a, b) => a * b, 1), 0);
  if (weights.byteLength !== needed || weights.byteLength !== manifest.weightsBytes) {
    throw new CheckpointError(`weights.bin has ${weights.byteLength} bytes; model.json needs ${needed} (the file is truncated or damaged)`);
  }
  const crc = crc32(weights);
  if (crc !== manifest.weightsCrc32) throw new CheckpointError(`the checkpoint's weights are corrupted: their CRC-32 is ${crc.toString(16)}, model.json says ${manifest.weightsCrc32.toString(16)}`);
  const runParse = v.safeParse(RunFileSchema, parseJson(files, FILES.run));
  if (!runParse.success) throw new CheckpointError(`run.json is malformed: ${firstIssue(runParse.issues)}`);
  const runFile = runParse.output;
  // The reward and pair settings have the defaults' keys and types (shapeOf); the method settings each field's rule.
  const settings = { ...runFile.run.settings, methods: checkMethodConfigs(runFile.run.settings.methods) } as unknown as RunValues['settings'];
  const values: RunValues = { ...runFile.run, settings };
  const labels: Label[] = [];
  const text = strFromU8(files[FILES.labels] ?? new Uint8Array());
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new CheckpointError(`labels.jsonl line ${i + 1}: not valid JSON`);
    }
    const parsed = v.safeParse(LabelSchema, raw);
    if (!parsed.success) throw new CheckpointError(`labels.jsonl line ${i + 1}: ${firstIssue(parsed.issues)}`);
    labels.push(parsed.output);
  });
  const aligned = new Float32Array(weights.slice().buffer); // a zip entry may start at any offset
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const e of entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const values = aligned.subarray(offset, offset + n);
    const bad = values.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new CheckpointError(`the checkpoint's weight "${e.name}" holds a non-finite value at index ${bad}`);
    if (tensors.has(e.name)) throw new CheckpointError(`model.json lists the weight "${e.name}" twice`);
    tensors.set(e.name, { shape: e.shape, values });
    offset += n;
  }
  return { meta: metaOf(values, runFile.createdAt, bytes.byteLength), values, labels, extra: runFile.extra, tensors };
}

/**
 * A new run that continues the checkpoint: made with its seed and settings on `base`, its values
 * set and every variable written. All or nothing: on any mismatch the new run is disposed and a
 * CheckpointError thrown, and no tensor is left behind.
 */
export function restoreCheckpoint(file: CheckpointFile, base: Gpt, tokenizer: Tokenizer): Run {
  const run = new Run(base, tokenizer, new Rng(file.values.seed), file.values.settings);
  try {
    run.restoreState(file.values, (variables) => {
      const names = new Set(variables.map(([n]) => n));
      const missing = variables.filter(([n]) => !file.tensors.has(n)).map(([n]) => n);
      const extra = [...file.tensors.keys()].filter((n) => !names.has(n));
      if (missing.length > 0 || extra.length > 0) {
        throw new CheckpointError(`the checkpoint's weights do not match its run (${[...missing.slice(0, 3).map((n) => `missing "${n}"`), ...extra.slice(0, 3).map((n) => `unexpected "${n}"`)].join(', ')})`);
      }
      for (const [name, variable] of variables) {
        const saved = file.tensors.get(name)!;
        if (saved.shape.length !== variable.shape.length || saved.shape.some((d, i) => d !== variable.shape[i])) {
          throw new CheckpointError(`the checkpoint's weight "${name}" has shape [${saved.shape}], the run needs [${variable.shape}]`);
        }
      }
      tf.tidy(() => {
        for (const [name, variable] of variables) {
          const saved = file.tensors.get(name)!;
          variable.assign(tf.tensor(saved.values, saved.shape, 'float32'));
        }
      });
    });
  } catch (e) {
    run.dispose();
    throw e instanceof CheckpointError ? e : new CheckpointError(`the checkpoint cannot be restored: ${e instanceof Error ? e.message : String(e)}`);
  }
  return run;
}
