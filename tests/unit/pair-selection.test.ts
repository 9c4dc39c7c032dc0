import { describe, expect, it } from 'vitest';
import {
  bagDistance,
  disagreementPair,
  disagreementScore,
  mostDifferentPair,
  wordBag,
} from '../../src/lib/rl/pair-selection';

describe('word bags', () => {
  it('counts words, not punctuation, and measures L1 distance', () => {
    expect([...wordBag('The cake, the cake. great.')]).toEqual([['the', 2], ['cake', 2], ['great', 1]]);
    const a = wordBag('the pizza was great.');
    const b = wordBag('i hated the box. never again.');
    // pizza, was, great on one side; i, hated, box, never, again on the other; "the" shared.
    expect(bagDistance(a, b)).toBe(8);
    expect(bagDistance(b, a)).toBe(8);
    expect(bagDistance(wordBag('the the the'), wordBag('the'))).toBe(2);
    expect(bagDistance(a, wordBag('great, the pizza was'))).toBe(0);
  });
});

describe('mostDifferentPair (lab.py "diverse")', () => {
  it('picks the largest distance, the first pair on ties', () => {
    const c = ['the pizza was great.', 'the pizza was great.', 'i hated the box. never again.', 'the pizza was good.'];
    // (0,2), (1,2) and (2,3) are all at distance 8: the first wins.
    expect(mostDifferentPair(c)).toEqual([0, 2]);
    expect(mostDifferentPair(['the cake.', 'the cake was bad.', 'the cake was great.'])).toEqual([0, 1]);
  });

  it('never returns two identical texts if it can avoid it', () => {
    // Every distance is 0; (0,1) reads the same (case and spacing aside), (0,2) does not.
    expect(mostDifferentPair(['good pizza.', '  Good   pizza.', 'pizza good.'])).toEqual([0, 2]);
    expect(mostDifferentPair(['same.', 'same.', 'same.'])).toEqual([0, 1]);
  });

  it('needs two candidates', () => {
    expect(() => mostDifferentPair(['only one'])).toThrow(/at least 2 candidates/);
    expect(mostDifferentPair(['a', 'b'])).toEqual([0, 1]);
  });
});

describe('disagreementPair (lab.py "disagree")', () => {
  const texts = ['the cake was fine.', 'the cake was good.', 'the cake was great.'];

  it('scores std (ddof 1) minus half the |mean| of the member differences', () => {
    // d = (-1, 1, -1): mean -1/3, sample std sqrt(4/3).
    expect(disagreementScore([-1, 1, -1])).toBeCloseTo(Math.sqrt(4 / 3) - 0.5 / 3, 12);
    expect(disagreementScore([-5, -5, -5])).toBeCloseTo(-2.5, 12);
  });

  it('picks the pair the members disagree on', () => {
    const scores = [
      [0, 0, 0],
      [1, -1, 1], // vs 0: d = (-1, 1, -1), score 0.99
      [5, 5, 5], // vs 0: -2.5; vs 1: d = (-4, -6, -4), score -1.18
    ];
    expect(disagreementPair(texts, scores)).toEqual([0, 1]);
  });

  it('sets aside a near-tied pair that every member scores alike', () => {
    const scores = [
      [1, 1, 1],
      [1.001, 1.001, 1.001], // vs 0: score -0.0005, the best by lab.py's objective, but near-tied
      [3, 3.2, 2.8], // vs 0: -0.8; vs 1: d = (-1.999, -2.199, -1.799), score -0.7995
    ];
    expect(disagreementPair(texts, scores)).toEqual([1, 2]);
  });

  it('skips identical texts even when their scores differ', () => {
    const same = ['the cake was fine.', 'The cake was fine.', 'what a bad cake.'];
    const scores = [
      [0, 0, 0],
      [1, -1, 1],
      [5, 5, 5],
    ];
    expect(disagreementPair(same, scores)).toEqual([1, 2]);
  });

  it('falls back to the most different pair when the ensemble sees no difference', () => {
    const c = ['the cake.', 'the cake was bad.', 'the cake was great.'];
    const flat = [
      [2, 2],
      [2, 2],
      [2, 2],
    ];
    expect(disagreementPair(c, flat)).toEqual(mostDifferentPair(c));
    expect(disagreementPair(['same.', 'same.'], [[0, 1], [2, 3]])).toEqual([0, 1]);
  });

  it('breaks ties by pair order', () => {
    const scores = [
      [0, 0],
      [1, -1],
      [1, -1], // (0,1) and (0,2) score alike; (1,2) is near-tied
    ];
    expect(disagreementPair(texts, scores)).toEqual([0, 1]);
  });

  it('validates the ensemble scores', () => {
    expect(() => disagreementPair(texts, [[0, 1], [1, 0]])).toThrow(/2 rows for 3 candidates/);
    expect(() => disagreementPair(texts, [[0], [1], [2]])).toThrow(/at least 2 members/);
    expect(() => disagreementPair(texts, [[0, 1], [1, 0], [1]])).toThrow(/row 2 has 1 members/);
    expect(() => disagreementPair(texts, [[0, 1], [1, NaN], [1, 2]])).toThrow(/non-finite/);
  });
});
