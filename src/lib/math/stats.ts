// Plain-array statistics for the RLHF engine, and reference versions of the tensor maths used as
// test oracles (conventions: "plain-array reference versions (GAE, whitening)").
// - maskedWhiten follows TRL's `masked_whiten` (trl/trainer/utils.py): (x - mean) / sqrt(var + 1e-8)
//   with the Bessel-corrected masked variance TRL uses by default, and its `shift_mean` option.
// - gaeReference follows reference/prototype2/lab.py's loop (Schulman et al. 2016, GAE), with gamma
//   made general: gae_t = (r_t + gamma V_{t+1} - V_t + gamma lambda gae_{t+1}) * mask_t.
// - KL estimators k1, k2, k3 per token follow John Schulman's note "Approximating KL divergence"
//   (2020), as TRL's PPO trainer does for its `kl_estimator` option.
// - logSigmoid / btProbability are the Bradley-Terry helpers on plain numbers.
// Empty inputs throw: a mean of nothing is a bug upstream, not a number to chart.

/** Added to the variance before the square root, as TRL's masked_whiten does. */
export const WHITEN_EPS = 1e-8;

export type Matrix = readonly (readonly number[])[];

function assertNonEmpty(xs: readonly number[], what: string): void {
  if (xs.length === 0) throw new RangeError(`${what} of an empty list`);
}

export function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

export function mean(xs: readonly number[]): number {
  assertNonEmpty(xs, 'mean');
  return sum(xs) / xs.length;
}

/** Standard deviation; `ddof` 0 gives the population std, 1 the sample (Bessel-corrected) std. */
export function std(xs: readonly number[], ddof: 0 | 1 = 0): number {
  assertNonEmpty(xs, 'std');
  if (xs.length - ddof <= 0) throw new RangeError(`std with ddof=${ddof} needs more than ${ddof} value(s)`);
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  return Math.sqrt(ss / (xs.length - ddof));
}

export function median(xs: readonly number[]): number {
  assertNonEmpty(xs, 'median');
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Pearson correlation of two equal-length lists; NaN when either list is constant (undefined). */
export function pearson(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) throw new RangeError(`pearson: lengths differ (${xs.length} vs ${ys.length})`);
  if (xs.length < 2) throw new RangeError('pearson needs at least 2 pairs');
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i] - mx;
    const dy = ys[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

// ---------------------------------------------------------------------------------------------
// Masked 2-D statistics ((B, T) arrays with a (B, T) mask of 0/1 weights, as TRL's masked_* helpers)

function assertSameShape(a: Matrix, b: Matrix, names: string): void {
  if (a.length !== b.length) throw new RangeError(`${names}: ${a.length} rows vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i].length !== b[i].length) {
      throw new RangeError(`${names}: row ${i} has ${a[i].length} columns vs ${b[i].length}`);
    }
  }
}

/** sum(x * mask) / sum(mask); throws when the mask is all zero. */
export function maskedMean(x: Matrix, mask: Matrix): number {
  assertSameShape(x, mask, 'maskedMean(x, mask)');
  let s = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    for (let t = 0; t < x[i].length; t++) {
      s += x[i][t] * mask[i][t];
      n += mask[i][t];
    }
  }
  if (n === 0) throw new RangeError('maskedMean: the mask selects nothing');
  return s / n;
}

/** Masked variance; `unbiased` multiplies by n / (n - 1) with n = sum(mask), as TRL's masked_var. */
export function maskedVar(x: Matrix, mask: Matrix, unbiased = true): number {
  const m = maskedMean(x, mask);
  const centred = x.map((row) => row.map((v) => (v - m) ** 2));
  const v = maskedMean(centred, mask);
  if (!unbiased) return v;
  const n = sum(mask.map(sum));
  if (n <= 1) throw new RangeError('maskedVar: the unbiased variance needs a mask sum above 1');
  return (v * n) / (n - 1);
}

export interface WhitenOptions {
  /** false adds the mean back after scaling (TRL's shift_mean=False, used for rewards). Default true. */
  shiftMean?: boolean;
  /** Bessel-corrected variance, TRL's default. Default true. */
  unbiased?: boolean;
}

/** TRL's masked_whiten: statistics over masked-in entries only; every entry is transformed (as in
 *  TRL), so callers multiply by the mask where padding must stay zero. */
export function maskedWhiten(x: Matrix, mask: Matrix, options: WhitenOptions = {}): number[][] {
  const { shiftMean = true, unbiased = true } = options;
  const m = maskedMean(x, mask);
  const scale = 1 / Math.sqrt(maskedVar(x, mask, unbiased) + WHITEN_EPS);
  return x.map((row) => row.map((v) => (v - m) * scale + (shiftMean ? 0 : m)));
}

// ---------------------------------------------------------------------------------------------
// GAE reference

export interface GaeResult {
  advantages: number[][]; // (B, T)
  returns: number[][]; // (B, T) advantages + masked values: the critic's regression targets
}

/** Generalised advantage estimation over (B, T) per-token rewards and values, as lab.py:
 *  values are masked first (V at padding = 0, V past the last column = 0), then backwards
 *  gae = (r_t + gamma V_{t+1} - V_t + gamma lambda gae) * mask_t; returns = advantages + V. */
export function gaeReference(rewards: Matrix, values: Matrix, mask: Matrix, gamma: number, lambda: number): GaeResult {
  assertSameShape(rewards, values, 'gaeReference(rewards, values)');
  assertSameShape(rewards, mask, 'gaeReference(rewards, mask)');
  for (const [name, v] of [['gamma', gamma], ['lambda', lambda]] as const) {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`gaeReference: ${name} must be in [0, 1], got ${v}`);
  }
  const advantages: number[][] = [];
  const returns: number[][] = [];
  for (let i = 0; i < rewards.length; i++) {
    const T = rewards[i].length;
    const v = values[i].map((x, t) => x * mask[i][t]);
    const adv = new Array<number>(T).fill(0);
    let gae = 0;
    for (let t = T - 1; t >= 0; t--) {
      const next = t + 1 < T ? v[t + 1] : 0;
      gae = (rewards[i][t] + gamma * next - v[t] + gamma * lambda * gae) * mask[i][t];
      adv[t] = gae;
    }
    advantages.push(adv);
    returns.push(adv.map((a, t) => a + v[t]));
  }
  return { advantages, returns };
}

// ---------------------------------------------------------------------------------------------
// KL estimators per token (Schulman, "Approximating KL divergence"), on log-probs of the sampled
// token under the policy (logp) and the frozen reference (logpRef). Samples come from the policy,
// so each is an estimator of KL(policy || ref).

export type KlEstimator = 'k1' | 'k2' | 'k3';

/** k1 = log p - log p_ref: unbiased, high variance, can be negative. */
export function klK1(logp: number, logpRef: number): number {
  return logp - logpRef;
}

/** k2 = (log p - log p_ref)^2 / 2: biased, low variance, never negative. */
export function klK2(logp: number, logpRef: number): number {
  return 0.5 * (logp - logpRef) ** 2;
}

/** k3 = (r - 1) - log r with r = p_ref / p: unbiased, low variance, never negative. expm1 keeps
 *  precision when r is near 1 (the usual case late in a well-controlled run). */
export function klK3(logp: number, logpRef: number): number {
  const logR = logpRef - logp;
  return Math.expm1(logR) - logR;
}

export const KL_ESTIMATORS: Readonly<Record<KlEstimator, (logp: number, logpRef: number) => number>> = {
  k1: klK1,
  k2: klK2,
  k3: klK3,
};

/** Per-token KL of (B, T) log-prob arrays with the chosen estimator, zero where mask is 0. */
export function klPerToken(logp: Matrix, logpRef: Matrix, mask: Matrix, estimator: KlEstimator): number[][] {
  assertSameShape(logp, logpRef, 'klPerToken(logp, logpRef)');
  assertSameShape(logp, mask, 'klPerToken(logp, mask)');
  const k = KL_ESTIMATORS[estimator];
  return logp.map((row, i) => row.map((lp, t) => (mask[i][t] === 0 ? 0 : k(lp, logpRef[i][t]) * mask[i][t])));
}

// ---------------------------------------------------------------------------------------------
// Bradley-Terry on plain numbers

/** log sigma(x), stable for large |x| (never log of 0). */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** P(A preferred over B) under Bradley-Terry with rewards rA, rB: sigma(rA - rB). */
export function btProbability(rA: number, rB: number): number {
  return sigmoid(rA - rB);
}

// ---------------------------------------------------------------------------------------------
// Confidence interval of a proportion

/** z of a two-sided 95 % normal interval. */
export const Z_95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval (Wilson 1927) of a proportion: `successes` of `n` trials, successes may be
 * fractional (a tie counted as half a win, as InstructGPT's win rates do). Unlike p +- z sqrt(p(1-p)/n)
 * it stays inside [0, 1] and is not zero-width at 0 or n successes, which matters with the 10-30
 * answers a student gives:
 *   centre = (p + z^2 / 2n) / (1 + z^2 / n),  half = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2).
 */
export function wilsonInterval(successes: number, n: number, z = Z_95): Interval {
  if (!(n > 0)) throw new RangeError(`wilsonInterval needs n > 0 trials, got ${n}`);
  if (!(successes >= 0 && successes <= n)) throw new RangeError(`wilsonInterval: successes must be in [0, ${n}], got ${successes}`);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
