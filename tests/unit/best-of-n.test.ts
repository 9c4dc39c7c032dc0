import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import { createGpt, type Gpt } from '../../src/lib/model/gpt';
import { disposeParams } from '../../src/lib/model/params';
import { bestOfN, bestOfNKl, type BestOfNResult, type Scorer } from '../../src/lib/rl/best-of-n';

const tok = new Tokenizer();
const PROMPTS = ['the pizza was', 'what a', 'the hotel was'];
const N = 4;
const MAX_NEW = 5; // short completions keep the test fast; the random model rarely ends them

function tinyPolicy(seed = 1): Gpt {
  return createGpt({ vocabSize: tok.size, contextLength: 24, dModel: 16, nLayers: 1, nHeads: 2, maxNewTokens: 12 }, new Rng(seed), 'bon-test');
}

/** A trivial scorer: how many letters "e" the completion holds. Records what it was asked. */
function countE(calls: { prompts: string[]; completions: string[] }[] = []): Scorer {
  return async (prompts, completions) => {
    calls.push({ prompts, completions });
    return completions.map((c) => [...c].filter((ch) => ch === 'e').length);
  };
}

async function run(seed: number, scorer: Scorer, policySeed = 1): Promise<BestOfNResult> {
  const policy = tinyPolicy(policySeed);
  try {
    return await bestOfN(policy, tok, PROMPTS, scorer, { n: N, rng: new Rng(seed), maxNewTokens: MAX_NEW });
  } finally {
    disposeParams(policy.params);
  }
}

describe('bestOfNKl', () => {
  it('is log n - (n - 1) / n: 0 for one sample, growing like log n', () => {
    expect(bestOfNKl(1)).toBe(0);
    expect(bestOfNKl(4)).toBeCloseTo(Math.log(4) - 0.75, 12);
    expect(bestOfNKl(16)).toBeCloseTo(1.835, 3); // prototype 1's best-of-16 row: KL 1.84
    expect(bestOfNKl(64)).toBeGreaterThan(bestOfNKl(16));
    for (const bad of [0, -1, 2.5, NaN]) expect(() => bestOfNKl(bad)).toThrow(RangeError);
  });
});

describe('bestOfN', () => {
  it('keeps the highest-scoring of n candidates per prompt and reports the KL', async () => {
    const calls: { prompts: string[]; completions: string[] }[] = [];
    const result = await run(3, countE(calls));
    expect(result.kl).toBe(bestOfNKl(N));
    // One scorer call with every candidate, each prompt repeated n times in a row.
    expect(calls).toHaveLength(1);
    expect(calls[0].prompts).toEqual(PROMPTS.flatMap((p) => Array<string>(N).fill(p)));
    expect(result.choices.map((c) => c.prompt)).toEqual(PROMPTS);
    result.choices.forEach((c, p) => {
      expect(c.candidates).toHaveLength(N);
      expect(c.candidates).toEqual(calls[0].completions.slice(p * N, (p + 1) * N));
      expect(c.bestScore).toBe(Math.max(...c.scores));
      expect(c.bestIndex).toBe(c.scores.indexOf(c.bestScore)); // the first of equal best
      expect(c.best).toBe(c.candidates[c.bestIndex]);
    });
    expect(result.choices.some((c) => new Set(c.scores).size > 1)).toBe(true); // the choice was not trivial
    // Candidates differ: they are samples, not copies of one.
    expect(new Set(result.choices.flatMap((c) => c.candidates)).size).toBeGreaterThan(PROMPTS.length);
  });

  it('breaks ties towards the first candidate and never picks a NaN score', async () => {
    const scorer: Scorer = async (_prompts, completions) => completions.map((_, i) => [NaN, 1, 3, 3][i % N]);
    const result = await run(4, scorer);
    for (const c of result.choices) {
      expect(c.bestIndex).toBe(2);
      expect(c.bestScore).toBe(3);
    }
  });

  it('is deterministic for a seed, and another seed draws other candidates', async () => {
    const a = await run(5, countE());
    expect(await run(5, countE())).toEqual(a);
    const b = await run(6, countE());
    expect(b.choices.map((c) => c.candidates)).not.toEqual(a.choices.map((c) => c.candidates));
  });

  it('samples in chunks without leaking tensors, and refuses a scorer that returns the wrong count', async () => {
    const policy = tinyPolicy(2);
    const before = tf.memory().numTensors;
    const chunked = await bestOfN(policy, tok, PROMPTS, countE(), { n: N, rng: new Rng(7), maxNewTokens: MAX_NEW, maxBatchRows: 5 });
    expect(chunked.choices.every((c) => c.candidates.length === N)).toBe(true);
    const short: Scorer = async (_p, completions) => completions.slice(1).map(() => 0);
    await expect(bestOfN(policy, tok, PROMPTS, short, { n: N, rng: new Rng(7), maxNewTokens: MAX_NEW })).rejects.toThrow(RangeError);
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(policy.params);
  });
});
