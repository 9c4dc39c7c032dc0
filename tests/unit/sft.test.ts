import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PAD_ID, Tokenizer } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import type { Gpt } from '../../src/lib/model/gpt';
import { lmLoss, tokenLogProbs } from '../../src/lib/model/lm';
import { disposeParams } from '../../src/lib/model/params';
import type { Label } from '../../src/lib/rl/preferences';
import { encodeBatch } from '../../src/lib/rl/sequences';
import { sftExamples, sftLoss, SftTrainer, type Demonstration } from '../../src/lib/rl/sft';
import { completionLogProbsOf, label, smallWordGpt, snapshot } from '../support/tiny';

const tok = new Tokenizer();
const TEST_LR = 1e-2; // a random-init tiny model moves visibly in a few steps only at a high rate

const tinyBase = (seed = 1): Gpt => smallWordGpt(tok.size, seed);

const DEMOS: Demonstration[] = [
  { prompt: 'the pizza was', completion: 'great. we loved it.' },
  { prompt: 'what a', completion: 'lovely cafe.' },
];
const LABELS: Label[] = [
  label('1', 'the hotel was', 'so dirty.', 'lovely and clean.', 'B'),
  label('2', 'the cafe was', 'awesome.', 'nasty.', 'A'),
  label('3', 'the park was', 'fine.', 'quiet.', 'tie'),
  label('4', 'the show was', 'fun.', 'dull.', 'skip'),
];

async function completionLogProb(model: Gpt, d: Demonstration): Promise<number> {
  return (await completionLogProbsOf(model, tok, [d.prompt], [d.completion]))[0];
}

describe('SFT examples', () => {
  it('are the demonstrations, then the chosen side of each A/B label; ties and skips give none', () => {
    expect(sftExamples(LABELS, DEMOS)).toEqual([
      ...DEMOS,
      { prompt: 'the hotel was', completion: 'lovely and clean.' },
      { prompt: 'the cafe was', completion: 'awesome.' },
    ]);
    expect(sftExamples([LABELS[2], LABELS[3]])).toEqual([]);
  });
});

describe('SFT loss', () => {
  it('is the mean NLL of completion tokens only: prompt tokens and PAD are not scored', async () => {
    const model = tinyBase(2);
    const b = encodeBatch(tok, ['the pizza was', 'what a'], ['great. we loved it.', 'lovely cafe.']);
    const ids = tf.tensor2d(b.ids, [b.batch, b.width], 'int32');
    const { loss, tokens } = tf.tidy(() => sftLoss(model, ids, b.promptWidth));
    const all = tf.tidy(() => tokenLogProbs(model, ids)); // (B, T-1): entry t scores token t+1
    const lp = (await all.array()) as number[][];
    // Plain reference: score token t+1 only when it is a completion token (t+1 >= promptWidth) and not PAD.
    let sum = 0;
    let n = 0;
    for (let r = 0; r < b.batch; r++) {
      for (let t = 0; t < b.width - 1; t++) {
        const target = b.ids[r * b.width + t + 1];
        if (t + 1 >= b.promptWidth && target !== PAD_ID) {
          sum += lp[r][t];
          n += 1;
        }
      }
    }
    expect(await tokens.data()).toEqual(new Float32Array([n]));
    expect(n).toBe(tok.encode('great. we loved it.').length + 1 + tok.encode('lovely cafe.').length + 1);
    expect((await loss.data())[0]).toBeCloseTo(-sum / n, 5);
    // The whole-sequence LM loss, which also scores the prompt words, is a different number.
    const full = tf.tidy(() => lmLoss(model, ids));
    expect((await full.data())[0]).not.toBeCloseTo(-sum / n, 3); // an untrained model scores every token near log(V): the gap is small
    tf.dispose([ids, loss, tokens, all, full]);
    disposeParams(model.params);
  });
});

describe('SftTrainer', () => {
  it('lowers the loss and raises the log-prob of the demonstrated completions', async () => {
    const base = tinyBase(3);
    const trainer = new SftTrainer(base, tok, LABELS, DEMOS, { lr: TEST_LR });
    expect(trainer.examples).toHaveLength(4);
    const before = await Promise.all(trainer.examples.map((d) => completionLogProb(trainer.policy, d)));
    const history = await trainer.train(10, new Rng(4));
    expect(history[history.length - 1].loss).toBeLessThan(history[0].loss - 1);
    const after = await Promise.all(trainer.examples.map((d) => completionLogProb(trainer.policy, d)));
    after.forEach((lp, i) => expect(lp).toBeGreaterThan(before[i]));
    // Every step sees all 4 examples, and counts their completion tokens (EOS included) only.
    const tokens = trainer.examples.reduce((n, d) => n + tok.encode(d.completion).length + 1, 0);
    expect(history.every((m) => m.tokens === tokens)).toBe(true);
    expect(trainer.steps).toBe(10);
    trainer.dispose();
    disposeParams(base.params);
  });

  it('leaves the base model bit-identical', async () => {
    const base = tinyBase(4);
    const base0 = await snapshot(base);
    const trainer = new SftTrainer(base, tok, [], DEMOS, { lr: TEST_LR });
    await trainer.train(2, new Rng(5));
    expect(await snapshot(base)).toEqual(base0);
    expect(await snapshot(trainer.policy)).not.toEqual(base0);
    trainer.dispose();
    disposeParams(base.params);
  });

  it('keeps the tensor count flat across steps and frees everything it made on dispose', async () => {
    const base = tinyBase(5);
    const before = tf.memory().numTensors;
    const trainer = new SftTrainer(base, tok, LABELS, DEMOS, { batchSize: 2 });
    const rng = new Rng(6);
    await trainer.step(rng);
    const warm = tf.memory().numTensors;
    await trainer.train(4, rng);
    expect(tf.memory().numTensors).toBe(warm);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(base.params);
  });

  it('is deterministic for a seed', async () => {
    const run = async () => {
      const base = tinyBase(6);
      const trainer = new SftTrainer(base, tok, LABELS, DEMOS, { lr: TEST_LR, batchSize: 2 });
      const out = await trainer.train(3, new Rng(7));
      trainer.dispose();
      disposeParams(base.params);
      return out;
    };
    expect(await run()).toEqual(await run());
  });

  it('refuses an empty example set, unknown words and examples longer than the context', () => {
    const base = tinyBase();
    const before = tf.memory().numTensors;
    expect(() => new SftTrainer(base, tok, [LABELS[2], LABELS[3]])).toThrow(RangeError);
    expect(() => new SftTrainer(base, tok, [], [{ prompt: 'the pizza was', completion: 'scrumptious.' }])).toThrow(/scrumptious/);
    expect(() => new SftTrainer(base, tok, [], [{ prompt: 'the pizza was', completion: 'great. '.repeat(12).trim() }])).toThrow(/context/);
    expect(tf.memory().numTensors).toBe(before); // nothing was copied before the checks
    disposeParams(base.params);
  });
});
