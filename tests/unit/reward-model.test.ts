import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_REWARD } from '../../src/lib/config/reward';
import { Tokenizer } from '../../src/lib/data/tokenizer';
import { logSigmoid } from '../../src/lib/math/stats';
import { Rng } from '../../src/lib/math/rng';
import { HEAD_WEIGHT } from '../../src/lib/model/heads';
import { disposeParams } from '../../src/lib/model/params';
import { bradleyTerryLoss, RewardModel } from '../../src/lib/rl/reward-model';
import { comparisonPairs, type Label } from '../../src/lib/rl/preferences';
import { label, smallWordGpt, snapshot } from '../support/tiny';

afterEach(() => tf.disposeVariables());
const tok = new Tokenizer();

const LABELS: Label[] = [
  label('1', 'the pizza was', 'great.', 'awful.', 'A'),
  label('2', 'the hotel was', 'dirty.', 'lovely.', 'B'),
  label('3', 'what a', 'great cafe.', 'boring cafe.', 'A'),
  label('4', 'the staff', 'were rude.', 'were great.', 'B'),
  label('5', 'we loved', 'the cake.', 'the coffee.', 'tie'),
];

describe('Bradley-Terry loss', () => {
  it('equals logistic regression on score differences, with weights', async () => {
    const chosen = [1.5, -0.2, 3, 0];
    const rejected = [0.5, 0.3, -1, 0];
    const weights = [1, 1, 0.5, 0.5];
    const loss = tf.tidy(() => bradleyTerryLoss(tf.tensor1d(chosen), tf.tensor1d(rejected), tf.tensor1d(weights)));
    const expected = -chosen.reduce((a, c, i) => a + weights[i] * logSigmoid(c - rejected[i]), 0) / 3;
    expect((await loss.data())[0]).toBeCloseTo(expected, 5);
    loss.dispose();
  });

  it('a tie (both orders at weight 1/2) is minimised by equal scores', async () => {
    const at = async (d: number) => {
      const l = tf.tidy(() => bradleyTerryLoss(tf.tensor1d([d, 0]), tf.tensor1d([0, d]), tf.tensor1d([0.5, 0.5])));
      const v = (await l.data())[0];
      l.dispose();
      return v;
    };
    expect(await at(0)).toBeCloseTo(Math.log(2), 5);
    expect(await at(0.5)).toBeGreaterThan(await at(0));
    expect(await at(-0.5)).toBeGreaterThan(await at(0));
  });
});

describe('reward model', () => {
  const fast = { ...DEFAULT_REWARD, lr: 3e-3, refitSteps: 30, batchSize: 8 };

  it('learns the labelled orderings, leaves the base untouched, and keeps the tensor count flat', async () => {
    const base = smallWordGpt(tok.size, 3);
    const baseBefore = await snapshot(base);
    const rm = new RewardModel(base, tok, fast, new Rng(1));
    const pairs = comparisonPairs(LABELS);
    const tensorsBefore = tf.memory().numTensors;
    await rm.refit(pairs);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // a refit re-creates its members, no more, no less
    expect(rm.steps).toBe(30);
    expect(rm.lastLoss).toBeLessThan(0.3);
    const decisive = pairs.filter((p) => p.weight === 1);
    expect(await rm.accuracy(decisive)).toBe(1);
    expect(await snapshot(base)).toEqual(baseBefore);
    const { scores } = await rm.score(['the pizza was', 'the pizza was'], ['great.', 'awful.']);
    expect(scores[0]).toBeGreaterThan(scores[1]);
    await rm.refit(pairs);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    rm.dispose();
    disposeParams(base.params);
  });

  it('an incremental update moves the new pair the labelled way and costs few steps', async () => {
    const base = smallWordGpt(tok.size, 4);
    const rm = new RewardModel(base, tok, { ...fast, incrementalSteps: 5 }, new Rng(2));
    const newPair = comparisonPairs([label('6', 'the pizza was', 'lovely.', 'nasty.', 'A')]);
    const before = await rm.score(['the pizza was', 'the pizza was'], ['lovely.', 'nasty.']);
    await rm.update(newPair, newPair);
    const after = await rm.score(['the pizza was', 'the pizza was'], ['lovely.', 'nasty.']);
    expect(after.scores[0] - after.scores[1]).toBeGreaterThan(before.scores[0] - before.scores[1]);
    expect(rm.steps).toBe(5);
    rm.dispose();
    // Incremental steps use incrementalLr, not the refit's lr.
    const still = new RewardModel(base, tok, { ...fast, incrementalLr: 0 }, new Rng(2));
    const weightsBefore = await snapshot(still.primary);
    await still.update(newPair, newPair);
    expect(await snapshot(still.primary)).toEqual(weightsBefore);
    still.dispose();
    disposeParams(base.params);
  });

  it('normalises scores to mean 0 and std 1 on given samples; an ensemble reports every member', async () => {
    const base = smallWordGpt(tok.size, 5);
    const rm = new RewardModel(base, tok, { ...fast, ensembleSize: 3, refitSteps: 5 }, new Rng(3));
    await rm.refit(comparisonPairs(LABELS));
    const prompts = ['the pizza was', 'what a', 'the staff', 'we loved'];
    const comps = ['great.', 'boring cafe.', 'were rude.', 'the cake.'];
    await rm.setNormalisation(prompts, comps);
    const { scores, members } = await rm.score(prompts, comps);
    expect(members).toHaveLength(3);
    const mean = scores.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
    expect(mean).toBeCloseTo(0, 5);
    expect(sd).toBeCloseTo(1, 4);
    // Bootstrap members differ from each other.
    expect(members[1]).not.toEqual(members[2]);
    rm.dispose();
    disposeParams(base.params);
  });

  it('a refit taken step by step (startRefit, as the worker does) ends bit-identical to one call', async () => {
    const base = smallWordGpt(tok.size, 7);
    const config = { ...fast, ensembleSize: 2, refitSteps: 6 };
    const whole = new RewardModel(base, tok, config, new Rng(5));
    const stepped = new RewardModel(base, tok, config, new Rng(5));
    const pairs = comparisonPairs(LABELS);
    await whole.refit(pairs);
    const run = stepped.startRefit(pairs);
    const losses: number[] = [];
    while (!run.done) losses.push(await run.step());
    expect(run.taken).toBe(6);
    expect(losses).toHaveLength(6);
    await expect(run.step()).rejects.toThrow(/already run/);
    expect(stepped.lastLoss).toBe(whole.lastLoss);
    const probe = [['the pizza was', 'the staff'], ['great.', 'were rude.']] as const;
    expect(await stepped.rawScores(...probe)).toEqual(await whole.rawScores(...probe));
    whole.dispose();
    stepped.dispose();
    disposeParams(base.params);
  });

  it('a head learning-rate scale of 0 trains the trunk only', async () => {
    const base = smallWordGpt(tok.size, 8);
    const rm = new RewardModel(base, tok, { ...fast, headLrScale: 0, refitSteps: 3 }, new Rng(6));
    await rm.refit(comparisonPairs(LABELS));
    const after = await snapshot(rm.primary);
    expect(Array.from(after.get(HEAD_WEIGHT)!).every((v) => v === 0)).toBe(true);
    const trunk = await snapshot(base);
    expect([...trunk].some(([name, v]) => after.get(name)!.some((x, i) => x !== v[i]))).toBe(true);
    rm.dispose();
    disposeParams(base.params);
  });

  it('refuses to refit on no labels', async () => {
    const base = smallWordGpt(tok.size, 6);
    const rm = new RewardModel(base, tok, fast, new Rng(4));
    await expect(rm.refit([])).rejects.toThrow(/at least one/);
    rm.dispose();
    disposeParams(base.params);
  });
});
