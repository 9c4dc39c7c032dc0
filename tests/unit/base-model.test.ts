// The shipped base model (npm run pretrain): loads, finishes its sentences, and matches its log.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRETRAIN, type PretrainConfig } from '../../src/lib/config/pretrain';
import { corpusWords, generatePrompts } from '../../src/lib/data/corpus';
import { EOS_ID } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import { disposeParams } from '../../src/lib/model/params';
import { meanLoss, validationWindows } from '../../src/lib/model/pretrain';
import { sampleCompletions } from '../../src/lib/model/sample';
import { loadBase, readJson } from '../support/base-model';

const { model, manifest, tokenizer } = loadBase();
afterAll(() => disposeParams(model.params));

describe('shipped base model', () => {
  it('has the default shape and the corpus vocabulary', () => {
    expect(model.config).toMatchObject({ dModel: 64, nLayers: 2, nHeads: 4, contextLength: 24, maxNewTokens: 12 });
    expect(tokenizer.vocab.slice(2)).toEqual(corpusWords());
  });

  it('finishes at least 90 % of its samples with EOS within 12 tokens', async () => {
    const prompts = generatePrompts(256, 12345).map((p) => tokenizer.encodePrompt(p));
    const s = await sampleCompletions(model, prompts, { rng: new Rng(3) });
    const finished = s.completions.filter((c) => c.length <= 12 && c[c.length - 1] === EOS_ID).length / prompts.length;
    expect(finished).toBeGreaterThanOrEqual(0.9);
    // Samples read as the corpus does: mostly distinct, made of whole sentences.
    const texts = s.completions.map((c) => tokenizer.decode(c));
    expect(new Set(texts).size / texts.length).toBeGreaterThan(0.6);
  });

  it('its validation loss matches the training log and the 1.50 nats/token target', async () => {
    const log = readJson('training-log.json') as { config: PretrainConfig; log: { valLoss: number }[] };
    const logged = log.log[log.log.length - 1].valLoss;
    const cfg = { ...DEFAULT_PRETRAIN, ...log.config };
    const loss = await meanLoss(model, validationWindows(cfg, tokenizer, model.config.contextLength + 1), cfg.batchSize);
    expect(loss).toBeCloseTo(logged, 3);
    expect(manifest.meta.validationLoss).toBeCloseTo(logged, 6);
    expect(loss).toBeLessThanOrEqual(1.5);
    expect(tf.memory().numTensors).toBe(model.params.size);
  });
});
