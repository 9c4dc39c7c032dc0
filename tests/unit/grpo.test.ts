import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { mean } from '../../src/lib/math/stats';
import { groupAdvantages } from '../../src/lib/rl/group-math';
import { DEFAULT_GRPO, GRPO, GrpoTrainer, type GrpoConfig } from '../../src/lib/rl/methods/grpo';
import { METHODS } from '../../src/lib/rl/methods/registry';
import type { Scorer } from '../../src/lib/rl/methods/types';
import { isTruncated } from '../../src/lib/data/tokenizer';
import { completionIds } from '../../src/lib/rl/sequences';
import { countGreat, countLetters, GROUP_METRICS, groupTrainerContract, setup, tok, type MakeTrainer } from '../support/group-methods';

afterEach(() => tf.disposeVariables());
/** 4 prompts x 8 completions, a fast rate, no truncation penalty (the tiny model rarely ends). */
const FAST: GrpoConfig = { ...DEFAULT_GRPO, promptsPerIteration: 4, groupSize: 8, lr: 1e-2, truncationPenalty: 0 };
const make: MakeTrainer<GrpoConfig> = (ctx, config) => new GrpoTrainer(ctx, { ...FAST, ...config });

describe('GRPO trainer', () => {
  groupTrainerContract(make);

  it('raises the score of a trivial gold preference', async () => {
    const { trainer, dispose } = await setup(make, { klControl: 'fixed', beta: 0.01, lr: 3e-2 }, countGreat, 3);
    const scores: number[] = [];
    for (let i = 0; i < 8; i++) scores.push((await trainer.step()).metrics.reward);
    const early = (scores[0] + scores[1] + scores[2]) / 3;
    const late = (scores[5] + scores[6] + scores[7]) / 3;
    expect(late).toBeGreaterThan(early + 0.2); // here: about 0.05 -> 1.0 "great" per completion
    expect(late).toBeGreaterThan(2 * early);
    dispose();
  });

  it("the first pass's loss is minus the token-weighted mean advantage (loss_type 'dapo'; ratio 1, k3 0); the truncation penalty is in the reward", async () => {
    for (const scaleRewards of ['group', 'batch', 'none'] as const) {
      let seen: { scores: number[]; lengths: number[]; truncated: boolean[] } = { scores: [], lengths: [], truncated: [] };
      const scorer: Scorer = async (p, c) => {
        const scores = await countLetters(p, c);
        seen = { scores, lengths: c.map((t) => completionIds(tok, t).length), truncated: c.map(isTruncated) };
        return scores;
      };
      const { trainer, dispose } = await setup(make, { passes: 1, promptsPerIteration: 2, scaleRewards, truncationPenalty: 1 }, scorer, 7, 3);
      const { metrics } = await trainer.step();
      const rewards = seen.scores.map((s, b) => s - (seen.truncated[b] ? 1 : 0));
      const { advantages, fracZeroStd } = groupAdvantages(rewards, 8, scaleRewards);
      const tokens = seen.lengths.reduce((a, n) => a + n, 0);
      const expected = -advantages.reduce((a, x, b) => a + x * seen.lengths[b], 0) / tokens;
      expect(metrics.loss, scaleRewards).toBeCloseTo(expected, 5);
      expect(Math.abs(expected)).toBeGreaterThan(1e-3); // lengths differ, so a plain mean over completions would not match
      expect(metrics.reward).toBeCloseTo(mean(rewards), 10);
      expect(metrics.frac_reward_zero_std).toBe(fracZeroStd);
      expect(metrics.kl).toBeCloseTo(0, 6);
      expect(metrics['completions/mean_length']).toBeCloseTo(mean(seen.lengths), 10);
      expect(metrics['completions/clipped_ratio']).toBeCloseTo(mean(seen.truncated.map(Number)), 10);
      expect(metrics['completions/clipped_ratio']).toBeGreaterThan(0);
      expect(metrics['completions/clipped_ratio']).toBeLessThan(1);
      dispose();
    }
  });

  it('is registered after PPO; every field has a default and a reason', () => {
    expect(Object.keys(METHODS).slice(0, 2)).toEqual(['ppo', 'grpo']);
    expect(METHODS.grpo).toBe(GRPO);
    for (const f of GRPO.fields) {
      expect(Object.hasOwn(GRPO.defaults, f.key), f.key).toBe(true);
      expect(f.reason.length, f.key).toBeGreaterThan(15);
    }
    expect(GRPO.defaults).toMatchObject({ klControl: 'adaptive', targetKl: 4.5, epsilon: 0.2, beta: 0.3, scaleRewards: 'group' });
    for (const c of GRPO.charts) for (const k of c.keys) expect(GROUP_METRICS, k).toContain(k);
  });
});
