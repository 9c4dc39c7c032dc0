// Every method of the registry honours the one interface (src/lib/rl/methods/types.ts): its config
// fields name keys of its defaults with a reason and a range the default lies in; its step returns
// finite metrics that include every key its charts draw; it completes prompts; it takes new settings;
// and dispose frees every tensor it made.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { checkField } from '../../src/lib/config/fields';
import { Rng } from '../../src/lib/math/rng';
import { cloneGpt, ensureScalarHead } from '../../src/lib/model/heads';
import { disposeParams } from '../../src/lib/model/params';
import { describeMethod, METHOD_NAMES, METHODS } from '../../src/lib/rl/methods/registry';
import type { MethodContext } from '../../src/lib/rl/methods/types';
import { smallSettings, tok } from '../support/run';
import { label, smallWordGpt } from '../support/tiny';

const base = smallWordGpt(tok.size, 3);
const rm = cloneGpt(base, 'rm');
ensureScalarHead(rm, 'rm');
afterAll(() => [base, rm].forEach((m) => disposeParams(m.params)));
const PROMPTS = ['the pizza was', 'what a', 'the hotel was', 'we loved'];
const LABELS = [
  label('a', 'the pizza was', 'great.', 'awful.', 'A'),
  label('b', 'what a', 'bad day.', 'great day.', 'B'),
  label('c', 'we loved', 'it.', 'the view.', 'tie'),
];

function context(seed: number): MethodContext {
  return {
    base,
    tokenizer: tok,
    scorer: async (_p, completions) => completions.map((c) => c.split(' ').filter((w) => w.startsWith('great')).length),
    rewardModel: rm,
    labels: LABELS,
    demonstrations: [{ prompt: 'the hotel was', completion: 'lovely.' }],
    prompts: PROMPTS,
    rng: new Rng(seed),
  };
}

describe('method registry', () => {
  it('holds PPO, GRPO, RLOO, DPO, SFT and best-of-N', () => {
    expect([...METHOD_NAMES].sort()).toEqual(['best-of-n', 'dpo', 'grpo', 'ppo', 'rloo', 'sft']);
    expect(METHOD_NAMES.map((n) => METHODS[n].name)).toEqual(METHOD_NAMES);
  });

  it.each(METHOD_NAMES)('%s declares fields with reasons whose defaults pass their own rules', (name) => {
    const spec = METHODS[name];
    const d = describeMethod(name);
    expect('create' in d).toBe(false);
    expect(spec.title.length).toBeGreaterThan(0);
    expect(spec.summary.length).toBeGreaterThan(20);
    for (const f of spec.fields) {
      expect(Object.keys(spec.defaults), `${name}.${f.key}`).toContain(f.key);
      expect(f.reason.length, `${name}.${f.key} reason`).toBeGreaterThan(10);
      const value = (spec.defaults as Record<string, number | string>)[f.key];
      expect(checkField(f, String(value)), `${name}.${f.key} default`).toEqual({ ok: true, value });
    }
    for (const c of spec.charts) expect(c.keys.length).toBeGreaterThan(0);
  });

  it.each(METHOD_NAMES)('%s steps with finite metrics for its charts, completes prompts, reconfigures, and disposes every tensor', async (name) => {
    const spec = METHODS[name];
    const config = smallSettings().methods[name];
    const before = tf.memory().numTensors;
    const trainer = spec.create(context(1), config);
    const result = await trainer.step();
    for (const c of spec.charts) for (const k of c.keys) expect(Number.isFinite(result.metrics[k]), `${name} ${k}`).toBe(true);
    expect(trainer.steps).toBe(1);
    if (spec.kind === 'online') expect(trainer.totalSteps).toBeNull();
    else expect(trainer.totalSteps).toBeGreaterThanOrEqual(1);
    expect(trainer.policy === null).toBe(spec.kind === 'rerank');
    const texts = await trainer.complete(PROMPTS, new Rng(9));
    expect(texts).toHaveLength(PROMPTS.length);
    const number = spec.fields.find((f) => f.kind === 'number');
    if (number) trainer.configure({ [number.key]: (spec.defaults as Record<string, number>)[number.key] });
    await trainer.step();
    expect(trainer.steps).toBe(2);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
