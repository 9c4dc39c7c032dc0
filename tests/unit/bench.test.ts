// The bench table (src/lib/bench/benches.ts) that `npm run bench` times in Node and in Chromium:
// each bench runs once on a small word model and leaves no tensor behind; the report's ratio lines.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BENCH_NAMES, parseBenchNames, timeBench } from '../../src/lib/bench/benches';
import { parseReference, ratioLines } from '../../src/lib/bench/report';
import { DEFAULT_REWARD } from '../../src/lib/config/reward';
import { DEFAULT_PAIRS } from '../../src/lib/config/run';
import { Tokenizer } from '../../src/lib/data/tokenizer';
import { disposeParams } from '../../src/lib/model/params';
import { defaultMethodConfigs, type RunSettings } from '../../src/lib/rl/run';
import { smallWordGpt } from '../support/tiny';

/** The page's settings cut down so that each bench runs in about a second on the CPU backend. */
function smallSettings(): RunSettings {
  const methods = defaultMethodConfigs();
  methods.ppo = { ...methods.ppo, rolloutsPerIteration: 8 };
  methods.grpo = { ...methods.grpo, promptsPerIteration: 2, groupSize: 4 };
  methods.dpo = { ...methods.dpo, batchSize: 4 };
  return {
    reward: { ...DEFAULT_REWARD, refitSteps: 3, batchSize: 4, incrementalSteps: 1, incrementalBatchSize: 4, normSamples: 16 },
    refitEvery: 25,
    pairs: DEFAULT_PAIRS,
    methods,
  };
}

describe('bench table', () => {
  const tokenizer = new Tokenizer();

  it.each(BENCH_NAMES)('%s runs once and disposes everything it made', async (name) => {
    const model = smallWordGpt(tokenizer.size);
    const before = tf.memory().numTensors;
    const small = { settings: smallSettings(), learnedLabels: 3, fitLabels: 6 };
    const t = await timeBench(name, { model, tokenizer, seed: 2, small }, { runs: 1, warmup: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(t.runs).toBe(1);
    expect(t.times).toHaveLength(1);
    expect(t.ms).toBeGreaterThanOrEqual(0);
    disposeParams(model.params);
  });

  it('checks the names of --only', () => {
    expect(parseBenchNames('ppo_iteration,rm_refit')).toEqual(['ppo_iteration', 'rm_refit']);
    expect(parseBenchNames(undefined)).toEqual(BENCH_NAMES);
    expect(() => parseBenchNames('ppo_iteration,nope')).toThrow(/unknown benchmark "nope"/);
  });
});

describe('bench report', () => {
  it('reads the reference line and gives one ratio per measurement both have', () => {
    const ref = parseReference('pretraining...\n{"where":"pytorch","backend":"cpu-1t-openblas","ppo_iteration_ms":150,"rm_refit_ms":3000}\n');
    const ours = [
      { where: 'chromium' as const, backend: 'wasm', what: 'ppo_iteration', ms: 450, runs: 5, threads: 1 },
      { where: 'chromium' as const, backend: 'wasm', what: 'sample', ms: 40, runs: 5, threads: 1 },
      { where: 'chromium' as const, backend: 'wasm', what: 'rm_refit', ms: 9000, runs: 3, threads: 1 },
    ];
    expect(ratioLines(ours, ref)).toEqual([
      { where: 'ratio', what: 'ppo_iteration', ours_ms: 450, pytorch_ms: 150, ratio: 3, backend: 'wasm', ours_where: 'chromium', threads: 1 },
      { where: 'ratio', what: 'rm_refit', ours_ms: 9000, pytorch_ms: 3000, ratio: 3, backend: 'wasm', ours_where: 'chromium', threads: 1 },
    ]);
    expect(() => parseReference('no json here')).toThrow(/no \{"where":"pytorch"/);
  });
});
