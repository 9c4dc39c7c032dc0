// Parameters held by name (nanoGPT/GPT-2 names), never by position, so heads can be added and
// weights saved, loaded and compared by name. Initialisation follows GPT-2: N(0, 0.02), residual
// projections scaled by 1/sqrt(2 * nLayers), LayerNorm gain 1 and bias 0. Draws come from the
// run's seeded Rng, so the same seed gives the same weights on every backend.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config/model';
import type { Rng } from '../math/rng';

export type ParamStore = Map<string, tf.Variable>;

export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'residual' | 'zeros' | 'ones';
}

/** Every parameter of the GPT, in a stable order (the order of the weights file). */
export function gptParamSpecs(cfg: ModelConfig): ParamSpec[] {
  const d = cfg.dModel;
  const specs: ParamSpec[] = [
    { name: 'wte', shape: [cfg.vocabSize, d], init: 'normal' },
    { name: 'wpe', shape: [cfg.contextLength, d], init: 'normal' },
  ];
  for (let i = 0; i < cfg.nLayers; i++) {
    const h = `h.${i}`;
    specs.push(
      { name: `${h}.ln_1.weight`, shape: [d], init: 'ones' },
      { name: `${h}.ln_1.bias`, shape: [d], init: 'zeros' },
      { name: `${h}.attn.c_attn.weight`, shape: [d, 3 * d], init: 'normal' },
      { name: `${h}.attn.c_attn.bias`, shape: [3 * d], init: 'zeros' },
      { name: `${h}.attn.c_proj.weight`, shape: [d, d], init: 'residual' },
      { name: `${h}.attn.c_proj.bias`, shape: [d], init: 'zeros' },
      { name: `${h}.ln_2.weight`, shape: [d], init: 'ones' },
      { name: `${h}.ln_2.bias`, shape: [d], init: 'zeros' },
      { name: `${h}.mlp.c_fc.weight`, shape: [d, 4 * d], init: 'normal' },
      { name: `${h}.mlp.c_fc.bias`, shape: [4 * d], init: 'zeros' },
      { name: `${h}.mlp.c_proj.weight`, shape: [4 * d, d], init: 'residual' },
      { name: `${h}.mlp.c_proj.bias`, shape: [d], init: 'zeros' },
    );
  }
  specs.push(
    { name: 'ln_f.weight', shape: [d], init: 'ones' },
    { name: 'ln_f.bias', shape: [d], init: 'zeros' },
    { name: 'lm_head.weight', shape: [d, cfg.vocabSize], init: 'normal' },
  );
  return specs;
}

const INIT_STD = 0.02; // GPT-2's initialiser

/** Values for one parameter, drawn from `rng`. */
export function initialValues(spec: ParamSpec, nLayers: number, rng: Rng): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (spec.init === 'ones') out.fill(1);
  if (spec.init === 'normal' || spec.init === 'residual') {
    const std = spec.init === 'residual' ? INIT_STD / Math.sqrt(2 * nLayers) : INIT_STD;
    for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  }
  return out;
}

/** Fresh trainable variables for `specs`. `prefix` keeps tfjs variable names unique per model copy. */
export function createParams(specs: ParamSpec[], nLayers: number, rng: Rng, prefix: string): ParamStore {
  const store: ParamStore = new Map();
  for (const spec of specs) {
    const values = initialValues(spec, nLayers, rng.fork(spec.name));
    // tidy disposes the temporary tensor; variables survive it.
    store.set(spec.name, tf.tidy(() => tf.variable(tf.tensor(values, spec.shape, 'float32'), true, uniqueName(prefix, spec.name))));
  }
  return store;
}

let copies = 0;
/** tfjs registers variables by name globally; every model copy gets its own prefix. */
export function uniqueName(prefix: string, name: string): string {
  return `${prefix}#${copies++}/${name}`;
}

/** A deep copy of `store` (for example the frozen reference model). */
export function cloneParams(store: ParamStore, prefix: string, trainable = true): ParamStore {
  const out: ParamStore = new Map();
  for (const [name, v] of store) out.set(name, tf.variable(v, trainable, uniqueName(prefix, name)));
  return out;
}

export function disposeParams(store: ParamStore): void {
  for (const v of store.values()) v.dispose();
  store.clear();
}

export function countParams(store: ParamStore): number {
  let n = 0;
  for (const v of store.values()) n += v.size;
  return n;
}

/** A parameter by name; throws a clear error if a model file or head is missing it. */
export function param(store: ParamStore, name: string): tf.Variable {
  const v = store.get(name);
  if (!v) throw new Error(`missing parameter "${name}"`);
  return v;
}
