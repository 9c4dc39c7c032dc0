// Measures of a policy beside the gold judge: the KL from the base model on the policy's own
// samples (k1, summed per sequence, temperature 1: the quantity PPO's penalty and the README's
// "KL/seq" column mean).
import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../data/tokenizer';
import type { Gpt } from '../model/gpt';
import { completionLogProbs } from '../model/lm';
import { SAMPLE_CHUNK } from './methods/common';
import { encodeBatch } from './sequences';

/** Mean per-sequence KL(policy || reference) on completions the policy sampled for `prompts`. */
export async function klOnSamples(policy: Gpt, reference: Gpt, tokenizer: Tokenizer, prompts: readonly string[], completions: readonly string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < prompts.length; i += SAMPLE_CHUNK) {
    const enc = encodeBatch(tokenizer, prompts.slice(i, i + SAMPLE_CHUNK), completions.slice(i, i + SAMPLE_CHUNK));
    const kl = tf.tidy(() => {
      const ids = tf.tensor2d(enc.ids, [enc.batch, enc.width], 'int32');
      return tf.sum(tf.sub(completionLogProbs(policy, ids, enc.promptWidth).total, completionLogProbs(reference, ids, enc.promptWidth).total));
    });
    total += (await kl.data())[0];
    kl.dispose();
  }
  return total / prompts.length;
}
