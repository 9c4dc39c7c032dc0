// Language-model quantities built on the forward pass: the next-token loss for pretraining and the
// per-token log-probabilities of given completions (PPO and DPO need them, TRL's `logprobs_from_logits`).
// Target picking uses a one-hot product, not gather, so every backend has the gradient.
import * as tf from '@tensorflow/tfjs-core';
import { forward, oneHotFloat, type Gpt } from './gpt';
import { PAD_ID } from '../data/tokenizer';

/** log p(ids[:, t+1] | ids[:, <= t]) for t < T-1, with logits divided by `temperature`: [B, T-1]. Call inside tidy. */
export function tokenLogProbs(model: Gpt, ids: tf.Tensor2D, temperature = 1): tf.Tensor2D {
  return tokenStats(model, ids, temperature, false).logp;
}

/**
 * Log-probs of tokens from..T-1 given their prefixes and, with `withEntropy`, the entropy of each of
 * those next-token distributions: [B, T-from] each. Only those positions go through the LM head.
 */
function tokenStats(model: Gpt, ids: tf.Tensor2D, temperature: number, withEntropy: boolean, from = 1): { logp: tf.Tensor2D; entropy?: tf.Tensor2D } {
  const [B, T] = ids.shape;
  const inputs = tf.slice(ids, [0, 0], [B, T - 1]); // (B, T-1)
  const targets = tf.slice(ids, [0, from], [B, T - from]); // (B, T-from)
  const logits = forward(model, inputs, { logitsFrom: from - 1 }).logits!; // (B, T-from, V)
  const scaled = temperature === 1 ? logits : tf.div(logits, temperature);
  const logp = tf.logSoftmax(scaled, -1); // (B, T-from, V)
  const picked = tf.sum(tf.mul(logp, oneHotFloat(targets, model.config.vocabSize)), -1) as tf.Tensor2D; // (B, T-from)
  const entropy = withEntropy ? (tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1)) as tf.Tensor2D) : undefined; // (B, T-from)
  return { logp: picked, entropy };
}

/** Mean next-token cross-entropy (nats/token) of windows [B, T+1], skipping PAD targets. Call inside tidy. */
export function lmLoss(model: Gpt, windows: tf.Tensor2D): tf.Scalar {
  const [B, T1] = windows.shape;
  const targets = tf.slice(windows, [0, 1], [B, T1 - 1]);
  const weight = tf.cast(tf.notEqual(targets, PAD_ID), 'float32'); // (B, T)
  const logp = tokenLogProbs(model, windows); // (B, T)
  return tf.neg(tf.div(tf.sum(tf.mul(logp, weight)), tf.maximum(tf.sum(weight), 1))) as tf.Scalar;
}

/**
 * Sum of log-probabilities of each row's completion. `ids` [B, P + N] holds left-padded prompts of
 * width P followed by completions right-padded with PAD; PAD completion tokens are masked out.
 * Returns per-token log-probs [B, N] (0 on PAD) for PPO and their sum [B] for DPO; with
 * `withEntropy`, the policy's entropy at each completion position. Call inside tidy.
 */
export function completionLogProbs(
  model: Gpt,
  ids: tf.Tensor2D,
  promptWidth: number,
  temperature = 1,
  withEntropy = false,
): { perToken: tf.Tensor2D; total: tf.Tensor1D; mask: tf.Tensor2D; entropy?: tf.Tensor2D } {
  const [B, T] = ids.shape;
  const N = T - promptWidth;
  const stats = tokenStats(model, ids, temperature, withEntropy, promptWidth); // entry j scores completion token j
  const completion = tf.slice(ids, [0, promptWidth], [B, N]);
  const mask = tf.cast(tf.notEqual(completion, PAD_ID), 'float32') as tf.Tensor2D; // (B, N)
  const perToken = tf.mul(stats.logp, mask) as tf.Tensor2D;
  const entropy = stats.entropy ? (tf.mul(stats.entropy, mask) as tf.Tensor2D) : undefined;
  return { perToken, total: tf.sum(perToken, 1) as tf.Tensor1D, mask, entropy };
}
