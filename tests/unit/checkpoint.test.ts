// Checkpoints of a whole run (src/lib/rl/checkpoint.ts): a run restored from one continues
// bit-identically to the run that never stopped (its next pairs, iterations, offline steps, strip
// and label verdicts), the tensor count is flat across save and restore, and a file for another
// model size or vocabulary, with a bad checksum, truncated or malformed is refused with a message
// naming the problem, leaving no tensor behind.
import * as tf from '@tensorflow/tfjs-core';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import type { Label } from '../../src/lib/config/label';
import { Tokenizer } from '../../src/lib/data/tokenizer';
import { disposeParams } from '../../src/lib/model/params';
import { CheckpointError, readCheckpoint, restoreCheckpoint, saveCheckpoint } from '../../src/lib/rl/checkpoint';
import type { MethodName } from '../../src/lib/rl/methods/registry';
import type { Run } from '../../src/lib/rl/run';
import { smallRun, smallSettings, tok } from '../support/run';
import { smallWordGpt } from '../support/tiny';

const base = smallWordGpt(tok.size, 7);
afterAll(() => disposeParams(base.params));
const expected = { config: base.config, vocab: tok.vocab };
const STRIP = ['the pizza was', 'what a'];

function label(i: number, pair: { prompt: string; a: string; b: string }): Label {
  return { id: `c${i}`, prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice: i % 3 === 2 ? 'tie' : i % 2 ? 'B' : 'A', source: 'simulated', time: i };
}

/** Metrics without the wall-clock seconds (the only value a rerun may change). */
function steady(metrics: Record<string, number>): Record<string, number> {
  const { seconds: _s, ...rest } = metrics;
  return rest;
}

/** A run with labels, a reward-model refit, PPO, GRPO and RLOO iterations and DPO, SFT and best-of-N steps. */
async function trainedRun(): Promise<Run> {
  const run = smallRun(5, smallSettings(), base);
  run.setEnabled(['ppo', 'grpo', 'rloo', 'dpo']);
  for (let i = 0; i < 4; i++) await run.learn([label(i, await run.makePair(null))]);
  await run.refitNow();
  await run.learn([label(4, await run.makePair(null))]);
  for (const m of ['ppo', 'grpo', 'rloo', 'ppo', 'dpo', 'sft', 'best-of-n'] as MethodName[]) await run.step(m);
  return run;
}

/** What the run does next: pairs (past the ensemble's round), iterations, offline steps, a label's verdict, the strip. */
async function continuation(run: Run): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < 2; i++) out.push(await run.makePair(null));
  for (const m of ['ppo', 'grpo', 'rloo', 'dpo', 'sft', 'best-of-n'] as MethodName[]) {
    const r = await run.step(m);
    out.push(m, steady(r.metrics), r.samples);
  }
  out.push(await run.learn([label(9, await run.makePair('the hotel was'))]));
  out.push(await run.strip(STRIP));
  out.push(await run.rewardFit());
  out.push(steady((await run.step('ppo')).metrics));
  return out;
}

describe('checkpoint', () => {
  it('a restored run continues bit-identically to the run that never stopped; the tensor count is flat', async () => {
    const run = await trainedRun();
    const tensorsBefore = tf.memory().numTensors;
    const { meta, bytes } = await saveCheckpoint(run, { now: 1234 });
    expect(tf.memory().numTensors).toBe(tensorsBefore); // saving reads values, keeps no tensor
    expect(meta).toMatchObject({ createdAt: 1234, labels: 5, bytes: bytes.byteLength, format: 'rlhf-playground-checkpoint/1' });
    expect(meta.steps).toMatchObject({ ppo: 2, grpo: 1, rloo: 1, dpo: 1, sft: 1, 'best-of-n': 1 });

    const file = readCheckpoint(bytes, expected);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // reading makes none
    const restored = restoreCheckpoint(file, base, tok);
    expect(restored.labels).toEqual(run.labels);
    expect(restored.enabled).toEqual(run.enabled);

    const again = await continuation(run);
    const resumed = await continuation(restored);
    expect(resumed).toEqual(again);

    // The restored run holds exactly the tensors of the one it copies.
    run.dispose();
    const copy = await saveCheckpoint(restored, { now: 1234 });
    expect(copy.meta.steps).toMatchObject({ ppo: 4, grpo: 2, dpo: 2 });
    restored.dispose();
    const left = tf.memory().numTensors;
    const twice = restoreCheckpoint(readCheckpoint(copy.bytes, expected), base, tok);
    twice.dispose();
    expect(tf.memory().numTensors).toBe(left);
  }, 120_000);

  it('a rolled-back step leaves the state the next checkpoint saves as it was before the step', async () => {
    const run = smallRun(2, smallSettings(), base);
    run.setEnabled(['ppo']);
    for (let i = 0; i < 3; i++) await run.learn([label(i, await run.makePair(null))]);
    await run.step('ppo');
    const before = await saveCheckpoint(run, { now: 0 });
    run.configure('ppo', { lr: 1e30 }); // diverges at once: NonFiniteError, rolled back
    await expect(run.step('ppo')).rejects.toThrow(/rolled back/);
    const after = await saveCheckpoint(run, { now: 0 });
    const weights = (b: Uint8Array) => unzipSync(b)['weights.bin'];
    expect(weights(after.bytes)).toEqual(weights(before.bytes));
    expect(after.meta.steps.ppo).toBe(1);
    run.dispose();
  }, 60_000);

  describe('refuses a file that does not fit, leaving nothing behind', () => {
    let good: Uint8Array;
    const refused = (bytes: Uint8Array, model = expected) => {
      const tensors = tf.memory().numTensors;
      let error: unknown;
      try {
        restoreCheckpoint(readCheckpoint(bytes, model), base, tok).dispose();
      } catch (e) {
        error = e;
      }
      expect(tf.memory().numTensors).toBe(tensors);
      expect(error).toBeInstanceOf(CheckpointError);
      return (error as Error).message;
    };
    /** The good file with one entry changed. */
    const edited = (name: string, change: (b: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>) => {
      const files = unzipSync(good);
      files[name] = change(files[name]);
      return zipSync(files, { level: 0 });
    };

    it('makes the good file', async () => {
      const run = smallRun(4, smallSettings(), base);
      run.setEnabled(['ppo']);
      await run.learn([label(0, await run.makePair(null))]);
      await run.step('ppo');
      good = (await saveCheckpoint(run)).bytes;
      run.dispose();
    }, 60_000);

    it('another model size', () => {
      expect(refused(good, { config: { ...base.config, dModel: 32 }, vocab: tok.vocab })).toMatch(/another model size \(.*width 16.*\); this page's model has .*width 32/);
    });

    it('another vocabulary', () => {
      const other = new Tokenizer(['the', 'pizza', 'was', 'good', '.']);
      expect(refused(good, { config: base.config, vocab: other.vocab })).toMatch(/another vocabulary/);
    });

    it('a bad checksum', () => {
      const bytes = edited('weights.bin', (w) => {
        const copy = w.slice();
        copy[100] ^= 0xff;
        return copy;
      });
      expect(refused(bytes)).toMatch(/corrupted: their CRC-32 is [0-9a-f]+, model.json says [0-9a-f]+/);
    });

    it('a truncated file', () => {
      expect(refused(good.slice(0, Math.floor(good.byteLength / 2)))).toMatch(/truncated/);
      expect(refused(new Uint8Array())).toMatch(/empty/);
    });

    it('a malformed run, label or setting', () => {
      const run = (change: (r: Record<string, unknown>) => void) =>
        edited('run.json', (b) => {
          const json = JSON.parse(strFromU8(b));
          change(json.run);
          return strToU8(JSON.stringify(json));
        });
      expect(refused(run((r) => (r.pairStream = -1)))).toMatch(/run.json is malformed: run.pairStream/);
      expect(refused(run((r) => ((r.settings as { methods: { ppo: Record<string, unknown> } }).methods.ppo.lr = 5)))).toMatch(/PPO learning rate "5"/);
      expect(refused(run((r) => ((r.methods as { values: Record<string, unknown> }[])[0].values.iteration = 1.5)))).toMatch(/PPO cannot be restored: .*"iteration" is not a step count/);
      expect(refused(edited('labels.jsonl', () => strToU8('{"id": 3}')))).toMatch(/labels.jsonl line 1: id/);
      expect(refused(edited('model.json', () => strToU8('{')))).toMatch(/model.json in the checkpoint is not valid JSON/);
    });
  });
});
