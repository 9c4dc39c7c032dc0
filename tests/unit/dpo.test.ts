import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Tokenizer, UnknownWordsError } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import { logSigmoid } from '../../src/lib/math/stats';
import type { Gpt } from '../../src/lib/model/gpt';
import { disposeParams } from '../../src/lib/model/params';
import { DEFAULT_DPO, dpoLosses, dpoMetrics, DpoTrainer } from '../../src/lib/rl/dpo';
import { comparisonPairs, type Label } from '../../src/lib/rl/preferences';
import { completionLogProbsOf, label, smallWordGpt, snapshot } from '../support/tiny';

const tok = new Tokenizer();
const BETA = DEFAULT_DPO.beta;
const TEST_LR = 1e-2; // a random-init tiny model moves visibly in a few steps only at a high rate

const tinyBase = (seed = 1): Gpt => smallWordGpt(tok.size, seed);

const AB_LABELS: Label[] = [
  label('1', 'the pizza was', 'great. we loved it.', 'awful.', 'A'),
  label('2', 'the hotel was', 'so dirty.', 'lovely and clean.', 'B'),
  label('3', 'what a', 'great show.', 'boring show. i want my money back.', 'A'),
  label('4', 'the cafe was', 'nasty.', 'awesome.', 'B'),
];
const TIE = label('5', 'the park was', 'fine.', 'quiet.', 'tie');

const logProbsOf = (model: Gpt, prompts: string[], completions: string[]) => completionLogProbsOf(model, tok, prompts, completions);

interface PlainDpo {
  loss: number;
  margins: number;
  accuracies: number;
}

/** The DPO loss and reward metrics over all pairs of `labels`, on plain numbers. */
async function plainDpo(policy: Gpt, reference: Gpt, labels: Label[]): Promise<PlainDpo> {
  const pairs = comparisonPairs(labels);
  const prompts = pairs.map((p) => p.prompt);
  const [pc, pr, rc, rr] = await Promise.all([
    logProbsOf(policy, prompts, pairs.map((p) => p.chosen)),
    logProbsOf(policy, prompts, pairs.map((p) => p.rejected)),
    logProbsOf(reference, prompts, pairs.map((p) => p.chosen)),
    logProbsOf(reference, prompts, pairs.map((p) => p.rejected)),
  ]);
  let loss = 0;
  let margins = 0;
  let accuracies = 0;
  let den = 0;
  pairs.forEach((p, i) => {
    const margin = BETA * (pc[i] - rc[i]) - BETA * (pr[i] - rr[i]);
    loss += -p.weight * logSigmoid(margin);
    margins += p.weight * margin;
    accuracies += margin > 0 ? p.weight : 0;
    den += p.weight;
  });
  return { loss: loss / den, margins: margins / den, accuracies: accuracies / den };
}

describe('DPO loss', () => {
  it('dpoLosses is -log sigma(beta * (chosen log-ratio - rejected log-ratio)) on plain numbers', async () => {
    const rng = new Rng(3);
    const draw = () => Array.from({ length: 8 }, () => -20 * rng.next() - rng.normal());
    const [pc, pr, rc, rr] = [draw(), draw(), draw(), draw()];
    for (const beta of [0.1, 0.5, 3]) {
      const t = tf.tidy(() => dpoLosses(tf.tensor1d(pc), tf.tensor1d(pr), tf.tensor1d(rc), tf.tensor1d(rr), beta));
      const got = Array.from(await t.data());
      t.dispose();
      got.forEach((g, i) => expect(g).toBeCloseTo(-logSigmoid(beta * (pc[i] - rc[i] - (pr[i] - rr[i]))), 5));
    }
  });

  it('dpoMetrics weights each pair, so a tie counts half in each order', () => {
    const lp = { policyChosen: [-1, -3], policyRejected: [-3, -1], refChosen: [-2, -2], refRejected: [-2, -2] };
    const m = dpoMetrics(lp, [0.5, 0.5], 0.1, 0.7, 1.5);
    expect(m['rewards/chosen']).toBeCloseTo(0, 12);
    expect(m['rewards/margins']).toBeCloseTo(0, 12);
    expect(m['rewards/accuracies']).toBe(0.5);
    const one = dpoMetrics(lp, [1, 0.25], 0.1, 0.7, 1.5);
    expect(one['rewards/chosen']).toBeCloseTo((0.1 - 0.25 * 0.1) / 1.25, 12);
    expect(one['rewards/margins']).toBeCloseTo((0.2 - 0.25 * 0.2) / 1.25, 12);
    expect(one['rewards/accuracies']).toBeCloseTo(0.8, 12);
    expect(one.loss).toBe(0.7);
    expect(one.grad_norm).toBe(1.5);
  });
});

describe('DpoTrainer', () => {
  it('starts at loss log 2 with zero rewards: the policy is the reference', async () => {
    const base = tinyBase();
    const trainer = new DpoTrainer(base, tok, [...AB_LABELS, TIE]);
    const m = await trainer.step(new Rng(1));
    // The first step scores each row in the same layout as the reference did, so the log-probs are
    // bit-identical and the loss is log 2 exactly (in float32).
    expect(m.loss).toBe(Math.fround(Math.LN2));
    expect(m['rewards/chosen']).toBe(0);
    expect(m['rewards/rejected']).toBe(0);
    expect(m['rewards/margins']).toBe(0);
    expect(m.grad_norm).toBeGreaterThan(0);
    expect(trainer.steps).toBe(1);
    trainer.dispose();
    disposeParams(base.params);
  });

  it('a tie alone has no gradient at the reference: both orders pull equally', async () => {
    const base = tinyBase();
    const trainer = new DpoTrainer(base, tok, [TIE]);
    const m = await trainer.step(new Rng(1));
    expect(m.loss).toBeCloseTo(Math.LN2, 6);
    expect(m.grad_norm).toBeLessThan(1e-6);
    trainer.dispose();
    disposeParams(base.params);
  });

  it("reports the loss of a plain-number reference on the same log-probs, and the metrics that go with it", async () => {
    const base = tinyBase(2);
    const labels = [...AB_LABELS, TIE];
    const trainer = new DpoTrainer(base, tok, labels, { lr: TEST_LR });
    await trainer.train(3, new Rng(4)); // move the policy away from the reference first
    const expected = await plainDpo(trainer.policy, trainer.reference, labels);
    // A batch as large as the data holds every pair (in some order), so the step's loss is the full loss.
    const m = await trainer.step(new Rng(5));
    expect(trainer.pairs.length).toBeLessThanOrEqual(DEFAULT_DPO.batchSize);
    expect(m.loss).toBeGreaterThan(0);
    expect(m.loss).not.toBeCloseTo(Math.LN2, 3);
    expect(m.loss).toBeCloseTo(expected.loss, 5);
    expect(m['rewards/margins']).toBeCloseTo(expected.margins, 4);
    expect(m['rewards/accuracies']).toBeCloseTo(expected.accuracies, 10);
    trainer.dispose();
    disposeParams(base.params);
  });

  it('raises the margin, the accuracy and the log-prob of chosen completions', async () => {
    const base = tinyBase(3);
    const trainer = new DpoTrainer(base, tok, AB_LABELS, { lr: TEST_LR });
    const history = await trainer.train(15, new Rng(6));
    const [first, last] = [history[0], history[history.length - 1]];
    expect(first['rewards/accuracies']).toBe(0); // equal rewards are not "correct" (TRL's strict >)
    expect(last['rewards/margins']).toBeGreaterThan(first['rewards/margins'] + 0.5);
    expect(last['rewards/accuracies']).toBe(1);
    expect(last['rewards/chosen']).toBeGreaterThan(0);
    expect(last.loss).toBeLessThan(first.loss);
    const pairs = comparisonPairs(AB_LABELS);
    const prompts = pairs.map((p) => p.prompt);
    const chosenNow = await logProbsOf(trainer.policy, prompts, pairs.map((p) => p.chosen));
    const chosenRef = await logProbsOf(trainer.reference, prompts, pairs.map((p) => p.chosen));
    chosenNow.forEach((lp, i) => expect(lp).toBeGreaterThan(chosenRef[i]));
    trainer.dispose();
    disposeParams(base.params);
  });

  it('changes every policy weight and leaves the reference and the base bit-identical', async () => {
    const base = tinyBase(4);
    const trainer = new DpoTrainer(base, tok, AB_LABELS, { lr: TEST_LR });
    const [base0, ref0, pol0] = [await snapshot(base), await snapshot(trainer.reference), await snapshot(trainer.policy)];
    expect(pol0).toEqual(ref0);
    await trainer.train(3, new Rng(7));
    expect(await snapshot(base)).toEqual(base0);
    expect(await snapshot(trainer.reference)).toEqual(ref0);
    const pol1 = await snapshot(trainer.policy);
    for (const [name, v] of pol0) expect(pol1.get(name), name).not.toEqual(v);
    expect([...trainer.reference.params.values()].every((v) => !v.trainable)).toBe(true);
    trainer.dispose();
    disposeParams(base.params);
  });

  it('keeps the tensor count flat across steps and frees everything it made on dispose', async () => {
    const base = tinyBase(5);
    const before = tf.memory().numTensors;
    const trainer = new DpoTrainer(base, tok, [...AB_LABELS, TIE], { batchSize: 3 });
    const rng = new Rng(8);
    await trainer.step(rng); // warm-up: fills part of the reference cache (plain numbers, no tensors)
    const warm = tf.memory().numTensors;
    await trainer.train(4, rng);
    expect(tf.memory().numTensors).toBe(warm);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(base.params);
  });

  it('is deterministic for a seed', async () => {
    const run = async () => {
      const base = tinyBase(6);
      const trainer = new DpoTrainer(base, tok, [...AB_LABELS, TIE], { lr: TEST_LR, batchSize: 2 });
      const out = await trainer.train(3, new Rng(9));
      trainer.dispose();
      disposeParams(base.params);
      return out;
    };
    expect(await run()).toEqual(await run());
  });

  it('refuses labels without a preference, unknown words and pairs longer than the context', () => {
    const base = tinyBase();
    const before = tf.memory().numTensors;
    expect(() => new DpoTrainer(base, tok, [label('s', 'the pizza was', 'great.', 'bad.', 'skip')])).toThrow(RangeError);
    expect(() => new DpoTrainer(base, tok, [label('u', 'the pizza was', 'scrumptious.', 'bad.', 'A')])).toThrow(UnknownWordsError);
    const long = 'great. '.repeat(12).trim();
    expect(() => new DpoTrainer(base, tok, [label('l', 'the pizza was', long, 'bad.', 'A')])).toThrow(/context/);
    expect(tf.memory().numTensors).toBe(before); // nothing was copied before the checks
    disposeParams(base.params);
  });
});
