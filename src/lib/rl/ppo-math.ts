// The per-token arithmetic of one PPO iteration, on flat row-major arrays [B, N] (N completion
// tokens, mask 1 on real tokens): rewards with the KL penalty (TRL's `compute_rewards`), GAE,
// masked whitening, and the clipped policy and value losses as tensors. tests/unit/ppo-math.test.ts
// checks them against the plain nested-array references in src/lib/math/stats.ts and hand values.
import * as tf from '@tensorflow/tfjs-core';
import { KL_ESTIMATORS, WHITEN_EPS, type KlEstimator } from '../math/stats';

/** A [B, N] float array with its shape. */
export interface Grid {
  data: Float32Array;
  rows: number;
  cols: number;
}

export function grid(data: ArrayLike<number>, rows: number, cols: number): Grid {
  if (data.length !== rows * cols) throw new RangeError(`grid of ${rows}x${cols} needs ${rows * cols} values, got ${data.length}`);
  return { data: Float32Array.from(data), rows, cols };
}

/** [rows, cols] with 1 on each row's first lengths[row] entries (its real tokens) and 0 on the PAD after. */
export function lengthMask(lengths: readonly number[], cols: number): Grid {
  const data = new Float32Array(lengths.length * cols);
  lengths.forEach((n, r) => data.fill(1, r * cols, r * cols + Math.min(n, cols)));
  return { data, rows: lengths.length, cols };
}

/** Per-token KL estimates (0 on padding). */
export function tokenKl(logp: Grid, logpRef: Grid, mask: Grid, estimator: KlEstimator): Grid {
  const k = KL_ESTIMATORS[estimator];
  const out = new Float32Array(logp.data.length);
  for (let i = 0; i < out.length; i++) out[i] = mask.data[i] ? k(logp.data[i], logpRef.data[i]) : 0;
  return { data: out, rows: logp.rows, cols: logp.cols };
}

/** Index of each row's last real token (-1 for an empty row). */
export function lastTokenIndex(mask: Grid): Int32Array {
  const out = new Int32Array(mask.rows).fill(-1);
  for (let b = 0; b < mask.rows; b++) for (let t = 0; t < mask.cols; t++) if (mask.data[b * mask.cols + t]) out[b] = t;
  return out;
}

/**
 * 4. compute rewards: r_t = -beta * kl_t on every token, plus the sequence score at the last token.
 * Returns the per-token rewards and the non-score part (the KL penalty) per token.
 */
export function computeRewards(scores: ArrayLike<number>, kl: Grid, mask: Grid, beta: number): { rewards: Grid; nonScore: Grid } {
  const n = kl.data.length;
  const nonScore = new Float32Array(n);
  for (let i = 0; i < n; i++) nonScore[i] = mask.data[i] ? -beta * kl.data[i] : 0;
  const rewards = nonScore.slice();
  const last = lastTokenIndex(mask);
  for (let b = 0; b < kl.rows; b++) if (last[b] >= 0) rewards[b * kl.cols + last[b]] += scores[b];
  return { rewards: { data: rewards, rows: kl.rows, cols: kl.cols }, nonScore: { data: nonScore, rows: kl.rows, cols: kl.cols } };
}

/**
 * 6. compute advantages and returns (GAE, Schulman et al. 2016), backwards over each row:
 * delta_t = r_t + gamma V_{t+1} - V_t, A_t = delta_t + gamma lambda A_{t+1}, zero on padding;
 * V past the end is 0. returns = A + V are the critic's targets.
 */
export function gae(rewards: Grid, values: Grid, mask: Grid, gamma: number, lambda: number): { advantages: Grid; returns: Grid } {
  const { rows, cols } = rewards;
  const adv = new Float32Array(rows * cols);
  const ret = new Float32Array(rows * cols);
  for (let b = 0; b < rows; b++) {
    let running = 0;
    for (let t = cols - 1; t >= 0; t--) {
      const i = b * cols + t;
      const v = values.data[i] * mask.data[i];
      const next = t + 1 < cols ? values.data[i + 1] * mask.data[i + 1] : 0;
      running = (rewards.data[i] + gamma * next - v + gamma * lambda * running) * mask.data[i];
      adv[i] = running;
      ret[i] = running + v;
    }
  }
  return { advantages: { data: adv, rows, cols }, returns: { data: ret, rows, cols } };
}

/** Masked mean and unbiased variance (TRL's masked_mean / masked_var). */
export function maskedMoments(x: Grid, mask: Grid): { mean: number; variance: number } {
  let n = 0;
  let s = 0;
  for (let i = 0; i < x.data.length; i++) if (mask.data[i]) {
    n += mask.data[i];
    s += x.data[i] * mask.data[i];
  }
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < x.data.length; i++) if (mask.data[i]) ss += (x.data[i] - mean) ** 2 * mask.data[i];
  return { mean, variance: n > 1 ? ss / (n - 1) : 0 };
}

/** 5. whiten: (x - mean) / sqrt(var + eps) over masked entries, zero on padding. */
export function whiten(x: Grid, mask: Grid): Grid {
  const { mean, variance } = maskedMoments(x, mask);
  const scale = 1 / Math.sqrt(variance + WHITEN_EPS);
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = mask.data[i] ? (x.data[i] - mean) * scale : 0;
  return { data: out, rows: x.rows, cols: x.cols };
}

/** Masked mean of a tensor. Call inside tidy. */
export function maskedMeanT(x: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.mul(x, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/**
 * Clipped surrogate policy loss (Schulman et al. 2017; TRL's pg_losses): mean over tokens of
 * max(-A r, -A clip(r, 1 - eps, 1 + eps)) with r = exp(logp - logpOld). Also returns the clip
 * fraction and approximate KL 0.5 E[(logp - logpOld)^2], as TRL reports them. Call inside tidy.
 */
export function policyLoss(logp: tf.Tensor, logpOld: tf.Tensor, advantages: tf.Tensor, mask: tf.Tensor, clipRange: number) {
  const logRatio = tf.sub(logp, logpOld);
  const ratio = tf.exp(logRatio);
  const unclipped = tf.mul(tf.neg(advantages), ratio);
  const clipped = tf.mul(tf.neg(advantages), tf.clipByValue(ratio, 1 - clipRange, 1 + clipRange));
  const loss = maskedMeanT(tf.maximum(unclipped, clipped), mask);
  const clipfrac = maskedMeanT(tf.cast(tf.greater(clipped, unclipped), 'float32'), mask);
  const approxKl = maskedMeanT(tf.mul(0.5, tf.square(logRatio)), mask);
  const meanRatio = maskedMeanT(ratio, mask);
  return { loss, clipfrac, approxKl, meanRatio };
}

/**
 * Clipped value loss (TRL's vf_losses): 0.5 * mean max((V - R)^2, (clip(V, V_old +- eps) - R)^2),
 * with the share of tokens where the clipped term is larger. Call inside tidy.
 */
export function valueLoss(values: tf.Tensor, valuesOld: tf.Tensor, returns: tf.Tensor, mask: tf.Tensor, clipRangeValue: number) {
  const clippedValues = tf.add(valuesOld, tf.clipByValue(tf.sub(values, valuesOld), -clipRangeValue, clipRangeValue));
  const l1 = tf.square(tf.sub(values, returns));
  const l2 = tf.square(tf.sub(clippedValues, returns));
  const loss = tf.mul(0.5, maskedMeanT(tf.maximum(l1, l2), mask)) as tf.Scalar;
  const clipfrac = maskedMeanT(tf.cast(tf.greater(l2, l1), 'float32'), mask);
  return { loss, clipfrac };
}

/**
 * Adaptive KL controller (Ziegler et al. 2019, TRL's AdaptiveKLController with prototype2's fast
 * horizon counted in iterations): beta *= 1 + clip(KL / target - 1, -0.2, 0.2) / horizon.
 */
export function adaptKlCoef(beta: number, klPerSequence: number, target: number, horizon: number): number {
  const error = Math.max(-0.2, Math.min(0.2, klPerSequence / target - 1));
  return beta * (1 + error / horizon);
}

/** Iterations averaged by the early-stop guard (prototype2). */
export const KL_GUARD_WINDOW = 3;

/** Why training should stop: the mean KL per sequence of the last KL_GUARD_WINDOW iterations is above `klStop`. */
export function klGuard(klHistory: readonly number[], klStop: number): string | undefined {
  const recent = klHistory.slice(-KL_GUARD_WINDOW);
  if (recent.length < KL_GUARD_WINDOW) return undefined;
  const m = recent.reduce((a, b) => a + b, 0) / recent.length;
  return m > klStop ? `KL guard: mean KL of the last ${KL_GUARD_WINDOW} iterations is ${m.toFixed(1)} nats, above the limit of ${klStop}` : undefined;
}
