import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { mean } from '../../src/lib/math/stats';
import { leaveOneOutAdvantages } from '../../src/lib/rl/group-math';
import { METHODS } from '../../src/lib/rl/methods/registry';
import { DEFAULT_RLOO, RLOO, RlooTrainer, type RlooConfig } from '../../src/lib/rl/methods/rloo';
import type { Scorer } from '../../src/lib/rl/methods/types';
import { completionIds } from '../../src/lib/rl/sequences';
import { countGreat, countLetters, GROUP_METRICS, groupTrainerContract, setup, tok, type MakeTrainer } from '../support/group-methods';

afterEach(() => tf.disposeVariables());
/** 4 prompts x 8 completions, a fast rate, no truncation penalty (the tiny model rarely ends). */
const FAST: RlooConfig = { ...DEFAULT_RLOO, promptsPerIteration: 4, groupSize: 8, lr: 1e-2, truncationPenalty: 0 };
const make: MakeTrainer<RlooConfig> = (ctx, config) => new RlooTrainer(ctx, { ...FAST, ...config });

describe('RLOO trainer', () => {
  groupTrainerContract(make);

  it('raises the score of a trivial gold preference', async () => {
    const { trainer, dispose } = await setup(make, { klControl: 'fixed', beta: 0.01, lr: 3e-2 }, countGreat, 2);
    const scores: number[] = [];
    for (let i = 0; i < 8; i++) scores.push((await trainer.step()).metrics.reward);
    const early = (scores[0] + scores[1] + scores[2]) / 3;
    const late = (scores[5] + scores[6] + scores[7]) / 3;
    expect(late).toBeGreaterThan(early + 0.2); // here: about 0.06 -> 0.9 "great" per completion
    expect(late).toBeGreaterThan(2 * early);
    dispose();
  });

  it("the first pass's loss is the mean over completions of minus the advantage, 0 as each group's sum is (a mean over tokens would not be)", async () => {
    let scores: number[] = [];
    let lengths: number[] = [];
    const scorer: Scorer = async (p, c) => {
      lengths = c.map((t) => completionIds(tok, t).length);
      return (scores = await countLetters(p, c));
    };
    for (const normalizeAdvantages of ['off', 'on'] as const) {
      const { trainer, dispose } = await setup(make, { passes: 1, promptsPerIteration: 2, normalizeAdvantages }, scorer, 7, 3);
      const { metrics } = await trainer.step();
      // the first KL is 0, so the rewards are the scores
      const { advantages, fracZeroStd } = leaveOneOutAdvantages(scores, 8, normalizeAdvantages === 'on');
      expect(metrics.loss).toBeCloseTo(-mean(advantages), 5);
      expect(metrics.loss).toBeCloseTo(0, 5);
      const tokenMean = advantages.reduce((a, x, b) => a + x * lengths[b], 0) / lengths.reduce((a, n) => a + n, 0);
      expect(Math.abs(tokenMean)).toBeGreaterThan(1e-3);
      expect(metrics.frac_reward_zero_std).toBe(fracZeroStd);
      dispose();
    }
  });

  it('is registered after GRPO; every field has a default and a reason', () => {
    expect(Object.keys(METHODS).slice(0, 3)).toEqual(['ppo', 'grpo', 'rloo']);
    expect(METHODS.rloo).toBe(RLOO);
    for (const f of RLOO.fields) {
      expect(Object.hasOwn(RLOO.defaults, f.key), f.key).toBe(true);
      expect(f.reason.length, f.key).toBeGreaterThan(15);
    }
    expect(RLOO.defaults).toMatchObject({ klControl: 'adaptive', targetKl: 4.5, epsilon: 0.2, beta: 0.1, normalizeAdvantages: 'off' });
    for (const c of RLOO.charts) for (const k of c.keys) expect(GROUP_METRICS, k).toContain(k);
  });
});
