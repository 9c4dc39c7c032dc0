// Scalar heads on the GPT trunk: the reward model's per-token score and the PPO critic's value.
// A head is two more named parameters beside the trunk's (`score.weight` [d, 1], `score.bias` [1]),
// initialised to zero so that a fresh head scores everything 0 (prototype2's `scalar` layer).
import * as tf from '@tensorflow/tfjs-core';
import { PAD_ID } from '../data/tokenizer';
import { forward, type Gpt } from './gpt';
import { cloneParams, param, uniqueName } from './params';

export const HEAD_WEIGHT = 'score.weight';
export const HEAD_BIAS = 'score.bias';

/** A copy of `model` (trunk and any head) under new variables. */
export function cloneGpt(model: Gpt, prefix: string, trainable = true): Gpt {
  return { config: model.config, params: cloneParams(model.params, prefix, trainable) };
}

/** Adds a zero-initialised scalar head to `model` if it has none. */
export function ensureScalarHead(model: Gpt, prefix: string): void {
  if (model.params.has(HEAD_WEIGHT)) return;
  const d = model.config.dModel;
  model.params.set(HEAD_WEIGHT, tf.tidy(() => tf.variable(tf.zeros([d, 1]), true, uniqueName(prefix, HEAD_WEIGHT))));
  model.params.set(HEAD_BIAS, tf.tidy(() => tf.variable(tf.zeros([1]), true, uniqueName(prefix, HEAD_BIAS))));
}

/** The head's scalar at every position of ids [B, T]: [B, T]. Call inside tidy. */
export function tokenScalars(model: Gpt, ids: tf.Tensor2D): tf.Tensor2D {
  const [B, T] = ids.shape;
  const { hidden } = forward(model, ids, { logitsFrom: null }); // (B, T, d)
  const flat = tf.matMul(tf.reshape(hidden, [B * T, model.config.dModel]), param(model.params, HEAD_WEIGHT) as tf.Tensor2D); // (B*T, 1)
  return tf.reshape(tf.add(flat, param(model.params, HEAD_BIAS)), [B, T]) as tf.Tensor2D;
}

/**
 * Reward: the sum of per-token scalars over each row's completion tokens (positions promptWidth..,
 * PAD masked), as prototype2's sum-pooled reward model. ids [B, P + N] -> [B]. Call inside tidy.
 */
export function completionScore(model: Gpt, ids: tf.Tensor2D, promptWidth: number): tf.Tensor1D {
  const [B, T] = ids.shape;
  const N = T - promptWidth;
  const s = tf.slice(tokenScalars(model, ids), [0, promptWidth], [B, N]); // (B, N)
  const mask = tf.cast(tf.notEqual(tf.slice(ids, [0, promptWidth], [B, N]), PAD_ID), 'float32');
  return tf.sum(tf.mul(s, mask), 1) as tf.Tensor1D;
}

/**
 * Critic values V(s_t) for each completion token t: the scalar at the position *before* token t
 * (the state from which it is generated), [B, N], PAD masked. Call inside tidy.
 */
export function completionValues(model: Gpt, ids: tf.Tensor2D, promptWidth: number): tf.Tensor2D {
  const [B, T] = ids.shape;
  const N = T - promptWidth;
  const inputs = tf.slice(ids, [0, 0], [B, T - 1]);
  const v = tf.slice(tokenScalars(model, inputs), [0, promptWidth - 1], [B, N]); // (B, N)
  const mask = tf.cast(tf.notEqual(tf.slice(ids, [0, promptWidth], [B, N]), PAD_ID), 'float32');
  return tf.mul(v, mask) as tf.Tensor2D;
}
