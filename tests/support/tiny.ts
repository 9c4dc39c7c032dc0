// Tiny model configs and helpers shared by unit tests, so the suite stays fast on the CPU backend.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../src/lib/config/model';
import type { Tokenizer } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import { createGpt, type Gpt } from '../../src/lib/model/gpt';
import { completionLogProbs } from '../../src/lib/model/lm';
import type { Choice, Label } from '../../src/lib/rl/preferences';
import { encodeBatch } from '../../src/lib/rl/sequences';

export const TINY: ModelConfig = { vocabSize: 12, contextLength: 10, dModel: 8, nLayers: 2, nHeads: 2, maxNewTokens: 5 };

export function tinyGpt(seed = 1, cfg: Partial<ModelConfig> = {}): Gpt {
  return createGpt({ ...TINY, ...cfg }, new Rng(seed), 'tiny');
}

export function ids2d(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
}

/** Values of every parameter, by name. */
export async function snapshot(model: Gpt): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of model.params) out.set(name, (await v.data()) as Float32Array);
  return out;
}

/** A small GPT over the real tokenizer's vocabulary (for RL tests that need text). */
export function smallWordGpt(vocabSize: number, seed = 1): Gpt {
  return createGpt({ vocabSize, contextLength: 24, dModel: 16, nLayers: 1, nHeads: 2, maxNewTokens: 12 }, new Rng(seed), 'small');
}

/** A simulated label of the pair (a, b) for `prompt`. */
export function label(id: string, prompt: string, a: string, b: string, choice: Choice): Label {
  return { id, prompt, completionA: a, completionB: b, choice, source: 'simulated', time: 0 };
}

/** Summed completion log-probs of `model` on prompt/completion texts, one per pair. */
export async function completionLogProbsOf(model: Gpt, tok: Tokenizer, prompts: string[], completions: string[]): Promise<number[]> {
  const b = encodeBatch(tok, prompts, completions);
  const total = tf.tidy(() => completionLogProbs(model, tf.tensor2d(b.ids, [b.batch, b.width], 'int32'), b.promptWidth).total);
  const out = Array.from(await total.data());
  total.dispose();
  return out;
}
