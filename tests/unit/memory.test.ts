// Issue 11's memory target: a long run keeps TensorFlow.js's tensor count and bytes flat. The run
// object the page and the CLI share steps PPO, GRPO and RLOO in turn on a small model, learning a
// label every 50 iterations; tf.memory() is read every 100. CI runs 300 iterations (about a
// minute); RLHF_LONG=1 runs the 1000.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { smallRun, smallSettings } from '../support/run';
import type { Label } from '../../src/lib/rl/preferences';

const ITERATIONS = process.env.RLHF_LONG ? 1000 : 300;
const METHODS = ['ppo', 'grpo', 'rloo'] as const;

function label(i: number): Label {
  return { id: `m${i}`, prompt: 'what a', completionA: i % 2 ? 'great day.' : 'good day.', completionB: 'bad day.', choice: i % 3 ? 'A' : 'B', source: 'human', time: i };
}

describe('memory over a long run', () => {
  it(`${ITERATIONS} iterations of PPO, GRPO and RLOO with labels arriving: tensor count and bytes stay flat`, async () => {
    const settings = smallSettings();
    settings.methods.ppo = { ...settings.methods.ppo, rolloutsPerIteration: 2 };
    for (const m of ['grpo', 'rloo'] as const) settings.methods[m] = { ...settings.methods[m], groupSize: 2, promptsPerIteration: 1 };
    const run = smallRun(3, settings);
    await run.learn([0, 1, 2, 3].map(label));
    for (const m of METHODS) await run.step(m); // optimizer state and first-use tensors exist from here
    const start = tf.memory();
    const readings: { numTensors: number; numBytes: number }[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      await run.step(METHODS[i % METHODS.length]);
      if (i % 50 === 49) await run.learn([label(100 + i)]);
      if (i % 100 === 99) readings.push({ numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes });
    }
    expect(readings).toHaveLength(ITERATIONS / 100);
    for (const r of readings) expect(r).toEqual({ numTensors: start.numTensors, numBytes: start.numBytes });
    run.dispose();
  }, 600_000);
});
