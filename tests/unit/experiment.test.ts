// A miniature of `npm run experiment` on the shipped base model: every stage runs, the JSON fields
// exist, and the same seed gives the same result.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../../src/lib/config/experiment';
import { DEFAULT_PPO } from '../../src/lib/config/ppo';
import { DEFAULT_REWARD } from '../../src/lib/config/reward';
import { Rng } from '../../src/lib/math/rng';
import { disposeParams } from '../../src/lib/model/params';
import { Experiment } from '../../src/lib/rl/experiment';
import { loadBase } from '../support/base-model';

const { model, tokenizer } = loadBase('exp-base');
afterAll(() => disposeParams(model.params));

const TINY: ExperimentConfig = {
  ...DEFAULT_EXPERIMENT, labels: 12, warmupLabels: 6, selectionRound: 3, candidates: 4, ppoIterations: 2, bestOfN: 2,
  dpoSteps: 2, sftSteps: 2, evalPrompts: 16, heldoutPairs: 24, rounds: 2,
};

describe('experiment', () => {
  const make = () => new Experiment(model, tokenizer, TINY, { ppo: { ...DEFAULT_PPO, rolloutsPerIteration: 8 }, reward: { ...DEFAULT_REWARD, refitSteps: 4 } });

  it('runs every method with online rounds and reports the JSON fields', async () => {
    const before = tf.memory().numTensors;
    const results = await make().run(1);
    expect(results.map((r) => r.method)).toEqual(['ppo', 'best-of-n', 'dpo', 'sft']);
    for (const r of results) {
      expect(r.labels).toBe(12);
      for (const k of ['rmAccuracy', 'goldWinRate', 'goldScore', 'klPerSequence', 'distinct', 'seconds'] as const) expect(Number.isFinite(r[k]), `${r.method} ${k}`).toBe(true);
      expect(r.goldWinRate).toBeGreaterThanOrEqual(0);
      expect(r.goldWinRate).toBeLessThanOrEqual(1);
    }
    expect(results[1].klPerSequence).toBeCloseTo(Math.log(2) - 0.5, 6);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('collects labels by the selection rule, deterministically for a seed', async () => {
    const a = await make().collectLabels(model, 8, new Rng(3));
    const b = await make().collectLabels(model, 8, new Rng(3));
    expect(a).toEqual(b);
    expect(a).toHaveLength(8);
    for (const l of a) expect(l.completionA).not.toBe(l.completionB);
  });

  it('disagreement selection shows "most different" pairs for the warm-up labels only, then its own', async () => {
    const cfg = { ...TINY, warmupLabels: 4, selectionRound: 2 };
    const collect = (selection: ExperimentConfig['selection'], count: number) => new Experiment(model, tokenizer, { ...cfg, selection }).collectLabels(model, count, new Rng(5));
    const pairOf = (l: { prompt: string; completionA: string; completionB: string }) => [l.prompt, l.completionA, l.completionB];
    const disagreement = (await collect('disagreement', 8)).map(pairOf);
    expect(disagreement.slice(0, 4)).toEqual((await collect('most-different', 4)).map(pairOf));
    expect(disagreement).not.toEqual((await collect('most-different', 8)).map(pairOf));
  });
});
