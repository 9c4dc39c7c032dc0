// Blind evaluation's maths and draws (src/lib/math/blind.ts, wilsonInterval in src/lib/math/stats.ts,
// Run.blindPair): the Wilson interval against published values, the repeat schedule (one seeded
// slot per block of five from the second block on, a seeded pick and swap), the win-rate and
// self-agreement tallies, and the run's blind pairs (base and method on seeded sides, the same
// seed drawing the same pairs).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../src/lib/math/stats';
import { isRepeatSlot, REPEAT_BLOCK, REPEAT_MIN_GAP, repeatCandidates, repeatPlan, selfAgreement, verdictFor, winTally, type BlindOutcome } from '../../src/lib/math/blind';
import { disposeParams } from '../../src/lib/model/params';
import { smallRun, smallSettings, tok } from '../support/run';
import { smallWordGpt } from '../support/tiny';

describe('wilsonInterval', () => {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (score).
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i of %i gives [%f, %f] as Newcombe tabulates', (x, n, low, high) => {
    const ci = wilsonInterval(x, n);
    expect(ci.low).toBeCloseTo(low, 4);
    expect(ci.high).toBeCloseTo(high, 4);
  });

  it('is the closed form, symmetric under x -> n - x, and narrows as n grows', () => {
    const z = 1.959963984540054;
    const [x, n] = [7, 10];
    const p = x / n;
    const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
    const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
    expect(wilsonInterval(x, n).low).toBeCloseTo(centre - half, 12);
    expect(wilsonInterval(x, n).high).toBeCloseTo(centre + half, 12);
    const a = wilsonInterval(3, 10);
    const b = wilsonInterval(7, 10);
    expect(a.low).toBeCloseTo(1 - b.high, 12);
    expect(wilsonInterval(70, 100).high - wilsonInterval(70, 100).low).toBeLessThan(b.high - b.low);
    // A tie counts as half a win: fractional successes are allowed.
    const t = wilsonInterval(5.5, 10);
    expect(t.low).toBeLessThan(0.55);
    expect(t.high).toBeGreaterThan(0.55);
  });

  it('refuses no trials and successes outside [0, n]', () => {
    expect(() => wilsonInterval(0, 0)).toThrow(RangeError);
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
  });
});

describe('repeat schedule', () => {
  it('no repeat in the first block, then exactly one per block at a seeded position', () => {
    for (const seed of [1, 2, 3, 99]) {
      for (let n = 1; n <= REPEAT_BLOCK; n++) expect(isRepeatSlot(seed, n)).toBe(false);
      for (let block = 1; block < 40; block++) {
        const slots = Array.from({ length: REPEAT_BLOCK }, (_, i) => block * REPEAT_BLOCK + i + 1).filter((n) => isRepeatSlot(seed, n));
        expect(slots).toHaveLength(1);
      }
    }
  });

  it('the positions depend on the seed (not every fifth pair) and repeat for the same seed', () => {
    const slots = (seed: number) => Array.from({ length: 200 }, (_, i) => i + 1).filter((n) => isRepeatSlot(seed, n));
    expect(slots(1)).toEqual(slots(1));
    expect(slots(1)).not.toEqual(slots(2));
    const offsets = new Set(slots(1).map((n) => (n - 1) % REPEAT_BLOCK));
    expect(offsets.size).toBeGreaterThan(1);
  });

  it('a plan picks one of the earlier pairs and swaps sides about half the time; none without candidates', () => {
    const plans = Array.from({ length: 2000 }, (_, i) => i + 1)
      .map((n) => repeatPlan(7, n, 10))
      .filter((p) => p !== null);
    expect(plans.length).toBe(399); // one per block of 5 after the first: 2000 / 5 - 1
    expect(plans.every((p) => Number.isInteger(p.pick) && p.pick >= 0 && p.pick < 10)).toBe(true);
    const swaps = plans.filter((p) => p.swap).length / plans.length;
    expect(swaps).toBeGreaterThan(0.4);
    expect(swaps).toBeLessThan(0.6);
    expect(new Set(plans.map((p) => p.pick)).size).toBe(10);
    const n = Array.from({ length: 20 }, (_, i) => i + 1).find((k) => isRepeatSlot(7, k))!;
    expect(repeatPlan(7, n, 0)).toBeNull();
    expect(repeatPlan(7, n, 3)).toEqual(repeatPlan(7, n, 3));
    expect(() => isRepeatSlot(7, 0)).toThrow(RangeError);
  });
});

function outcome(id: string, methodSide: 'left' | 'right', choice: 'left' | 'right' | 'tie', repeatOf: string | null = null, method = 'ppo'): BlindOutcome {
  return { id, method, methodSide, choice, repeatOf };
}

describe('tallies', () => {
  it('the win rate counts the method’s side picked, ties as half, first showings of that method only', () => {
    const answers = [
      outcome('a', 'left', 'left'), // win
      outcome('b', 'right', 'left'), // loss
      outcome('c', 'right', 'right'), // win
      outcome('d', 'left', 'tie'), // tie
      outcome('e', 'left', 'right', 'a'), // a repeat: not counted
      outcome('f', 'left', 'left', null, 'grpo'), // another method
    ];
    const t = winTally(answers, 'ppo');
    expect([t.wins, t.losses, t.ties, t.n]).toEqual([2, 1, 1, 4]);
    expect(t.rate).toBeCloseTo(2.5 / 4, 12);
    expect(t.interval).toEqual(wilsonInterval(2.5, 4));
    expect(winTally(answers, 'dpo')).toMatchObject({ n: 0, rate: null, interval: null });
    expect(verdictFor({ methodSide: 'right', choice: 'left' })).toBe('loss');
  });

  it('self-agreement compares the model preferred, whichever side it was on the second time', () => {
    const answers = [
      outcome('a', 'left', 'left'),
      outcome('b', 'right', 'left'),
      outcome('c', 'left', 'tie'),
      outcome('r1', 'right', 'right', 'a'), // swapped, the method again: agrees
      outcome('r2', 'right', 'left', 'b'), // not swapped, the base again: agrees
      outcome('r3', 'left', 'left', 'c'), // a tie first, a pick now: disagrees
      outcome('r4', 'left', 'left', 'gone'), // its original is unknown: not counted
    ];
    const s = selfAgreement(answers);
    expect([s.repeats, s.agreed]).toEqual([3, 2]);
    expect(s.rate).toBeCloseTo(2 / 3, 12);
    expect(s.interval).toEqual(wilsonInterval(2, 3));
    expect(selfAgreement(answers.slice(0, 3))).toEqual({ repeats: 0, agreed: 0, rate: null, interval: null });
  });
});

describe('Run.blindPair', () => {
  const base = smallWordGpt(tok.size, 7);
  afterAll(() => disposeParams(base.params));

  it('refuses an untrained method; after a step, gives base and method on seeded sides, the same pairs for the same seed, no tensor left', async () => {
    const draws: string[][] = [];
    for (const seed of [5, 5]) {
      const run = smallRun(seed, smallSettings(), base);
      await expect(run.blindPair('ppo')).rejects.toThrow(/has not trained yet/);
      await run.step('ppo');
      const before = tf.memory().numTensors;
      const out: string[] = [];
      const sides = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const d = await run.blindPair('ppo');
        expect(d).toMatchObject({ method: 'ppo', steps: 1, draw: i + 1 });
        expect(run.promptPool).toContain(d.prompt);
        sides.add(d.methodSide);
        out.push(`${d.prompt}|${d.left}|${d.right}|${d.methodSide}`);
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(sides).toEqual(new Set(['left', 'right']));
      draws.push(out);
      run.dispose();
    }
    expect(draws[0]).toEqual(draws[1]);
  });
});

describe('repeatCandidates', () => {
  it('first showings of the method, not repeated yet, and not the last REPEAT_MIN_GAP answers', () => {
    const answers = [
      outcome('a', 'left', 'left'),
      outcome('b', 'right', 'left'),
      outcome('c', 'left', 'tie', null, 'grpo'),
      outcome('d', 'right', 'right'),
      outcome('r', 'left', 'left', 'b'),
      outcome('e', 'left', 'right'),
      outcome('f', 'left', 'right'),
    ];
    expect(REPEAT_MIN_GAP).toBe(2);
    // b was repeated; c is another method; e and f are the last two answers
    expect(repeatCandidates(answers, 'ppo').map((x) => x.id)).toEqual(['a', 'd']);
    expect(repeatCandidates(answers, 'grpo').map((x) => x.id)).toEqual(['c']);
    expect(repeatCandidates(answers.slice(0, 2), 'ppo')).toEqual([]);
  });
});
