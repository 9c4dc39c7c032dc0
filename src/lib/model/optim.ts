// AdamW (Loshchilov & Hutter 2019) with global-norm gradient clipping, written out so that every
// state tensor is owned and disposed here (tfjs-core's AdamOptimizer has no decoupled weight decay).
// Decay applies to matrices only (GPT-2/nanoGPT practice: not to biases or LayerNorm gains).
// The global norm is summed in JS from per-tensor squared norms: summing many scalars on device gave
// wrong values on webgpu and wasm here (reference/browser-facts.md); per-tensor norms were right.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; training needs them on every backend.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { ADAMW_KERNEL, hasAdamWKernel, type AdamWAttrs } from './kernels';
import type { ParamStore } from './params';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this value; 0 disables clipping. */
  clipNorm: number;
  /** Learning-rate multipliers by parameter name (e.g. a fresh head learning faster than the trunk); others 1. */
  lrScale: Readonly<Record<string, number>>;
}

export const DEFAULT_ADAMW: AdamWConfig = {
  lr: 3e-4, // Adam's usual rate for small transformers; PPO and the RM override it
  beta1: 0.9,
  beta2: 0.99, // nanoGPT's choice for small models: faster adaptation than 0.999
  eps: 1e-8,
  weightDecay: 0, // plain Adam unless a caller asks (the RM refit uses 0.1)
  clipNorm: 1, // prototypes clipped at 1.0
  lrScale: {}, // one rate for every parameter unless a caller asks
};

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;
  readonly config: AdamWConfig;

  /** `params`: the variables this optimizer updates; no others are touched. */
  constructor(private readonly params: ParamStore, config: Partial<AdamWConfig> = {}) {
    this.config = { ...DEFAULT_ADAMW, ...config };
    for (const [name, p] of params) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  get steps(): number {
    return this.t;
  }

  /** The moment variables and step count, to checkpoint and restore around risky steps. */
  stateVariables(): tf.Variable[] {
    return [...this.m.values(), ...this.v.values()];
  }

  /** The moments by a stable name (`m/<param>`, `v/<param>`): what a saved checkpoint holds of the optimizer, beside `steps`. */
  namedState(): [string, tf.Variable][] {
    return [...[...this.m].map(([n, t]): [string, tf.Variable] => [`m/${n}`, t]), ...[...this.v].map(([n, t]): [string, tf.Variable] => [`v/${n}`, t])];
  }

  /** Restores the step count (bias correction) together with stateVariables(). */
  set steps(t: number) {
    this.t = t;
  }

  /** Changes the learning rate used when step() is not given one. */
  setLearningRate(lr: number): void {
    this.config.lr = lr;
  }

  /**
   * One step on the loss returned by `lossFn` (called inside tidy). Returns the loss and gradient norm.
   * A non-finite loss or gradient norm skips the update and throws NonFiniteError: the weights are untouched.
   */
  async step(lossFn: () => tf.Scalar, lr = this.config.lr): Promise<StepResult> {
    const names = [...this.params.keys()];
    const vars = names.map((n) => this.params.get(n)!);
    const { value, grads } = tf.variableGrads(lossFn, vars);
    try {
      // A variable the loss does not touch has no gradient; like torch's AdamW, it is skipped.
      const used = names.map((_, i) => i).filter((i) => grads[vars[i].name] != null);
      const gradList = names.map((_, i) => grads[vars[i].name]);
      const sq = used.map((i) => tf.tidy(() => tf.sum(tf.square(gradList[i]))));
      const sqValues = await Promise.all(sq.map((s) => s.data()));
      tf.dispose(sq);
      const loss = (await value.data())[0];
      const gradNorm = Math.sqrt(sqValues.reduce((a, s) => a + s[0], 0));
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) throw new NonFiniteError(loss, gradNorm);
      const { clipNorm, beta1, beta2, eps, weightDecay, lrScale } = this.config;
      const scale = clipNorm > 0 && gradNorm > clipNorm ? clipNorm / gradNorm : 1;
      this.t += 1;
      const bc1 = 1 - beta1 ** this.t;
      const bc2 = 1 - beta2 ** this.t;
      const fused = hasAdamWKernel();
      tf.tidy(() => {
        used.forEach((i) => {
          const name = names[i];
          const p = vars[i];
          const m = this.m.get(name)!;
          const v = this.v.get(name)!;
          const attrs: AdamWAttrs = { lr: lr * (lrScale[name] ?? 1), beta1, beta2, eps, weightDecay: p.rank >= 2 ? weightDecay : 0, bc1, bc2, gradScale: scale };
          const next = (fused ? adamWKernel : adamWOps)(p, gradList[i], m, v, attrs);
          p.assign(next.p);
          m.assign(next.m);
          v.assign(next.v);
        });
      });
      return { loss, gradNorm };
    } finally {
      value.dispose();
      tf.dispose(Object.values(grads).filter((g) => g != null));
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

type AdamWNext = Record<'p' | 'm' | 'v', tf.Tensor>;

/**
 * One parameter's AdamW step op by op: the plain tfjs version, for backends without the fused
 * kernel (WebGPU, WebGL) and the reference its test compares the kernel with. Call inside tidy.
 */
export function adamWOps(p: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamWAttrs): AdamWNext {
  const g = a.gradScale === 1 ? grad : tf.mul(grad, a.gradScale);
  const mNext = tf.add(tf.mul(m, a.beta1), tf.mul(g, 1 - a.beta1));
  const vNext = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(g), 1 - a.beta2));
  let update = tf.div(tf.div(mNext, a.bc1), tf.add(tf.sqrt(tf.div(vNext, a.bc2)), a.eps));
  if (a.weightDecay > 0) update = tf.add(update, tf.mul(p, a.weightDecay));
  return { p: tf.sub(p, tf.mul(update, a.lr)), m: mNext, v: vNext };
}

/** The same step as one RlhfAdamW kernel call (kernels.ts): one pass over the buffers instead of ~14 kernels. */
export function adamWKernel(p: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamWAttrs): AdamWNext {
  const [pNext, mNext, vNext] = tf.engine().runKernel(ADAMW_KERNEL, { param: p, grad, m, v }, a as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { p: pNext, m: mNext, v: vNext };
}

/** A loss or gradient that is NaN or infinite: the step was not applied. */
export class NonFiniteError extends Error {
  constructor(readonly loss: number, readonly gradNorm: number) {
    super(`training step produced a non-finite value (loss ${loss}, gradient norm ${gradNorm}); the update was skipped`);
    this.name = 'NonFiniteError';
  }
}
