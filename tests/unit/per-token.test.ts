// The per-token view's numbers (src/lib/rl/per-token.ts) as PPO, GRPO and RLOO measure them with
// their own training code: checked against independent oracles (the evaluation's sequence KL,
// GAE's telescoping sum at gamma = lambda = 1, the group formulas written out), with no weight
// change and a flat tensor count across calls.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PPO, type PpoConfig } from '../../src/lib/config/ppo';
import { Rng } from '../../src/lib/math/rng';
import { mean, std } from '../../src/lib/math/stats';
import { cloneGpt, ensureScalarHead } from '../../src/lib/model/heads';
import { disposeParams } from '../../src/lib/model/params';
import { klOnSamples } from '../../src/lib/rl/evaluation';
import { DEFAULT_GRPO, GrpoTrainer, type GrpoConfig } from '../../src/lib/rl/methods/grpo';
import { DEFAULT_RLOO, RlooTrainer, type RlooConfig } from '../../src/lib/rl/methods/rloo';
import { total, type TokenBreakdown } from '../../src/lib/rl/per-token';
import { PpoTrainer } from '../../src/lib/rl/ppo';
import { completionIds } from '../../src/lib/rl/sequences';
import { countLetters, setup, tok, PROMPTS, type MakeTrainer } from '../support/group-methods';
import { smallWordGpt, snapshot } from '../support/tiny';
import { ADVANTAGE_STD_EPS } from '../../src/lib/rl/group-math';

afterEach(() => tf.disposeVariables());

function checkTokens(b: TokenBreakdown): void {
  const ids = completionIds(tok, b.completion);
  expect(b.tokens).toEqual(ids.map((id) => (id === 1 ? '<eos>' : tok.vocab[id])));
  for (const row of [b.logRatio, b.klPenalty, b.advantage]) expect(row).toHaveLength(ids.length);
  for (const x of [...b.logRatio, ...b.klPenalty, ...b.advantage]) expect(Number.isFinite(x)).toBe(true);
}

describe('per-token view: PPO', () => {
  const FAST: PpoConfig = { ...DEFAULT_PPO, rolloutsPerIteration: 16, lr: 1e-2, truncationPenalty: 0.5, gamma: 1, lambda: 1, klControl: 'fixed', initKlCoef: 0.2 };

  it("sums to the sequence KL; GAE telescopes to score minus penalties; k1 times beta is the penalty; nothing trains; tensors stay flat", async () => {
    const base = smallWordGpt(tok.size, 4);
    const rm = cloneGpt(base, 'rm');
    ensureScalarHead(rm, 'rm');
    const ppo = new PpoTrainer(base, rm, countLetters, tok, FAST, new Rng(4), PROMPTS);
    let sample = { prompt: '', completion: '' };
    for (let i = 0; i < 3; i++) sample = (await ppo.step()).samples[0];
    const before = await snapshot(ppo.policy);
    const b = await ppo.explain(sample.prompt, sample.completion);
    const tensors = tf.memory().numTensors;
    const again = await ppo.explain(sample.prompt, sample.completion);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(again).toEqual(b);
    expect(await snapshot(ppo.policy)).toEqual(before);

    checkTokens(b);
    expect(b.advantageKind).toBe('gae');
    expect(b.steps).toBe(3);
    expect(b.beta).toBe(ppo.klCoef);
    expect(b.estimator).toBe('k1');
    // the log-ratio per token adds up to the evaluation's KL of this one sequence (another code path)
    const seqKl = await klOnSamples(ppo.policy, ppo.reference, tok, [sample.prompt], [sample.completion]);
    expect(Math.abs(seqKl)).toBeGreaterThan(1e-3); // the policy has moved: the test can fail
    expect(total(b.logRatio)).toBeCloseTo(seqKl, 4);
    expect(b.sequenceKl).toBe(total(b.logRatio));
    expect(b.penaltyTotal).toBe(total(b.klPenalty));
    b.klPenalty.forEach((p, t) => expect(p).toBeCloseTo(b.beta * b.logRatio[t], 6));
    // the score is the scorer's, less the truncation penalty when the completion has no EOS
    const [letters] = await countLetters([sample.prompt], [sample.completion]);
    expect(b.score).toBe(letters);
    const ended = b.tokens.at(-1) === '<eos>';
    expect(b.penalisedScore).toBeCloseTo(letters - (ended ? 0 : FAST.truncationPenalty), 5);
    // gamma = lambda = 1: A_0 + V_0 = sum of the rewards = score - sum of the KL penalties
    expect(b.values).not.toBeNull();
    expect(b.advantage[0] + b.values![0]).toBeCloseTo(b.penalisedScore - total(b.klPenalty), 3);
    // and at the last token A = score - penalty - V
    const n = b.tokens.length;
    expect(b.advantage[n - 1]).toBeCloseTo(b.penalisedScore - b.klPenalty[n - 1] - b.values![n - 1], 3);
    ppo.dispose();
    [base, rm].forEach((m) => disposeParams(m.params));
  });
});

describe('per-token view: GRPO and RLOO', () => {
  const GRPO_FAST: GrpoConfig = { ...DEFAULT_GRPO, promptsPerIteration: 2, groupSize: 6, lr: 1e-2, truncationPenalty: 0.5, klControl: 'fixed', beta: 0.3 };
  const RLOO_FAST: RlooConfig = { ...DEFAULT_RLOO, promptsPerIteration: 2, groupSize: 6, lr: 1e-2, truncationPenalty: 0.5, klControl: 'fixed', beta: 0.3 };
  const makeGrpo: MakeTrainer<GrpoConfig> = (ctx, config) => new GrpoTrainer(ctx, { ...GRPO_FAST, ...config });
  const makeRloo: MakeTrainer<RlooConfig> = (ctx, config) => new RlooTrainer(ctx, { ...RLOO_FAST, ...config });

  it("GRPO: k3 times beta per token, the group-normalised advantage on every token, the sequence KL; deterministic, flat tensors", async () => {
    const { trainer, base, dispose } = await setup(makeGrpo, {}, countLetters, 5, 3);
    let sample = { prompt: '', completion: '' };
    for (let i = 0; i < 3; i++) sample = (await trainer.step()).samples[0];
    const b = await trainer.explain(sample.prompt, sample.completion);
    const tensors = tf.memory().numTensors;
    expect(await trainer.explain(sample.prompt, sample.completion)).toEqual(b);
    expect(tf.memory().numTensors).toBe(tensors);

    checkTokens(b);
    expect(b.estimator).toBe('k3');
    expect(b.advantageKind).toBe('group');
    expect(b.values).toBeNull();
    const seqKl = await klOnSamples(trainer.policy, base, tok, [sample.prompt], [sample.completion]);
    expect(Math.abs(seqKl)).toBeGreaterThan(1e-3);
    expect(total(b.logRatio)).toBeCloseTo(seqKl, 4);
    // k3 = exp(-x) + x - 1 with x = log pi - log pi_ref, times beta
    b.klPenalty.forEach((p, t) => expect(p).toBeCloseTo(0.3 * (Math.exp(-b.logRatio[t]) + b.logRatio[t] - 1), 5));
    const g = b.group!;
    expect(g.rewards).toHaveLength(GRPO_FAST.groupSize);
    expect(g.completions).toHaveLength(GRPO_FAST.groupSize - 1);
    expect(g.rewards[0]).toBe(b.penalisedScore);
    const others = await countLetters(g.completions.map(() => sample.prompt), g.completions);
    others.forEach((s, i) => expect(g.rewards[i + 1]).toBeCloseTo(s - (g.completions[i].endsWith('…') ? 0.5 : 0), 5));
    expect(g.baseline).toBeCloseTo(mean(g.rewards), 6);
    expect(g.spread).toBeCloseTo(std(g.rewards, 1), 6);
    const expected = (g.rewards[0] - mean(g.rewards)) / (std(g.rewards, 1) + ADVANTAGE_STD_EPS);
    for (const a of b.advantage) expect(a).toBeCloseTo(expected, 5);
    dispose();
  });

  it('RLOO: beta x summed k1 is in the reward, the advantage is the reward minus the mean of the other rewards', async () => {
    const { trainer, dispose } = await setup(makeRloo, {}, countLetters, 6, 3);
    let sample = { prompt: '', completion: '' };
    for (let i = 0; i < 2; i++) sample = (await trainer.step()).samples[0];
    const b = await trainer.explain(sample.prompt, sample.completion);
    checkTokens(b);
    expect(b.estimator).toBe('k1');
    expect(b.advantageKind).toBe('leave-one-out');
    b.klPenalty.forEach((p, t) => expect(p).toBeCloseTo(0.3 * b.logRatio[t], 6));
    const g = b.group!;
    expect(g.rewards[0]).toBeCloseTo(b.penalisedScore - total(b.klPenalty), 5);
    const rest = g.rewards.slice(1);
    for (const a of b.advantage) expect(a).toBeCloseTo(g.rewards[0] - mean(rest), 5);
    expect(g.baseline).toBeCloseTo(mean(rest), 6);
    expect(g.spread).toBeNull();
    dispose();
  });
});
