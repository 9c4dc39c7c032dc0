// The checks every group-baseline trainer (GRPO, RLOO) must pass, written once and run by
// tests/unit/grpo.test.ts and tests/unit/rloo.test.ts on a small word model: a frozen reference
// (snake-dqn's target-network test), a flat tensor count after a warm-up step, bit-identical runs
// from one seed, rollback on NaN/Inf, TRL's metric names, the beta controller and the KL guard.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { splitTokens } from '../../src/lib/data/corpus';
import { EOS_ID, Tokenizer } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import type { Gpt } from '../../src/lib/model/gpt';
import { disposeParams } from '../../src/lib/model/params';
import type { GroupConfig, GroupTrainer } from '../../src/lib/rl/group-trainer';
import { RolledBackError, type MethodContext, type Scorer } from '../../src/lib/rl/methods/types';
import { smallWordGpt, snapshot } from './tiny';

export const tok = new Tokenizer();
export const PROMPTS = ['the pizza was', 'what a', 'the hotel was', 'we loved'];
/** A trivial gold preference: how often the completion says "great". */
export const countGreat: Scorer = async (_p, completions) => completions.map((c) => splitTokens(c).filter((w) => w === 'great').length);
/** A dense signal: the number of letters, which differs within almost every group. */
export const countLetters: Scorer = async (_p, completions) => completions.map((c) => c.replace(/[^a-z]/g, '').length);

/**
 * Gives EOS the logit `logit` at every position (about 8 % per token for 3), so that completions
 * end at varied lengths as a trained model's do: the random model almost never ends.
 */
export async function favourEos(model: Gpt, logit = 3): Promise<void> {
  const vars = ['ln_f.weight', 'ln_f.bias', 'lm_head.weight'].map((n) => model.params.get(n)!); // the head is (d, V)
  const [gain, bias, head] = await Promise.all(vars.map(async (v) => Float32Array.from(await v.data())));
  [gain[0], bias[0]] = [0, 1]; // hidden unit 0 is 1 at every position after ln_f ...
  head[EOS_ID] = logit; // ... and feeds EOS's logit (row 0 of the head)
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor([gain, bias, head][i], v.shape))));
}

/** The metric names every group trainer's step returns (TRL's, and the page's own). */
export const GROUP_METRICS = ['iteration', 'reward', 'reward_std', 'frac_reward_zero_std', 'kl', 'entropy', 'loss', 'clip_ratio/low_mean', 'clip_ratio/high_mean',
  'clip_ratio/region_mean', 'beta', 'kl/sequence', 'completions/mean_length', 'completions/clipped_ratio', 'completions/distinct', 'seconds'];

export type MakeTrainer<C extends GroupConfig> = (ctx: MethodContext, config: Partial<C>) => GroupTrainer<C>;

/** A trainer on a fresh small model (with `eosLogit`, one that ends: favourEos); `dispose` frees the trainer and the model. */
export async function setup<C extends GroupConfig>(make: MakeTrainer<C>, config: Partial<C> = {}, scorer: Scorer = countGreat, seed = 1, eosLogit = 0) {
  const base: Gpt = smallWordGpt(tok.size, seed);
  if (eosLogit > 0) await favourEos(base, eosLogit);
  const ctx: MethodContext = { base, tokenizer: tok, scorer, rewardModel: base, labels: [], demonstrations: [], prompts: PROMPTS, rng: new Rng(seed) };
  const trainer = make(ctx, config);
  return {
    base,
    trainer,
    dispose: () => {
      trainer.dispose();
      disposeParams(base.params);
    },
  };
}

/** Metrics without the wall-clock time. */
function timeless(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([k]) => k !== 'seconds'));
}

/** 2 prompts x 4 completions: enough for groups, cheap on the CPU backend. */
const SMALL = { promptsPerIteration: 2, groupSize: 4 };

/** Registers the shared checks as `it` blocks. */
export function groupTrainerContract<C extends GroupConfig>(make: MakeTrainer<C>): void {
  const small: MakeTrainer<C> = (ctx, config) => make(ctx, { ...SMALL, ...config });

  it("keeps the reference and the base model bit-identical, trains the policy, reports TRL's metric names, keeps the tensor count flat, and frees everything on dispose", async () => {
    const before = tf.memory().numTensors;
    const { base, trainer, dispose } = await setup(small, {}, countLetters);
    const [refBefore, baseBefore, policyBefore] = await Promise.all([trainer.reference, base, trainer.policy].map(snapshot));
    const first = await trainer.step(); // warm-up
    expect(Object.keys(first.metrics).sort()).toEqual([...GROUP_METRICS].sort());
    for (const [k, v] of Object.entries(first.metrics)) expect(Number.isFinite(v), k).toBe(true);
    expect(first.metrics.iteration).toBe(1);
    expect(first.metrics['kl/sequence']).toBeCloseTo(0, 4); // the policy still equals the reference
    expect(first.samples.map((s) => s.prompt)).toHaveLength(SMALL.promptsPerIteration); // one per group
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const { metrics } = await trainer.step();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(metrics['kl/sequence']).not.toBe(0);
    }
    expect(await snapshot(trainer.reference)).toEqual(refBefore);
    expect(await snapshot(base)).toEqual(baseBefore);
    const policyAfter = await snapshot(trainer.policy);
    for (const [name, v] of policyBefore) if (name !== 'wpe') expect(policyAfter.get(name), name).not.toEqual(v);
    dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the same seed gives bit-identical runs; a NaN score or a NaN update is rolled back (policy and optimizer) with RolledBackError', async () => {
    let poison = false;
    const scorer: Scorer = async (p, c) => (poison ? c.map(() => NaN) : countLetters(p, c));
    const run = await setup(small, {}, scorer, 4);
    const twin = await setup(small, {}, countLetters, 4);
    const [a1, b1] = await Promise.all([run.trainer.step(), twin.trainer.step()]);
    expect(timeless(a1.metrics)).toEqual(timeless(b1.metrics));
    expect(a1.samples).toEqual(b1.samples);
    const policy = await snapshot(run.trainer.policy);
    const tensors = tf.memory().numTensors;
    poison = true;
    await expect(run.trainer.step()).rejects.toBeInstanceOf(RolledBackError);
    poison = false;
    const lr = run.trainer.config.lr;
    run.trainer.configure({ lr: Infinity });
    await expect(run.trainer.step()).rejects.toBeInstanceOf(RolledBackError);
    run.trainer.configure({ lr });
    expect(await snapshot(run.trainer.policy)).toEqual(policy);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(run.trainer.steps).toBe(1);
    const [a2, b2] = await Promise.all([run.trainer.step(), twin.trainer.step()]);
    expect(timeless(a2.metrics)).toEqual(timeless(b2.metrics)); // Adam's moments and step count were restored too
    expect(await snapshot(run.trainer.policy)).toEqual(await snapshot(twin.trainer.policy));
    [run, twin].forEach((r) => r.dispose());
  });

  it('a fixed beta stays fixed; the adaptive one rises above target and never falls below its start; the KL guard asks to stop', async () => {
    const fixed = await setup(small, { klControl: 'fixed', beta: 0.02, klStop: -1 } as Partial<C>, countLetters);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await fixed.trainer.step());
    expect(results.map((r) => r.metrics.beta)).toEqual([0.02, 0.02, 0.02]);
    expect(results[1].stopReason).toBeUndefined();
    expect(results[2].stopReason).toMatch(/KL guard/);
    fixed.dispose();

    const adaptive = await setup(small, { klControl: 'adaptive', beta: 0.05, targetKl: 50 } as Partial<C>, countLetters);
    await adaptive.trainer.step();
    expect(adaptive.trainer.beta).toBe(0.05); // KL 0, far under target: held at its start
    adaptive.trainer.configure({ targetKl: 1e-6 });
    await adaptive.trainer.step(); // KL > 0 after one update: far above the tiny target
    expect(adaptive.trainer.beta).toBeGreaterThan(0.05);
    adaptive.trainer.configure({ klControl: 'fixed' });
    expect(adaptive.trainer.beta).toBe(0.05);
    adaptive.dispose();
  });
}
