import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { gaeReference, klK1, klK3, maskedWhiten } from '../../src/lib/math/stats';
import { adaptKlCoef, computeRewards, gae, grid, policyLoss, tokenKl, valueLoss, whiten } from '../../src/lib/rl/ppo-math';
import { Rng } from '../../src/lib/math/rng';

function randomGrid(rng: Rng, rows: number, cols: number) {
  return grid(Array.from({ length: rows * cols }, () => rng.normal()), rows, cols);
}
function maskGrid(lengths: number[], cols: number) {
  return grid(lengths.flatMap((n) => Array.from({ length: cols }, (_, t) => (t < n ? 1 : 0))), lengths.length, cols);
}
const nested = (g: { data: Float32Array; rows: number; cols: number }) => Array.from({ length: g.rows }, (_, b) => Array.from(g.data.subarray(b * g.cols, (b + 1) * g.cols)));

describe('PPO per-token math', () => {
  const rng = new Rng(42);
  const rewards = randomGrid(rng, 5, 7);
  const values = randomGrid(rng, 5, 7);
  const mask = maskGrid([7, 3, 1, 5, 6], 7);

  it('GAE matches the plain-array reference', () => {
    for (const [gamma, lambda] of [[1, 0.95], [0.9, 0.5], [1, 1], [1, 0]]) {
      const ours = gae(rewards, values, mask, gamma, lambda);
      const ref = gaeReference(nested(rewards), nested(values), nested(mask), gamma, lambda);
      nested(ours.advantages).forEach((row, b) => row.forEach((x, t) => expect(x).toBeCloseTo(ref.advantages[b][t], 5)));
      nested(ours.returns).forEach((row, b) => row.forEach((x, t) => expect(x).toBeCloseTo(ref.returns[b][t], 5)));
    }
  });

  it('GAE with lambda 1 and gamma 1 gives reward-to-go minus value', () => {
    const r = grid([0, 0, 1], 1, 3);
    const v = grid([0.5, 0.2, 0.1], 1, 3);
    const { advantages, returns } = gae(r, v, grid([1, 1, 1], 1, 3), 1, 1);
    expect(Array.from(advantages.data)).toEqual([0.5, 0.8, 0.9].map((x) => Math.fround(x)));
    expect(Array.from(returns.data)).toEqual([1, 1, 1]);
  });

  it('whitening matches the reference on masked entries and zeroes padding', () => {
    const ours = nested(whiten(rewards, mask));
    const ref = maskedWhiten(nested(rewards), nested(mask));
    ours.forEach((row, b) => row.forEach((x, t) => expect(x).toBeCloseTo(nested(mask)[b][t] ? ref[b][t] : 0, 5)));
  });

  it('KL estimators and rewards: penalty on every token, score at the last', () => {
    const lp = grid([-1, -2, -0.5, 0], 1, 4);
    const lpRef = grid([-1.5, -1, -0.5, 0], 1, 4);
    const m = grid([1, 1, 1, 0], 1, 4);
    const k1 = tokenKl(lp, lpRef, m, 'k1');
    expect(Array.from(k1.data)).toEqual([0.5, -1, 0, 0]);
    const k3 = tokenKl(lp, lpRef, m, 'k3');
    expect(k3.data[0]).toBeCloseTo(Math.exp(-0.5) - 1 + 0.5, 6); // (r - 1) - log r, r = exp(-0.5)
    expect(k3.data[1]).toBeCloseTo(Math.exp(1) - 1 - 1, 6);
    expect(klK1(-1, -1.5)).toBe(0.5);
    expect(klK3(-1, -1)).toBe(0);
    const { rewards: r, nonScore } = computeRewards([2], k1, m, 0.1);
    expect(Array.from(nonScore.data).map((x) => x + 0)).toEqual([-0.05, 0.1, 0, 0].map(Math.fround));
    expect(Array.from(r.data).map((x) => x + 0)).toEqual([-0.05, 0.1, 2, 0].map(Math.fround));
  });

  it('clipped policy loss matches hand-computed cases', async () => {
    // ratio e^0.5 = 1.65 (clipped to 1.2) with A = 1: max(-1.65, -1.2) = -1.2; ratio e^-0.5 = 0.61 with A = 1: max(-0.61, -0.8) = -0.61;
    // ratio 1.65 with A = -1: max(1.65, 1.2) = 1.65; ratio 0.61 with A = -1: max(0.61, 0.8) = 0.8.
    const out = tf.tidy(() => {
      const r = policyLoss(tf.tensor2d([[0.5, -0.5, 0.5, -0.5]]), tf.zeros([1, 4]), tf.tensor2d([[1, 1, -1, -1]]), tf.ones([1, 4]), 0.2);
      return [r.loss, r.clipfrac, r.approxKl, r.meanRatio];
    });
    const [loss, clipfrac, approxKl, ratio] = await Promise.all(out.map(async (t) => (await t.data())[0]));
    const e = Math.exp(0.5);
    expect(loss).toBeCloseTo((-1.2 - 1 / e + e + 0.8) / 4, 5);
    expect(clipfrac).toBeCloseTo(0.5, 6); // the first and last tokens use the clipped term
    expect(approxKl).toBeCloseTo(0.125, 6);
    expect(ratio).toBeCloseTo((2 * e + 2 / e) / 4, 5);
    tf.dispose(out);
  });

  it('clipped value loss matches hand-computed cases and respects the mask', async () => {
    // V_old = 0, R = 1: V = 0.5 -> clipped 0.2: max(0.25, 0.64) = 0.64; V = 1 -> clipped 0.2: max(0, 0.64) = 0.64;
    // V = 0.1 (inside the clip): 0.81; the fourth token is padding.
    const out = tf.tidy(() => {
      const r = valueLoss(tf.tensor2d([[0.5, 1, 0.1, 9]]), tf.zeros([1, 4]), tf.ones([1, 4]), tf.tensor2d([[1, 1, 1, 0]]), 0.2);
      return [r.loss, r.clipfrac];
    });
    const [loss, clipfrac] = await Promise.all(out.map(async (t) => (await t.data())[0]));
    expect(loss).toBeCloseTo(0.5 * (0.64 + 0.64 + 0.81) / 3, 5);
    expect(clipfrac).toBeCloseTo(2 / 3, 5);
    tf.dispose(out);
  });

  it('the adaptive controller raises beta above the target KL and lowers it below, by at most 20 %/horizon', () => {
    expect(adaptKlCoef(0.05, 8, 4, 5)).toBeCloseTo(0.05 * 1.04, 10);
    expect(adaptKlCoef(0.05, 4.4, 4, 5)).toBeCloseTo(0.05 * (1 + 0.1 / 5), 10);
    expect(adaptKlCoef(0.05, 0, 4, 5)).toBeCloseTo(0.05 * 0.96, 10);
    expect(adaptKlCoef(0.05, 4, 4, 5)).toBe(0.05);
  });
});
