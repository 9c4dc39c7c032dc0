import { describe, expect, it } from 'vitest';
import {
  KL_ESTIMATORS,
  btProbability,
  gaeReference,
  klK1,
  klK2,
  klK3,
  klPerToken,
  logSigmoid,
  maskedMean,
  maskedVar,
  maskedWhiten,
  mean,
  median,
  pearson,
  sigmoid,
  std,
} from '../../src/lib/math/stats';

describe('plain statistics', () => {
  it('mean, population and sample std', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(std([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(std([1, 2, 3, 4], 1)).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(std([7])).toBe(0);
    expect(() => std([7], 1)).toThrow(RangeError);
    expect(() => mean([])).toThrow(/empty/);
  });

  it('median of odd and even lengths, without sorting the input', () => {
    const xs = [3, 1, 2];
    expect(median(xs)).toBe(2);
    expect(xs).toEqual([3, 1, 2]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, -1])).toBe(4.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('pearson against hand-computed values', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    // dx = (-1.5, -0.5, 0.5, 1.5), dy = (-1.5, 0.5, -0.5, 1.5): sxy = 4, sxx = syy = 5.
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => pearson([1, 2], [1])).toThrow(/lengths/);
  });
});

describe('masked statistics (TRL masked_mean / masked_var / masked_whiten)', () => {
  const x = [
    [1, 2, 100],
    [3, 4, -100],
  ];
  const mask = [
    [1, 1, 0],
    [1, 1, 0],
  ];

  it('ignores masked-out entries', () => {
    expect(maskedMean(x, mask)).toBe(2.5);
    expect(maskedVar(x, mask, false)).toBeCloseTo(1.25, 12);
    expect(maskedVar(x, mask)).toBeCloseTo(5 / 3, 12); // Bessel: 1.25 * 4 / 3
    expect(() => maskedMean(x, [[0, 0, 0], [0, 0, 0]])).toThrow(/selects nothing/);
    expect(() => maskedMean(x, [[1, 1]])).toThrow(RangeError);
  });

  it('whitens as (x - mean) / sqrt(var + 1e-8) with the unbiased variance', () => {
    const w = maskedWhiten(x, mask);
    const scale = 1 / Math.sqrt(5 / 3 + 1e-8);
    expect(w[0][0]).toBeCloseTo(-1.5 * scale, 12);
    expect(w[1][1]).toBeCloseTo(1.5 * scale, 12);
    // Masked-out entries are transformed too, as in TRL; the caller masks them.
    expect(w[0][2]).toBeCloseTo(97.5 * scale, 10);
    expect(maskedMean(w, mask)).toBeCloseTo(0, 12);
    expect(maskedVar(w, mask)).toBeCloseTo(1, 6);
  });

  it('shiftMean=false keeps the mean (TRL whitens rewards that way)', () => {
    const w = maskedWhiten(x, mask, { shiftMean: false });
    expect(w[0][0]).toBeCloseTo(2.5 - 1.5 / Math.sqrt(5 / 3 + 1e-8), 12);
    expect(maskedMean(w, mask)).toBeCloseTo(2.5, 12);
  });

  it('population variance on request', () => {
    const w = maskedWhiten(x, mask, { unbiased: false });
    expect(w[0][0]).toBeCloseTo(-1.5 / Math.sqrt(1.25 + 1e-8), 12);
  });
});

describe('gaeReference (lab.py loop, general gamma)', () => {
  it('matches a hand-computed 3-step example', () => {
    // gamma 0.9, lambda 0.8, so gamma * lambda = 0.72.
    // t=2: delta = 2 + 0 - 1.5 = 0.5;                 gae = 0.5
    // t=1: delta = 0 + 0.9 * 1.5 - 1 = 0.35;          gae = 0.35 + 0.72 * 0.5 = 0.71
    // t=0: delta = 1 + 0.9 * 1 - 0.5 = 1.4;           gae = 1.4 + 0.72 * 0.71 = 1.9112
    const { advantages, returns } = gaeReference([[1, 0, 2]], [[0.5, 1, 1.5]], [[1, 1, 1]], 0.9, 0.8);
    [1.9112, 0.71, 0.5].forEach((a, t) => expect(advantages[0][t]).toBeCloseTo(a, 12));
    [2.4112, 1.71, 2.0].forEach((r, t) => expect(returns[0][t]).toBeCloseTo(r, 12));
  });

  it('gamma = lambda = 1 gives reward-to-go returns; lambda = 0 gives one-step TD errors', () => {
    const r = [[1, 0, 2]];
    const v = [[0.5, 1, 1.5]];
    const m = [[1, 1, 1]];
    const mc = gaeReference(r, v, m, 1, 1);
    [3, 2, 2].forEach((g, t) => expect(mc.returns[0][t]).toBeCloseTo(g, 12));
    const td = gaeReference(r, v, m, 1, 0);
    [1 + 1 - 0.5, 0 + 1.5 - 1, 2 - 1.5].forEach((d, t) => expect(td.advantages[0][t]).toBeCloseTo(d, 12));
  });

  it('padding is zero and does not leak into earlier steps (V at padding = 0)', () => {
    const padded = gaeReference([[1, 2, 5]], [[0.5, 1, 9]], [[1, 1, 0]], 0.9, 0.8);
    const short = gaeReference([[1, 2]], [[0.5, 1]], [[1, 1]], 0.9, 0.8);
    expect(padded.advantages[0][2]).toBe(0);
    expect(padded.returns[0][2]).toBe(0);
    // t=1: 2 + 0 - 1 = 1;  t=0: 1 + 0.9 * 1 - 0.5 + 0.72 * 1 = 2.12
    expect(padded.advantages[0][0]).toBeCloseTo(2.12, 12);
    expect(padded.advantages[0].slice(0, 2)).toEqual(short.advantages[0]);
    expect(padded.returns[0].slice(0, 2)).toEqual(short.returns[0]);
  });

  it('treats rows independently and validates its inputs', () => {
    const two = gaeReference([[1, 0], [0, 3]], [[0, 0], [1, 1]], [[1, 1], [1, 1]], 1, 1);
    expect(two.advantages).toEqual([[1, 0], [2, 2]]);
    expect(() => gaeReference([[1]], [[1, 2]], [[1]], 1, 1)).toThrow(RangeError);
    expect(() => gaeReference([[1]], [[1]], [[1]], 1.5, 1)).toThrow(/gamma/);
    expect(() => gaeReference([[1]], [[1]], [[1]], 1, -0.1)).toThrow(/lambda/);
  });
});

describe('KL estimators (Schulman, "Approximating KL divergence")', () => {
  it('match hand-computed values', () => {
    // logp = -1, logpRef = -2: log r = -1, r = e^-1.
    expect(klK1(-1, -2)).toBe(1);
    expect(klK2(-1, -2)).toBe(0.5);
    expect(klK3(-1, -2)).toBeCloseTo(Math.exp(-1) - 1 + 1, 12);
    // logp = -2, logpRef = -1: log r = 1, r = e.
    expect(klK1(-2, -1)).toBe(-1);
    expect(klK2(-2, -1)).toBe(0.5);
    expect(klK3(-2, -1)).toBeCloseTo(Math.E - 1 - 1, 12);
    // Equal log-probs: all zero; k3 stays accurate near r = 1 (about d^2 / 2).
    for (const k of Object.values(KL_ESTIMATORS)) expect(k(-0.3, -0.3)).toBe(0);
    const d = -1 + 1e-6 - -1; // log r, as the estimator sees it
    const series = d ** 2 / 2 + d ** 3 / 6; // Taylor expansion of e^d - 1 - d
    expect(Math.abs(klK3(-1, -1 + 1e-6) / series - 1)).toBeLessThan(1e-6);
  });

  it('k1 and k3 are unbiased: their expectation under p is KL(p || q)', () => {
    const p = [0.5, 0.3, 0.2];
    const q = [0.2, 0.5, 0.3];
    const kl = p.reduce((s, pi, i) => s + pi * Math.log(pi / q[i]), 0);
    const expect_ = (k: (a: number, b: number) => number) =>
      p.reduce((s, pi, i) => s + pi * k(Math.log(pi), Math.log(q[i])), 0);
    expect(expect_(klK1)).toBeCloseTo(kl, 12);
    expect(expect_(klK3)).toBeCloseTo(kl, 12);
    expect(expect_(klK2)).not.toBeCloseTo(kl, 3); // k2 is biased
  });

  it('klPerToken applies the chosen estimator and zeroes padding', () => {
    const lp = [[-1, -2, -5]];
    const ref = [[-2, -1, -0.1]];
    const m = [[1, 1, 0]];
    expect(klPerToken(lp, ref, m, 'k1')).toEqual([[1, -1, 0]]);
    expect(klPerToken(lp, ref, m, 'k2')).toEqual([[0.5, 0.5, 0]]);
    const k3 = klPerToken(lp, ref, m, 'k3');
    expect(k3[0][0]).toBeCloseTo(Math.exp(-1), 12);
    expect(k3[0][2]).toBe(0);
  });
});

describe('Bradley-Terry helpers', () => {
  it('logSigmoid is exact at 0 and finite far out', () => {
    expect(logSigmoid(0)).toBeCloseTo(-Math.LN2, 14);
    expect(logSigmoid(2)).toBeCloseTo(Math.log(1 / (1 + Math.exp(-2))), 14);
    expect(logSigmoid(-1000)).toBe(-1000);
    expect(logSigmoid(1000)).toBeCloseTo(0, 14);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
  });

  it('btProbability is sigma(rA - rB) and symmetric', () => {
    expect(btProbability(1, 1)).toBe(0.5);
    expect(btProbability(2, 0)).toBeCloseTo(1 / (1 + Math.exp(-2)), 14);
    expect(btProbability(0.3, -1.2) + btProbability(-1.2, 0.3)).toBeCloseTo(1, 14);
  });
});
