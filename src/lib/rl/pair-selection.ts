// Which two of K candidate completions to show the annotator. Follows reference/prototype2/lab.py's
// `collect` strategies, which RESULTS.md section 2 measured:
//   'diverse'  -> mostDifferentPair: the largest word-count L1 distance; needs no model, so it is
//                 the choice for the first clicks (0.80 RM accuracy at N=25 against 0.775 random).
//   'disagree' -> disagreementPair: where a reward-model ensemble disagrees most about the sign of
//                 s_a - s_b, std_m(d) - 0.5 |mean_m(d)| (0.835 at N=50 against 0.786 random).
// RESULTS.md warns against near-tied pairs (the p ~ 1/2 strategy picked 24 % ties and hurt), so
// both functions avoid identical texts, and disagreementPair also sets aside pairs that every
// member scores as (nearly) equal; see NEAR_TIE_FRACTION.
// Ties in the objective go to the first pair in the order (0,1), (0,2), ..., (1,2), ...
import { splitTokens } from '../data/corpus';
import { mean, std } from '../math/stats';

/** Indices [a, b] of the chosen candidates, a < b. */
export type PairIndices = [number, number];

/** Weight of |mean difference| against member disagreement, as lab.py. */
export const MEAN_PENALTY = 0.5;
/** A pair is near-tied when the root mean square of its member differences is at most this
 *  fraction of the typical one among the candidates (the mean RMS over all distinct pairs):
 *  every member then sees about the same score, so the label would mostly say "tie". */
export const NEAR_TIE_FRACTION = 0.1;

const WORD_TOKEN = /^[a-z']+$/;

/** Word counts of a text (punctuation not counted, as lab.py's WORDS regex). */
export function wordBag(text: string): Map<string, number> {
  const bag = new Map<string, number>();
  for (const t of splitTokens(text)) if (WORD_TOKEN.test(t)) bag.set(t, (bag.get(t) ?? 0) + 1);
  return bag;
}

/** L1 distance between two word-count bags: how many words one has that the other lacks. */
export function bagDistance(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  let d = 0;
  for (const [w, n] of a) d += Math.abs(n - (b.get(w) ?? 0));
  for (const [w, n] of b) if (!a.has(w)) d += n;
  return d;
}

/** Texts that read the same to the annotator: equal token sequences (case and spacing aside). */
function sameText(a: string, b: string): boolean {
  return splitTokens(a).join(' ') === splitTokens(b).join(' ');
}

function assertCandidates(candidates: readonly string[]): void {
  if (candidates.length < 2) throw new RangeError(`pair selection needs at least 2 candidates, got ${candidates.length}`);
}

/** All pairs a < b in order, with whether their texts are the same. */
function* pairs(candidates: readonly string[]): Generator<{ a: number; b: number; same: boolean }> {
  for (let a = 0; a < candidates.length; a++) {
    for (let b = a + 1; b < candidates.length; b++) yield { a, b, same: sameText(candidates[a], candidates[b]) };
  }
}

/** The pair with the largest word-count L1 distance; a pair of identical texts only if every
 *  pair is identical. */
export function mostDifferentPair(candidates: readonly string[]): PairIndices {
  assertCandidates(candidates);
  const bags = candidates.map(wordBag);
  let best: PairIndices = [0, 1];
  let bestKey: [number, number] = [-1, -Infinity]; // (texts differ ? 1 : 0, distance), compared in order
  for (const { a, b, same } of pairs(candidates)) {
    const key: [number, number] = [same ? 0 : 1, bagDistance(bags[a], bags[b])];
    if (key[0] > bestKey[0] || (key[0] === bestKey[0] && key[1] > bestKey[1])) {
      best = [a, b];
      bestKey = key;
    }
  }
  return best;
}

/** lab.py's disagreement objective on the member differences d_m = s_a,m - s_b,m:
 *  sample std over members minus MEAN_PENALTY * |mean|. */
export function disagreementScore(diffs: readonly number[]): number {
  return std(diffs, 1) - MEAN_PENALTY * Math.abs(mean(diffs));
}

function rms(xs: readonly number[]): number {
  return Math.sqrt(mean(xs.map((x) => x * x)));
}

/** The pair the ensemble disagrees on most. `memberScores[k][m]`: member m's score of candidate k
 *  (at least 2 members). Identical texts and near-tied pairs are set aside; when nothing is left
 *  (e.g. every member scores every candidate alike) it falls back to mostDifferentPair. */
export function disagreementPair(candidates: readonly string[], memberScores: readonly (readonly number[])[]): PairIndices {
  assertCandidates(candidates);
  if (memberScores.length !== candidates.length) {
    throw new RangeError(`memberScores has ${memberScores.length} rows for ${candidates.length} candidates`);
  }
  const members = memberScores[0].length;
  if (members < 2) throw new RangeError(`disagreement needs an ensemble of at least 2 members, got ${members}`);
  memberScores.forEach((row, k) => {
    if (row.length !== members) throw new RangeError(`memberScores row ${k} has ${row.length} members, expected ${members}`);
    if (!row.every(Number.isFinite)) throw new RangeError(`memberScores row ${k} holds a non-finite score`);
  });

  const distinct = [...pairs(candidates)]
    .filter((p) => !p.same)
    .map(({ a, b }) => {
      const diffs = memberScores[a].map((s, m) => s - memberScores[b][m]);
      return { a, b, rms: rms(diffs), score: disagreementScore(diffs) };
    });
  if (distinct.length === 0) return mostDifferentPair(candidates);
  const typical = mean(distinct.map((p) => p.rms));
  let best: PairIndices | null = null;
  let bestScore = -Infinity;
  for (const p of distinct) {
    if (p.rms <= NEAR_TIE_FRACTION * typical) continue;
    if (p.score > bestScore) {
      best = [p.a, p.b];
      bestScore = p.score;
    }
  }
  return best ?? mostDifferentPair(candidates);
}
