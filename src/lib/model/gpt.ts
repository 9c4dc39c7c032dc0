// The GPT forward pass in tfjs core ops, after nanoGPT's model.py: pre-LayerNorm blocks, causal
// multi-head self-attention, a GELU MLP, learned positions. Sequences are left-padded with PAD:
// PAD keys are masked out of attention and positions count real tokens only (as in prototype2's
// gptv.py), so a padded prompt gives the same logits as the unpadded one.
// Embeddings gather rows with a scatter of their own as gradient where kernels.ts has it (WASM,
// CPU); elsewhere they are one-hot matmuls: tf.gather's own gradient needs UnsortedSegmentSum,
// which the wasm backend lacks (reference/browser-facts.md). On WASM and CPU, layer norm, AdamW
// and several copies run as kernels.ts's kernels too; WebGPU and WebGL run tfjs's ops.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config/model';
import { PAD_ID } from '../data/tokenizer';
import { hasLayerNormKernel, hasScatterRowsKernel, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, SCATTER_ROWS_KERNEL } from './kernels';
import { createParams, gptParamSpecs, param, type ParamStore } from './params';
import type { Rng } from '../math/rng';

export interface Gpt {
  config: ModelConfig;
  params: ParamStore;
}

/** Per-layer attention keys and values, each [B, nHeads, T, headSize], plus which cached positions hold real tokens. */
export interface KvCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  /** [B, T] 1 for real tokens, 0 for PAD. */
  real: tf.Tensor2D;
}

const LN_EPS = 1e-5;
const MASKED = -1e9; // added to attention scores of masked keys

/** x @ w + b over the last axis, for x of any rank; the bias is added inside the product's kernel. */
function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1];
  const y = tf.fused.matMul({ a: tf.reshape(x, [-1, inDim]) as tf.Tensor2D, b: w as tf.Tensor2D, bias: b });
  return tf.reshape(y, [...shape.slice(0, -1), w.shape[1]!]);
}

/** Layer norm over the last axis, op by op: the plain tfjs version (WebGPU, WebGL, and the fused kernel's test). */
export function layerNormOps(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, LN_EPS))), g), b);
}

/**
 * The same layer norm as one kernel forward and one backward (kernels.ts), where the backend has
 * them (WASM, CPU): ~9 kernels forward and ~20 backward otherwise, among them reductions over the
 * batch that WASM transposes first.
 */
export const layerNormFused = tf.customGrad((...args: (tf.Tensor | ((saved: tf.Tensor[]) => void))[]) => {
  const [x, g, b] = args as tf.Tensor[];
  const save = args[3] as (saved: tf.Tensor[]) => void;
  const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM_KERNEL, { x, g, b }, { eps: LN_EPS }) as tf.Tensor[];
  save([x, g, mean, rstd]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, sg, smean, srstd] = saved;
      return tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, { dy: dy as tf.Tensor, x: sx, g: sg, mean: smean, rstd: srstd }, {}) as tf.Tensor[];
    },
  };
}) as (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return hasLayerNormKernel() ? layerNormFused(x, g, b) : layerNormOps(x, g, b);
}

const GELU_2C = 2 * Math.sqrt(2 / Math.PI);
/**
 * GELU, tanh approximation (GPT-2): 0.5·x·(1 + tanh(c·(x + 0.044715·x³))), written with the
 * identity 0.5·(1 + tanh(z)) = sigmoid(2z) and x³ as x·x·x. The same function in fewer kernels:
 * on WASM, tfjs's Pow and Tanh are scalar loops (4.4 and 2 ms on a [960, 256] activation) where
 * Multiply and Sigmoid are vectorised.
 */
function gelu(x: tf.Tensor): tf.Tensor {
  const cube = tf.mul(tf.mul(x, x), x);
  return tf.mul(x, tf.sigmoid(tf.mul(GELU_2C, tf.add(x, tf.mul(0.044715, cube)))));
}

/**
 * One-hot rows as float32. tfjs-backend-wasm 4.22 ignores oneHot's dtype argument and writes int32
 * bits into a float tensor (values ~1e-45), so build int32 and cast.
 */
export function oneHotFloat(ids: tf.Tensor, depth: number): tf.Tensor {
  return tf.cast(tf.oneHot(ids as tf.Tensor2D, depth), 'float32');
}

/** Token + position embeddings. ids [B, T] int32, positions [B, T] int32 -> [B, T, d]. */
function embed(model: Gpt, ids: tf.Tensor2D, positions: tf.Tensor2D): tf.Tensor3D {
  const tok = tableRows(param(model.params, 'wte'), ids); // (B, T, d)
  const pos = tableRows(param(model.params, 'wpe'), positions); // (B, T, d)
  return tf.add(tok, pos) as tf.Tensor3D;
}

/**
 * Rows of `table` [n, d] at int32 `ids` [B, T] -> [B, T, d]. Where the backend has the row scatter
 * (WASM, CPU: kernels.ts) a gather whose gradient scatters dy back into the rows; elsewhere a
 * one-hot product. The product costs a [B·T, n]·[n, d] multiply forward and two backward (tfjs
 * also differentiates the one-hot input), as much as an MLP layer for the token table.
 */
export function tableRows(table: tf.Tensor, ids: tf.Tensor2D): tf.Tensor3D {
  const [B, T] = ids.shape;
  const [n, d] = table.shape;
  if (!hasScatterRowsKernel()) return linear(oneHotFloat(ids, n), table) as tf.Tensor3D;
  const flat = tf.reshape(ids, [B * T]);
  const rows = tf.customGrad((w) => ({
    value: tf.gather(w as tf.Tensor, flat),
    gradFunc: (dy) => tf.engine().runKernel(SCATTER_ROWS_KERNEL, { dy: dy as tf.Tensor, ids: flat }, { rows: n }) as tf.Tensor,
  }))(table);
  return tf.reshape(rows, [B, T, d]);
}

/** One pre-LN block. x [B, Tq, d]; mask [B, 1, Tq, Tk] additive; past keys/values [B, h, Tp, hs]. */
function block(
  model: Gpt,
  layer: number,
  x: tf.Tensor3D,
  mask: tf.Tensor,
  past?: { k: tf.Tensor4D; v: tf.Tensor4D },
): { x: tf.Tensor3D; k: tf.Tensor4D; v: tf.Tensor4D } {
  const p = (n: string) => param(model.params, `h.${layer}.${n}`);
  const { dModel: d, nHeads: h } = model.config;
  const hs = d / h;
  const [B, Tq] = x.shape;

  const qkv = linear(layerNorm(x, p('ln_1.weight'), p('ln_1.bias')), p('attn.c_attn.weight'), p('attn.c_attn.bias')); // (B, Tq, 3d)
  // Split into q, k, v by a 3-D transpose and an unstack along the leading axis, whose slices are
  // contiguous copies (kernels.ts reads them in place on WASM): tf.split on the last axis cost
  // 3 ms here and its gradient's concat as much. WASM has fast transposes up to 4-D only.
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, Tq, h, hs]), [0, 2, 1, 3]) as tf.Tensor4D; // (B, h, Tq, hs)
  const [q, kNew, vNew] = tf.unstack(tf.transpose(tf.reshape(qkv, [B * Tq, 3, d]), [1, 0, 2])).map(heads); // (3, B*Tq, d) -> 3 x (B, h, Tq, hs)
  const k = past ? (tf.concat([past.k, kNew], 2) as tf.Tensor4D) : kNew; // (B, h, Tk, hs)
  const v = past ? (tf.concat([past.v, vNew], 2) as tf.Tensor4D) : vNew; // (B, h, Tk, hs)
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)), mask); // (B, h, Tq, Tk)
  const att = tf.matMul(tf.softmax(scores, -1), v); // (B, h, Tq, hs)
  const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B, Tq, d]); // (B, Tq, d)
  const x1 = tf.add(x, linear(merged, p('attn.c_proj.weight'), p('attn.c_proj.bias'))); // (B, Tq, d)

  const hidden = gelu(linear(layerNorm(x1, p('ln_2.weight'), p('ln_2.bias')), p('mlp.c_fc.weight'), p('mlp.c_fc.bias'))); // (B, Tq, 4d)
  const x2 = tf.add(x1, linear(hidden, p('mlp.c_proj.weight'), p('mlp.c_proj.bias'))) as tf.Tensor3D; // (B, Tq, d)
  return { x: x2, k, v };
}

/** Which positions hold real tokens: [B, T] float 1/0. */
export function realMask(ids: tf.Tensor2D): tf.Tensor2D {
  return tf.cast(tf.notEqual(ids, PAD_ID), 'float32') as tf.Tensor2D;
}

/** Position of each token among the real tokens of its row (PAD counts nothing): [B, T] int32. */
function positionsOf(real: tf.Tensor2D): tf.Tensor2D {
  return tf.cast(tf.relu(tf.sub(tf.cumsum(real, 1), 1)), 'int32') as tf.Tensor2D;
}

export interface ForwardResult {
  /** Final hidden states after ln_f, [B, T, d]: the input of the LM head and of scalar heads. */
  hidden: tf.Tensor3D;
  /** Next-token logits [B, T - logitsFrom, V] of positions logitsFrom..T-1; null when `logitsFrom` was null. */
  logits: tf.Tensor3D | null;
  /** Keys/values for incremental decoding; only when `withCache` was asked. */
  cache?: KvCache;
}

export interface ForwardOptions {
  /** Keep the keys and values for incremental decoding. */
  withCache?: boolean;
  /**
   * The first position whose next-token logits are computed (default 0: all); null: none. The LM
   * head is a [d, V] product per position: scalar heads need none of it, completion scores only
   * the positions after the prompt.
   */
  logitsFrom?: number | null;
}

/**
 * Full forward over ids [B, T] (left-padded). A query sees earlier real tokens and itself.
 * Call inside tf.tidy; keep the cache's tensors with tf.keep if they must outlive it.
 */
export function forward(model: Gpt, ids: tf.Tensor2D, { withCache = false, logitsFrom = 0 }: ForwardOptions = {}): ForwardResult {
  const [B, T] = ids.shape;
  if (T > model.config.contextLength) throw new RangeError(`sequence of ${T} tokens exceeds the context of ${model.config.contextLength}`);
  const real = realMask(ids); // (B, T)
  const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // (T, T) lower triangle
  const eye = tf.eye(T);
  const allowed = tf.maximum(tf.mul(causal, tf.reshape(real, [B, 1, T])), eye); // (B, T, T)
  const mask = tf.reshape(tf.mul(tf.sub(1, allowed), MASKED), [B, 1, T, T]); // (B, 1, T, T)

  let x = embed(model, ids, positionsOf(real)); // (B, T, d)
  const keys: tf.Tensor4D[] = [];
  const values: tf.Tensor4D[] = [];
  for (let i = 0; i < model.config.nLayers; i++) {
    const out = block(model, i, x, mask);
    x = out.x;
    keys.push(out.k);
    values.push(out.v);
  }
  const hidden = layerNorm(x, param(model.params, 'ln_f.weight'), param(model.params, 'ln_f.bias')) as tf.Tensor3D; // (B, T, d)
  const headInput = logitsFrom ? tf.slice(hidden, [0, logitsFrom, 0], [B, T - logitsFrom, -1]) : hidden; // (B, T - logitsFrom, d)
  const logits = logitsFrom === null ? null : (linear(headInput, param(model.params, 'lm_head.weight')) as tf.Tensor3D); // (B, T - logitsFrom, V)
  return { hidden, logits, cache: withCache ? { keys, values, real } : undefined };
}

/**
 * One decoding step with a KV cache: ids [B, 1] are the newest tokens. Returns logits [B, V] for
 * the next token and the extended cache. Call inside tf.tidy.
 */
export function forwardStep(model: Gpt, ids: tf.Tensor2D, cache: KvCache): { logits: tf.Tensor2D; cache: KvCache } {
  const [B] = ids.shape;
  const real = tf.concat([cache.real, realMask(ids)], 1) as tf.Tensor2D; // (B, Tk)
  const Tk = real.shape[1];
  if (Tk > model.config.contextLength) throw new RangeError(`sequence of ${Tk} tokens exceeds the context of ${model.config.contextLength}`);
  const position = tf.cast(tf.relu(tf.sub(tf.sum(real, 1, true), 1)), 'int32') as tf.Tensor2D; // (B, 1)
  // The newest token always sees itself, even when it is PAD (a finished row).
  const allowed = tf.concat([cache.real, tf.ones([B, 1])], 1); // (B, Tk)
  const mask = tf.reshape(tf.mul(tf.sub(1, allowed), MASKED), [B, 1, 1, Tk]); // (B, 1, 1, Tk)

  let x = embed(model, ids, position); // (B, 1, d)
  const keys: tf.Tensor4D[] = [];
  const values: tf.Tensor4D[] = [];
  for (let i = 0; i < model.config.nLayers; i++) {
    const out = block(model, i, x, mask, { k: cache.keys[i], v: cache.values[i] });
    x = out.x;
    keys.push(out.k);
    values.push(out.v);
  }
  const hidden = layerNorm(x, param(model.params, 'ln_f.weight'), param(model.params, 'ln_f.bias')); // (B, 1, d)
  const logits = tf.reshape(linear(hidden, param(model.params, 'lm_head.weight')), [B, model.config.vocabSize]) as tf.Tensor2D; // (B, V)
  return { logits, cache: { keys, values, real } };
}

export function disposeCache(cache: KvCache): void {
  tf.dispose([...cache.keys, ...cache.values, cache.real]);
}

/** A freshly initialised GPT whose weights come from `rng` (see params.ts). */
export function createGpt(config: ModelConfig, rng: Rng, prefix = 'gpt'): Gpt {
  return { config, params: createParams(gptParamSpecs(config), config.nLayers, rng, prefix) };
}
