// The reward-KL plane of "Is RL necessary?" (issue 10; the lecture's last slide): every method as
// a point (or, for the online RL methods, a path over its evaluations) with its KL from the base
// model on x and its score on y, as Gao et al. 2022 and Stiennon et al. 2020 draw RL against
// best-of-N reranking. Pure functions only (no tensors, no DOM): picking best-of-N's favourite among
// the first N of a set of scored candidates for every N at once (the nested estimator: one set of
// 64 samples per prompt serves N = 1 ... 64), and keeping the plane's points as evaluations arrive.
// The sentence that says which method is ahead is the page's (src/ui/state/plane-text.ts).
import type { MethodName } from './methods/registry';
import type { MethodKind } from './methods/types';

/** What the y axis measures: the simulated annotator's gold score (autopilot on), else the reward model's score. */
export type PlaneAxis = 'gold' | 'rm';

/** Best-of-N's sizes on the plane: powers of two up to 64, as the README's table and Gao et al. use. */
export const PLANE_NS: readonly number[] = [1, 2, 4, 8, 16, 32, 64];

/** One point of the plane. */
export interface PlanePoint {
  method: MethodName;
  /** How the method trains: online methods draw a path, the others a point. */
  kind: MethodKind;
  /** Best-of-N's N; null for a trained method. */
  n: number | null;
  /** The method's steps when measured (0 for best-of-N, which trains nothing). */
  steps: number;
  /** KL(method || base) per sequence in nats (best-of-N: log N - (N - 1)/N). */
  kl: number;
  /** Mean gold or RM score on the held-out prompts (the plane's axis says which). */
  y: number;
}

/** Index of the first highest of the first `n` scores (NaN never wins, as in bestOfN). */
export function firstBest(scores: readonly number[], n: number): number {
  if (!(Number.isInteger(n) && n >= 1 && n <= scores.length)) throw new RangeError(`need 1 <= n <= ${scores.length}, got ${n}`);
  let best = 0;
  for (let i = 1; i < n; i++) if (scores[i] > scores[best] || Number.isNaN(scores[best])) best = i;
  return best;
}

/**
 * For each N, the mean over prompts of `values[p][pick]`, where pick is the reward model's
 * favourite among the first N candidates of prompt p (`scores[p]`, in sampling order). The first N
 * of N_max independent samples are N independent samples, so each N is an honest best-of-N.
 */
export function nestedBestOfN(scores: readonly (readonly number[])[], values: readonly (readonly number[])[], ns: readonly number[]): number[] {
  if (scores.length === 0) throw new RangeError('no prompts');
  if (values.length !== scores.length) throw new RangeError(`${values.length} value rows for ${scores.length} score rows`);
  return ns.map((n) => {
    let total = 0;
    scores.forEach((row, p) => {
      if (values[p].length !== row.length) throw new RangeError(`prompt ${p}: ${values[p].length} values for ${row.length} scores`);
      total += values[p][firstBest(row, n)];
    });
    return total / scores.length;
  });
}

/**
 * The plane after an evaluation: an online method's point joins its path (a second measure at the
 * same step replaces the first), any other method's points are replaced by the fresh ones
 * (best-of-N's whole sweep, DPO's or SFT's one point). Methods absent from `fresh` keep theirs.
 */
export function mergePlane(plane: readonly PlanePoint[], fresh: readonly PlanePoint[]): PlanePoint[] {
  const key = (p: PlanePoint) => `${p.method}@${p.steps}`;
  const replaced = new Set(fresh.filter((p) => p.kind !== 'online').map((p) => p.method));
  const remeasured = new Set(fresh.filter((p) => p.kind === 'online').map(key));
  const all = [...plane.filter((p) => !replaced.has(p.method) && !(p.kind === 'online' && remeasured.has(key(p)))), ...fresh];
  // Each method's points together, methods in the order they first came onto the plane, a path in step order.
  const order = [...new Set([...plane, ...fresh].map((p) => p.method))];
  return order.flatMap((m) => all.filter((p) => p.method === m).sort((a, b) => (a.kind === 'online' ? a.steps - b.steps : 0)));
}
