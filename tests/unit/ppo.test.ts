import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PPO, type PpoConfig } from '../../src/lib/config/ppo';
import { splitTokens } from '../../src/lib/data/corpus';
import { Tokenizer } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import { ensureScalarHead, cloneGpt } from '../../src/lib/model/heads';
import { disposeParams } from '../../src/lib/model/params';
import { PpoTrainer, RolledBackError, type Scorer } from '../../src/lib/rl/ppo';
import { smallWordGpt, snapshot } from '../support/tiny';

afterEach(() => tf.disposeVariables());
const tok = new Tokenizer();
const PROMPTS = ['the pizza was', 'what a', 'the hotel was', 'we loved'];
/** A trivial gold preference: how often the completion says "great". */
const countGreat: Scorer = async (_p, completions) => completions.map((c) => splitTokens(c).filter((w) => w === 'great').length);
const FAST: PpoConfig = { ...DEFAULT_PPO, rolloutsPerIteration: 32, lr: 1e-2, truncationPenalty: 0 };

function setup(cfg: Partial<PpoConfig> = {}, scorer: Scorer = countGreat, seed = 1) {
  const base = smallWordGpt(tok.size, seed);
  const rm = cloneGpt(base, 'rm');
  ensureScalarHead(rm, 'rm');
  const ppo = new PpoTrainer(base, rm, scorer, tok, { ...FAST, ...cfg }, new Rng(seed), PROMPTS);
  return { base, rm, ppo, dispose: () => [base, rm].forEach((m) => disposeParams(m.params)) };
}

describe('PPO trainer', () => {
  it('raises the score of a trivial gold preference; the reference stays bit-identical; only policy and critic change', async () => {
    const { base, rm, ppo, dispose } = setup({ klControl: 'fixed', initKlCoef: 0.01 }, countGreat, 2);
    const [refBefore, baseBefore, rmBefore, policyBefore, criticBefore] = await Promise.all([ppo.reference, base, rm, ppo.policy, ppo.critic].map(snapshot));
    const scores: number[] = [];
    let tensors = 0;
    for (let i = 0; i < 12; i++) {
      const { metrics } = await ppo.step();
      scores.push(metrics['objective/scores']);
      if (i === 0) tensors = tf.memory().numTensors;
      else expect(tf.memory().numTensors).toBe(tensors);
    }
    const early = (scores[0] + scores[1] + scores[2]) / 3;
    const late = (scores[9] + scores[10] + scores[11]) / 3;
    expect(late).toBeGreaterThan(early + 0.1); // here: about 0.07 -> 0.20 "great" per completion
    expect(late).toBeGreaterThan(2 * early);
    expect(await snapshot(ppo.reference)).toEqual(refBefore);
    expect(await snapshot(base)).toEqual(baseBefore);
    expect(await snapshot(rm)).toEqual(rmBefore);
    const [policyAfter, criticAfter] = await Promise.all([snapshot(ppo.policy), snapshot(ppo.critic)]);
    for (const [name, v] of policyBefore) if (name !== 'wpe') expect(policyAfter.get(name), name).not.toEqual(v);
    expect(criticAfter.get('score.weight')).not.toEqual(criticBefore.get('score.weight'));
    ppo.dispose();
    dispose();
  });

  it('reports TRL metrics; the adaptive controller lowers beta while KL is under target and raises it above', async () => {
    const { ppo, dispose } = setup({ klControl: 'adaptive', targetKl: 50, initKlCoef: 0.05, klCoefMin: 0.01 });
    const { metrics } = await ppo.step();
    for (const key of ['objective/kl', 'objective/entropy', 'objective/non_score_reward', 'objective/rlhf_reward', 'objective/scores', 'objective/kl_coef',
      'policy/approxkl_avg', 'policy/clipfrac_avg', 'loss/policy_avg', 'loss/value_avg', 'val/clipfrac_avg', 'val/ratio'] as const) {
      expect(Number.isFinite(metrics[key]), key).toBe(true);
    }
    expect(metrics['objective/kl']).toBeCloseTo(0, 4); // the first rollout comes from a policy equal to the reference
    expect(metrics['objective/rlhf_reward']).toBeCloseTo(metrics['objective/scores'] + metrics['objective/non_score_reward'], 6);
    expect(ppo.klCoef).toBeLessThan(0.05);
    ppo.updateConfig({ klCoefMin: 0.049 });
    await ppo.step();
    expect(ppo.klCoef).toBe(0.049); // the floor holds while KL stays under target
    ppo.updateConfig({ targetKl: 1e-6 });
    await ppo.step(); // KL > 0 after one update: far above the tiny target
    const before = ppo.klCoef;
    await ppo.step();
    expect(ppo.klCoef).toBeGreaterThan(before);
    ppo.dispose();
    dispose();
  });

  it('a fixed beta stays fixed; the KL guard asks to stop a run that escaped its control', async () => {
    const { ppo, dispose } = setup({ klControl: 'fixed', initKlCoef: 0.02, klStop: -1 });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await ppo.step());
    expect(ppo.klCoef).toBe(0.02);
    expect(results[1].stopReason).toBeUndefined();
    expect(results[2].stopReason).toMatch(/KL guard/);
    ppo.dispose();
    dispose();
  });

  it('an iteration that produces NaN is rejected, reported, and rolled back', async () => {
    let poison = false;
    const scorer: Scorer = async (p, c) => (poison ? c.map(() => NaN) : countGreat(p, c));
    const { ppo, dispose } = setup({}, scorer);
    await ppo.step();
    const [policy, critic] = await Promise.all([snapshot(ppo.policy), snapshot(ppo.critic)]);
    const tensors = tf.memory().numTensors;
    poison = true;
    await expect(ppo.step()).rejects.toBeInstanceOf(RolledBackError);
    expect(await snapshot(ppo.policy)).toEqual(policy);
    expect(await snapshot(ppo.critic)).toEqual(critic);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(ppo.iteration).toBe(1);
    poison = false;
    await ppo.step();
    expect(ppo.iteration).toBe(2);
    ppo.dispose();
    dispose();
  });

  it('a NaN inside the update (huge learning rate) rolls back policy, critic and optimizer state', async () => {
    const { ppo, dispose } = setup();
    await ppo.step();
    const [policy, critic] = await Promise.all([snapshot(ppo.policy), snapshot(ppo.critic)]);
    ppo.updateConfig({ lr: Infinity });
    await expect(ppo.step()).rejects.toBeInstanceOf(RolledBackError);
    expect(await snapshot(ppo.policy)).toEqual(policy);
    expect(await snapshot(ppo.critic)).toEqual(critic);
    ppo.dispose();
    dispose();
  });
});
