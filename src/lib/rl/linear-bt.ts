// A cheap Bradley-Terry ensemble on frozen features, used only to choose which pair to show next
// (prototype2: 5 bootstrap linear-BT members on summed base hidden states, disagreement selection
// reached 0.835 held-out RM accuracy at 50 labels against 0.786 for random pairs). Features are the
// base model's final hidden states summed over the completion; each member is an L2-regularised
// logistic regression on feature differences, fitted by Newton's method (64 dimensions: instant).
import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../data/tokenizer';
import type { Rng } from '../math/rng';
import { sigmoid } from '../math/stats';
import { forward, type Gpt } from '../model/gpt';
import type { ComparisonPair } from './preferences';
import { encodeBatch } from './sequences';

/** Members of the bootstrap ensemble (prototype2 used 5). */
export const LINEAR_BT_MEMBERS = 5;
/** L2 strength on standardised features (prototype2's cross-validation picked 0.3-3). */
export const LINEAR_BT_LAMBDA = 1;
const NEWTON_STEPS = 25;

/** Summed final hidden states over each completion: [n][d]. */
export async function completionFeatures(base: Gpt, tokenizer: Tokenizer, prompts: readonly string[], completions: readonly string[]): Promise<number[][]> {
  const enc = encodeBatch(tokenizer, prompts, completions);
  const { batch: B, width: W, promptWidth: P } = enc;
  const feats = tf.tidy(() => {
    const ids = tf.tensor2d(enc.ids, [B, W], 'int32');
    const { hidden } = forward(base, ids, { logitsFrom: null }); // (B, W, d)
    const mask = tf.cast(tf.notEqual(tf.slice(ids, [0, P], [B, W - P]), 0), 'float32'); // (B, N)
    return tf.sum(tf.mul(tf.slice(hidden, [0, P, 0], [B, W - P, -1]), tf.expandDims(mask, 2)), 1); // (B, d)
  });
  const data = await feats.data();
  feats.dispose();
  const d = base.config.dModel;
  return Array.from({ length: B }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)));
}

/** Solves A x = b for a small symmetric positive-definite A (Cholesky). */
function solveSpd(A: number[][], b: number[]): number[] {
  const n = b.length;
  const L = A.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i][j];
      for (let k = 0; k < j; k++) s -= L[i][k] * L[j][k];
      L[i][j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j][j];
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i][k] * y[k];
    y[i] = s / L[i][i];
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k][i] * x[k];
    x[i] = s / L[i][i];
  }
  return x;
}

/**
 * Weighted L2-regularised BT logistic regression on differences D (winner - loser):
 * minimises sum_i w_i softplus(-theta . D_i) + lambda/2 |theta|^2 by Newton's method.
 */
export function fitLinearBt(diffs: readonly number[][], weights: readonly number[], lambda = LINEAR_BT_LAMBDA): number[] {
  const d = diffs[0]?.length ?? 0;
  let theta = new Array<number>(d).fill(0);
  for (let it = 0; it < NEWTON_STEPS; it++) {
    const grad = theta.map((t) => lambda * t);
    const H = theta.map((_, i) => theta.map((__, j) => (i === j ? lambda : 0)));
    diffs.forEach((x, n) => {
      const z = x.reduce((a, v, i) => a + v * theta[i], 0);
      const p = sigmoid(z); // P(winner > loser)
      const g = -(1 - p) * weights[n];
      const h = p * (1 - p) * weights[n];
      for (let i = 0; i < d; i++) {
        grad[i] += g * x[i];
        for (let j = 0; j <= i; j++) H[i][j] += h * x[i] * x[j];
      }
    });
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) H[j][i] = H[i][j];
    const step = solveSpd(H, grad);
    theta = theta.map((t, i) => t - step[i]);
    if (Math.sqrt(step.reduce((a, s) => a + s * s, 0)) < 1e-8) break;
  }
  return theta;
}

/** A bootstrap ensemble of linear BT models over standardised features. */
export class LinearBtEnsemble {
  private constructor(private readonly members: number[][], private readonly scale: number) {}

  /** Fits `members` bootstrap resamples (member 0 on all pairs) from features of chosen/rejected. */
  static fit(chosen: readonly number[][], rejected: readonly number[][], weights: readonly number[], rng: Rng, members = LINEAR_BT_MEMBERS): LinearBtEnsemble {
    const diffs = chosen.map((c, i) => c.map((v, j) => v - rejected[i][j]));
    // One scale for all features (mean |difference|), as prototype2, so lambda means the same at any size.
    const scale = Math.max(1e-6, diffs.flat().reduce((a, v) => a + Math.abs(v), 0) / Math.max(1, diffs.flat().length));
    const scaled = diffs.map((x) => x.map((v) => v / scale));
    const thetas: number[][] = [];
    for (let m = 0; m < members; m++) {
      const idx = m === 0 ? scaled.map((_, i) => i) : scaled.map(() => rng.int(scaled.length));
      thetas.push(fitLinearBt(idx.map((i) => scaled[i]), idx.map((i) => weights[i])));
    }
    return new LinearBtEnsemble(thetas, scale);
  }

  /** Its plain numbers (a checkpoint saves them). */
  get state(): { members: number[][]; scale: number } {
    return { members: this.members.map((m) => m.slice()), scale: this.scale };
  }

  /** An ensemble from saved numbers, as it was fitted. */
  static fromState(state: { members: readonly (readonly number[])[]; scale: number }): LinearBtEnsemble {
    return new LinearBtEnsemble(state.members.map((m) => m.slice()), state.scale);
  }

  /** Member scores [item][member] of feature rows. */
  scores(features: readonly number[][]): number[][] {
    return features.map((f) => this.members.map((t) => t.reduce((a, w, i) => a + (w * f[i]) / this.scale, 0)));
  }
}

/** Fits the ensemble on comparison pairs using the base model's features. */
export async function fitPairEnsemble(base: Gpt, tokenizer: Tokenizer, pairs: readonly ComparisonPair[], rng: Rng): Promise<LinearBtEnsemble> {
  const prompts = pairs.map((p) => p.prompt);
  const chosen = await completionFeatures(base, tokenizer, prompts, pairs.map((p) => p.chosen));
  const rejected = await completionFeatures(base, tokenizer, prompts, pairs.map((p) => p.rejected));
  return LinearBtEnsemble.fit(chosen, rejected, pairs.map((p) => p.weight), rng);
}
