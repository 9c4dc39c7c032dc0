// The pipeline's code below the page: one reward-model step through the shared run
// (Run.rewardStep: one Bradley-Terry step on all labels, deterministic from the run seed, no tensor
// left behind, refused without a comparison), the metric names its policy and reference boxes read
// (each a column of that method's charts), and which worker event lights which arrow.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeParams } from '../../src/lib/model/params';
import { METHODS, METHOD_NAMES } from '../../src/lib/rl/methods/registry';
import type { Label } from '../../src/lib/rl/preferences';
import type { Run } from '../../src/lib/rl/run';
import type { RewardMetrics, WorkerEvent } from '../../src/lib/protocol/messages';
import { boxNumber, flowOf, groupDigits, hasPolicyKeys, plural, POLICY_KEYS, shortDate } from '../../src/ui/state/pipeline';
import { smallRun, smallSettings, tok } from '../support/run';
import { smallWordGpt } from '../support/tiny';

const base = smallWordGpt(tok.size, 7);
afterAll(() => disposeParams(base.params));

async function labelled(run: Run, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const pair = await run.makePair(null);
    const label: Label = { id: `p${i}`, prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice: i % 2 === 0 ? 'A' : 'B', source: 'human', time: 0 };
    await run.learn([label]);
  }
}

describe('Run.rewardStep', () => {
  it('refuses to step a reward model that has no comparison', async () => {
    const run = smallRun(1, smallSettings(), base);
    await expect(run.rewardStep()).rejects.toThrow(/no comparison/);
    run.dispose();
  });

  it('takes exactly one Bradley-Terry step on the labels, the same one from the same seed, and leaks no tensor', async () => {
    const fits = [];
    for (const seed of [4, 4]) {
      const run = smallRun(seed, smallSettings(), base);
      await labelled(run, 3);
      const before = await run.rewardFit();
      const tensors = tf.memory().numTensors;
      const after = await run.rewardStep();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(after.steps).toBe(before.steps + 1);
      expect(after.labels).toBe(3);
      expect(after.loss).not.toBe(before.loss); // the weights moved
      expect(Number.isFinite(after.loss)).toBe(true);
      expect(after).toEqual(await run.rewardFit()); // what it reports is the run's own fit after the step
      fits.push(after);
      run.dispose();
    }
    expect(fits[0]).toEqual(fits[1]);
  });

  it('steps the way the label updates do: many steps lower the loss on the labels', async () => {
    const run = smallRun(2, smallSettings(), base);
    await labelled(run, 4);
    const start = await run.rewardFit();
    let fit = start;
    for (let i = 0; i < 12; i++) fit = await run.rewardStep();
    expect(fit.steps).toBe(start.steps + 12);
    expect(fit.loss).toBeLessThan(start.loss);
    run.dispose();
  });
});

describe('pipeline boxes and arrows', () => {
  it('writes whole numbers with commas between thousands, as en-US does', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 2_370_432, 1_000_000_000, -4567]) expect(groupDigits(n)).toBe(n.toLocaleString('en-US'));
    expect(plural(1, 'label')).toBe('1 label');
    expect(plural(12_345, 'label')).toBe('12,345 labels');
    expect(boxNumber(2_370_432.4)).toBe('2,370,432');
  });

  it('writes a local date as en-GB does, without Intl', () => {
    for (const d of [new Date(2026, 11, 3, 18, 34), new Date(2027, 0, 1, 0, 5), new Date(2026, 4, 31, 9, 0)]) {
      const intl = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
      expect(shortDate(d)).toBe(intl.replace(' at ', ', ').replace('Sept', 'Sep'));
    }
    expect(shortDate(new Date(2026, 11, 3, 18, 34))).toBe('3 Dec 2026, 18:34');
  });

  it("reads each RL method's RM score, KL and beta from columns its own charts draw", () => {
    const shown = METHOD_NAMES.filter(hasPolicyKeys);
    expect(shown).toEqual(METHOD_NAMES.filter((m) => METHODS[m].kind === 'online'));
    for (const name of shown) {
      const columns = METHODS[name].charts.flatMap((c) => c.keys);
      for (const key of Object.values(POLICY_KEYS[name]!)) expect(columns, `${name}: ${key}`).toContain(key);
    }
  });

  it('lights one arrow per kind of event', () => {
    const rm = (cause: RewardMetrics['cause']): WorkerEvent => ({ type: 'rewardModel', metrics: { labels: 1, loss: 0.6, accuracy: 1, steps: 2, update: 1, cause } });
    const iteration = (method: 'ppo' | 'grpo'): WorkerEvent => ({ type: 'iteration', method, step: 1, metrics: {}, samples: [] });
    const pair: WorkerEvent = { type: 'pair', pair: { id: 1, epoch: 0, prompt: 'what a', a: 'x', b: 'y', from: 'base', steps: 0, strategy: 'diverse', candidates: 4 } };
    expect(flowOf(pair, 'ppo')).toBe('pair');
    expect(flowOf(rm('labels'), 'ppo')).toBe('label');
    expect(flowOf(rm('edit'), 'ppo')).toBe('label');
    expect(flowOf(rm('refit'), 'ppo')).toBe('reward');
    expect(flowOf(rm('step'), 'ppo')).toBe('reward');
    expect(flowOf(iteration('ppo'), 'ppo')).toBe('kl');
    expect(flowOf(iteration('grpo'), 'ppo')).toBeNull(); // another method's iteration: not the policy shown
    expect(flowOf({ type: 'warning', message: 'x' }, 'ppo')).toBeNull();
  });
});
