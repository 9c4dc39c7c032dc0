import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { EOS_ID, PAD_ID } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import { completionLogProbs } from '../../src/lib/model/lm';
import { leftPad, sampleCompletions } from '../../src/lib/model/sample';
import { tinyGpt } from '../support/tiny';

afterEach(() => tf.disposeVariables());

const PROMPTS = [[EOS_ID, 3], [EOS_ID, 4, 5, 6], [EOS_ID], [EOS_ID, 7, 8]];

describe('sampling', () => {
  it('same seed gives the same samples; another seed gives others', async () => {
    const model = tinyGpt(1);
    const a = await sampleCompletions(model, PROMPTS, { rng: new Rng(9) });
    const b = await sampleCompletions(model, PROMPTS, { rng: new Rng(9) });
    const c = await sampleCompletions(model, PROMPTS, { rng: new Rng(10) });
    expect(b.completions).toEqual(a.completions);
    expect(c.completions).not.toEqual(a.completions);
  });

  it('records each drawn token\'s log-prob and entropy as a forward pass over the rollout scores them', async () => {
    const model = tinyGpt(3);
    for (const temperature of [1, 0.7]) {
      const s = await sampleCompletions(model, PROMPTS, { rng: new Rng(4), temperature });
      const B = PROMPTS.length;
      const N = s.width - s.promptWidth;
      const [perToken, entropy] = tf.tidy(() => {
        const out = completionLogProbs(model, tf.tensor2d(s.ids, [B, s.width], 'int32'), s.promptWidth, temperature, true);
        return [out.perToken, out.entropy!];
      });
      const [lp, h] = [await perToken.data(), await entropy.data()];
      tf.dispose([perToken, entropy]);
      expect(s.logProbs.length).toBe(B * N);
      for (let i = 0; i < B * N; i++) {
        expect(s.logProbs[i]).toBeCloseTo(lp[i], 4);
        expect(s.entropy[i]).toBeCloseTo(h[i], 4);
      }
      // Some positions are padding (0 in both) and some are real tokens (negative log-probs).
      expect(s.logProbs.some((x) => x < 0)).toBe(true);
    }
  });

  it('the KV cache gives the same tokens as full recomputation', async () => {
    const model = tinyGpt(2);
    for (const temperature of [1, 0.7, 1.5]) {
      const cached = await sampleCompletions(model, PROMPTS, { rng: new Rng(5), temperature });
      const full = await sampleCompletions(model, PROMPTS, { rng: new Rng(5), temperature, useCache: false });
      expect(cached.completions).toEqual(full.completions);
      expect(cached.ids).toEqual(full.ids);
    }
  });

  it('never samples PAD, stops rows at EOS and lays out ids as prompt | completion', async () => {
    const model = tinyGpt(3);
    const s = await sampleCompletions(model, PROMPTS, { rng: new Rng(1), maxNewTokens: 5 });
    expect(s.promptWidth).toBe(4);
    s.completions.forEach((c, b) => {
      expect(c.length).toBeLessThanOrEqual(5);
      expect(c).not.toContain(PAD_ID);
      expect(c.indexOf(EOS_ID) === -1 || c.indexOf(EOS_ID) === c.length - 1).toBe(true);
      expect(s.finished[b]).toBe(c[c.length - 1] === EOS_ID);
      const row = Array.from(s.ids.subarray(b * s.width, (b + 1) * s.width));
      expect(row.slice(s.promptWidth, s.promptWidth + c.length)).toEqual(c);
      expect(row.slice(s.promptWidth + c.length).every((t) => t === PAD_ID)).toBe(true);
      expect(row.slice(0, s.promptWidth).filter((t) => t !== PAD_ID)).toEqual(PROMPTS[b]);
    });
  });

  it('leaves no tensors behind', async () => {
    const model = tinyGpt(4);
    await sampleCompletions(model, PROMPTS, { rng: new Rng(1) });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await sampleCompletions(model, PROMPTS, { rng: new Rng(i) });
    await sampleCompletions(model, PROMPTS, { rng: new Rng(1), useCache: false });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects prompts that leave no room and bad temperatures', async () => {
    const model = tinyGpt(5);
    await expect(sampleCompletions(model, [[EOS_ID, 3, 4, 5, 6, 7, 8]], { rng: new Rng(1) })).rejects.toThrow(/exceed the context/);
    await expect(sampleCompletions(model, PROMPTS, { rng: new Rng(1), temperature: 0 })).rejects.toThrow(/temperature/);
  });

  it('left-pads with PAD', () => {
    expect(Array.from(leftPad([[1, 2], [3]]))).toEqual([1, 2, PAD_ID, 3]);
  });
});
