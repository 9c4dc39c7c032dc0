// The run that the page and the experiment share (src/lib/rl/run.ts): one pair-selection rule,
// incremental learning with verdicts, the refit cadence, pairs from the current policy once a
// method has trained, evaluations that start at exactly 1/2, and no tensor left behind.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedAnnotator } from '../../src/lib/rl/annotators';
import type { Label } from '../../src/lib/rl/preferences';
import { brokenAt, type Run } from '../../src/lib/rl/run';
import { checkCompletion } from '../../src/lib/data/grammar';
import { smallRun, smallSettings, tok } from '../support/run';
import { smallWordGpt } from '../support/tiny';
import { disposeParams } from '../../src/lib/model/params';

const base = smallWordGpt(tok.size, 7);
afterAll(() => disposeParams(base.params));
const annotator = new SimulatedAnnotator({ preset: 'positive', noise: 0, tieRule: 'random' });

async function labelPairs(run: Run, count: number): Promise<Label[]> {
  const out: Label[] = [];
  const rng = run.stream('annotator');
  for (let i = 0; i < count; i++) {
    const pair = await run.makePair(null);
    const label: Label = { id: `l${i}`, prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice: annotator.label(pair.prompt, pair.a, pair.b, rng), source: 'simulated', time: 0 };
    await run.learn([label]);
    out.push(label);
  }
  return out;
}

describe('run', () => {
  it('chooses pairs by one rule: most different during the warm-up, then ensemble disagreement; the same seed gives the same pairs', async () => {
    const strategies: string[] = [];
    const pairs: string[][] = [];
    for (const seed of [3, 3]) {
      const run = smallRun(seed, smallSettings(), base);
      const s: string[] = [];
      const p: string[] = [];
      for (let i = 0; i < 5; i++) {
        const pair = await run.makePair(null);
        s.push(pair.strategy);
        p.push(`${pair.prompt}|${pair.a}|${pair.b}`);
        expect(pair.from).toBe('base');
        expect(pair.candidates).toBe(4);
        await run.learn([{ id: `l${i}`, prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice: 'A', source: 'simulated', time: 0 }]);
      }
      strategies.push(s.join(','));
      pairs.push(p);
      run.dispose();
    }
    // warmupLabels 3: the first three pairs are "most different", then the ensemble decides
    expect(strategies[0]).toBe('diverse,diverse,diverse,disagree,disagree');
    expect(pairs[0]).toEqual(pairs[1]);
  });

  it('gives a verdict per label, says when a refit is due, and a refit resets the count', async () => {
    const run = smallRun(1, smallSettings(), base);
    const labels = await labelPairs(run, 3);
    expect(run.labelCount).toBe(3);
    expect(run.refitDue).toBe(false);
    const pair = await run.makePair('the pizza was');
    const [v] = await run.learn([{ id: 'x', prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice: 'B', source: 'human', time: 0 }]);
    expect(v.labelId).toBe('x');
    expect(v.pAfter).toBeGreaterThan(0);
    expect(v.pAfter).toBeLessThan(1);
    expect(v.agreedAfter).toBe(v.pAfter < 0.5);
    expect(run.refitDue).toBe(true); // refitEvery 4
    await run.refitNow();
    expect(run.refitDue).toBe(false);
    const fit = await run.rewardFit();
    expect(fit.labels).toBe(4);
    expect(Number.isFinite(fit.loss)).toBe(true);
    expect(labels).toHaveLength(3);
    run.dispose();
  });

  it('marks where a completion first breaks the grammar, in completion tokens', () => {
    expect(brokenAt('the pizza was', 'great.')).toBeNull();
    expect(brokenAt('the pizza was', 'great great.')).toBe(1);
    expect(brokenAt('the pizza was', 'great. …')).toBe(2); // no EOS after the full stop
    expect(brokenAt('pizza the', 'was great.')).toBe(0); // the prompt itself is broken
  });

  it('judges an untrained method at exactly 1/2 against the base model; after training, pairs come from its policy', async () => {
    const run = smallRun(2, smallSettings(), base);
    await labelPairs(run, 2);
    run.setEnabled(['ppo']);
    const prompts = ['the pizza was', 'what a', 'we loved', 'the hotel was'];
    const before = await run.evaluate('base', annotator, prompts);
    expect(before.winRate).toBe(0.5);
    expect(before.blindWinRate).toBe(0.5);
    expect(before.grammatical).toBe(before.baseGrammatical);
    expect(before.grammatical).toBe(before.completions.filter((c, i) => checkCompletion(prompts[i], c).ok).length / prompts.length);
    expect(Number.isFinite(before.rmScore)).toBe(true);
    expect(before.klPerSequence).toBe(0);
    await run.step('ppo');
    const pair = await run.makePair(null);
    expect(pair.from).toBe('ppo');
    expect(pair.steps).toBe(1);
    const ev = await run.evaluate('ppo', annotator, ['the pizza was', 'what a']);
    expect(ev.steps).toBe(1);
    expect(Number.isFinite(ev.klPerSequence)).toBe(true);
    const strip = await run.strip(['the pizza was', 'what a']);
    expect(strip.map((r) => r.methods.map((m) => m.method))).toEqual([['ppo'], ['ppo']]);
    for (const row of strip) for (const m of row.methods) expect(m.brokenAt === null).toBe(checkCompletion(row.prompt, m.text).ok);
    run.resetMethods();
    expect((await run.makePair(null)).from).toBe('base');
    run.dispose();
  });

  it('offline methods train on the labels they were made with and go stale when the labels change', async () => {
    const run = smallRun(4, smallSettings(), base);
    await labelPairs(run, 2);
    while (!run.finished('dpo')) await run.step('dpo');
    expect(run.trainer('dpo')!.steps).toBe(2);
    expect(run.stale('dpo')).toBe(false);
    await labelPairs(run, 1);
    expect(run.stale('dpo')).toBe(true);
    run.dispose();
  });

  it('takes typed demonstrations for SFT in the vocabulary only, naming unknown words', async () => {
    const run = smallRun(6, smallSettings(), base);
    expect(() => run.setDemonstrations([{ prompt: 'the pizza was', completion: 'scrumptious and zesty.' }])).toThrow(/unknown words: "scrumptious", "zesty"/);
    run.setDemonstrations([{ prompt: 'the pizza was', completion: 'great. i would go again.' }]);
    expect(run.demonstrations).toHaveLength(1);
    while (!run.finished('sft')) await run.step('sft'); // SFT trains on a demonstration alone
    expect(run.trainer('sft')!.steps).toBe(2);
    run.dispose();
  });

  it('leaves no tensor behind: labels, refit, every method stepped and reset, then disposed', async () => {
    const before = tf.memory().numTensors;
    const run = smallRun(5, smallSettings(), base);
    await labelPairs(run, 4);
    await run.refitNow();
    for (const name of ['ppo', 'dpo', 'sft', 'best-of-n'] as const) await run.step(name);
    const during = tf.memory().numTensors;
    await run.step('ppo');
    await run.learn([{ id: 'more', prompt: 'what a', completionA: 'great day.', completionB: 'bad day.', choice: 'A', source: 'human', time: 0 }]);
    expect(tf.memory().numTensors).toBe(during);
    run.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
