// A miniature of `npm run experiment`: the page's own run on a small model, every stage runs, the
// JSON fields exist with one row per method (best-of-N one per N), and the same seed gives the
// same result.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../../src/lib/config/experiment';
import { disposeParams } from '../../src/lib/model/params';
import { Experiment } from '../../src/lib/rl/experiment';
import { METHOD_NAMES } from '../../src/lib/rl/methods/registry';
import { smallSettings, tok } from '../support/run';
import { smallWordGpt } from '../support/tiny';

const base = smallWordGpt(tok.size, 5);
afterAll(() => disposeParams(base.params));

const TINY: ExperimentConfig = { ...DEFAULT_EXPERIMENT, labels: 5, iterations: 2, bestOfN: [1, 2], evalPrompts: 8, heldoutPairs: 12, methods: METHOD_NAMES };

describe('experiment', () => {
  const make = () => new Experiment(base, tok, TINY, smallSettings());

  it('runs every method of the registry on one run and reports the JSON fields', async () => {
    const before = tf.memory().numTensors;
    const results = await make().run(1);
    const names = results.map((r) => r.method);
    expect(names.filter((n) => n.startsWith('best-of-'))).toEqual(['best-of-1', 'best-of-2']);
    for (const m of METHOD_NAMES.filter((n) => n !== 'best-of-n')) expect(names).toContain(m);
    for (const r of results) {
      expect(r.labels).toBe(5);
      for (const k of ['rmAccuracy', 'goldWinRate', 'goldScore', 'klPerSequence', 'distinct', 'length', 'seconds'] as const) expect(Number.isFinite(r[k]), `${r.method} ${k}`).toBe(true);
      expect(r.goldWinRate).toBeGreaterThanOrEqual(0);
      expect(r.goldWinRate).toBeLessThanOrEqual(1);
    }
    expect(results.find((r) => r.method === 'best-of-2')!.klPerSequence).toBeCloseTo(Math.log(2) - 0.5, 6);
    expect(results.find((r) => r.method === 'best-of-1')!.klPerSequence).toBe(0);
    expect(results.find((r) => r.method === 'ppo')!.steps).toBe(2);
    expect(results.find((r) => r.method === 'dpo')!.steps).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic for a seed', async () => {
    const cfg = { ...TINY, methods: ['ppo', 'best-of-n'] };
    const strip = (rs: Awaited<ReturnType<Experiment['run']>>) => rs.map(({ seconds: _s, rmSeconds: _r, ...r }) => r);
    const a = strip(await new Experiment(base, tok, cfg, smallSettings()).run(3));
    const b = strip(await new Experiment(base, tok, cfg, smallSettings()).run(3));
    expect(a).toEqual(b);
  });
});
