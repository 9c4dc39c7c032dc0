import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { EOS_ID, PAD_ID } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import { forward } from '../../src/lib/model/gpt';
import { completionLogProbs, lmLoss, tokenLogProbs } from '../../src/lib/model/lm';
import { AdamW, NonFiniteError } from '../../src/lib/model/optim';
import { disposeParams } from '../../src/lib/model/params';
import { ids2d, snapshot, TINY, tinyGpt } from '../support/tiny';

afterEach(() => tf.disposeVariables());

async function logitsOf(rows: number[][], seed = 1): Promise<number[][][]> {
  const model = tinyGpt(seed);
  const out = tf.tidy(() => forward(model, ids2d(rows)).logits!);
  const v = (await out.array()) as number[][][];
  out.dispose();
  disposeParams(model.params);
  return v;
}

describe('GPT forward', () => {
  it('is causal: changing token t+1 leaves logits at positions <= t unchanged', async () => {
    const a = [[EOS_ID, 3, 4, 5, 6, 7]];
    for (let t = 0; t < 5; t++) {
      const b = [a[0].slice()];
      b[0][t + 1] = 11;
      const [la, lb] = [await logitsOf(a), await logitsOf(b)];
      for (let s = 0; s <= t; s++) expect(lb[0][s]).toEqual(la[0][s]);
      expect(lb[0][t + 1]).not.toEqual(la[0][t + 1]);
    }
  });

  it('ignores left padding: a padded prompt gives the same logits as the unpadded one', async () => {
    const plain = await logitsOf([[EOS_ID, 3, 4, 5]]);
    const padded = await logitsOf([[PAD_ID, PAD_ID, EOS_ID, 3, 4, 5]]);
    for (let s = 0; s < 4; s++) {
      plain[0][s].forEach((x, i) => expect(padded[0][s + 2][i]).toBeCloseTo(x, 5));
    }
  });

  it('is deterministic for a seed', async () => {
    expect(await logitsOf([[1, 2, 3]], 4)).toEqual(await logitsOf([[1, 2, 3]], 4));
    expect(await logitsOf([[1, 2, 3]], 4)).not.toEqual(await logitsOf([[1, 2, 3]], 5));
  });

  it('log-probabilities are normalised and completion log-probs mask PAD', async () => {
    const model = tinyGpt();
    const ids = ids2d([[PAD_ID, EOS_ID, 3, 4, EOS_ID], [EOS_ID, 5, 6, PAD_ID, PAD_ID]]);
    const lp = tf.tidy(() => tokenLogProbs(model, ids));
    const { perToken, total, mask } = tf.tidy(() => completionLogProbs(model, ids, 2));
    const lpv = (await lp.array()) as number[][];
    const per = (await perToken.array()) as number[][];
    expect(await mask.array()).toEqual([[1, 1, 1], [1, 0, 0]]);
    expect(per[0]).toEqual(lpv[0].slice(1));
    expect(per[1].map((x) => x + 0)).toEqual([lpv[1][1], 0, 0]); // + 0 turns -0 into 0
    const tot = (await total.array()) as number[];
    expect(tot[1]).toBeCloseTo(lpv[1][1], 6);
    // Probabilities over the vocabulary sum to one at every position.
    const sums = tf.tidy(() => tf.sum(tf.exp(tf.logSoftmax(forward(model, ids).logits!, -1)), -1));
    for (const row of (await sums.array()) as number[][]) for (const s of row) expect(s).toBeCloseTo(1, 5);
    tf.dispose([lp, perToken, total, mask, sums, ids]);
  });
});

describe('GPT training', () => {
  it('gradients agree with finite differences', async () => {
    const model = tinyGpt(2);
    const batch = ids2d([[EOS_ID, 3, 4, 5, 6, EOS_ID, 7], [EOS_ID, 8, 9, 10, EOS_ID, 3, 2]]);
    const loss = () => lmLoss(model, batch);
    const vars = [...model.params.values()];
    const { grads } = tf.variableGrads(loss, vars);
    const rng = new Rng(3);
    const eps = 1e-2;
    let checked = 0;
    for (const name of ['wte', 'h.0.attn.c_attn.weight', 'h.1.mlp.c_fc.weight', 'h.0.ln_1.weight', 'lm_head.weight', 'ln_f.bias']) {
      const v = model.params.get(name)!;
      const g = (await grads[v.name].data()) as Float32Array;
      for (let k = 0; k < 4; k++) {
        const i = rng.int(v.size);
        const base = (await v.data()) as Float32Array;
        const at = async (delta: number) => {
          const copy = base.slice();
          copy[i] += delta;
          tf.tidy(() => v.assign(tf.tensor(copy, v.shape)));
          const l = tf.tidy(loss);
          const val = (await l.data())[0];
          l.dispose();
          return val;
        };
        const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
        tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
        expect(Math.abs(numeric - g[i]), `${name}[${i}] numeric ${numeric} analytic ${g[i]}`).toBeLessThan(2e-3 + 0.05 * Math.abs(g[i]));
        checked++;
      }
    }
    expect(checked).toBe(24);
    tf.dispose(Object.values(grads));
    batch.dispose();
  });

  it('loss falls on a fixed batch, every parameter changes, and the tensor count stays flat', async () => {
    const model = tinyGpt(3);
    const before = await snapshot(model);
    const opt = new AdamW(model.params, { lr: 1e-2 });
    const batch = ids2d([[EOS_ID, 3, 4, 5, 6, EOS_ID, 7, 8], [EOS_ID, 9, 10, 11, EOS_ID, 3, 4, 5]]);
    const losses: number[] = [];
    let tensorsAfterWarmup = 0;
    for (let i = 0; i < 30; i++) {
      losses.push((await opt.step(() => lmLoss(model, batch))).loss);
      if (i === 1) tensorsAfterWarmup = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(tensorsAfterWarmup);
    expect(losses[29]).toBeLessThan(losses[0] * 0.5);
    const after = await snapshot(model);
    for (const [name, v] of before) expect(after.get(name), name).not.toEqual(v);
    opt.dispose();
    batch.dispose();
  });

  it('a non-finite loss skips the update and leaves the weights untouched', async () => {
    const model = tinyGpt(4);
    const before = await snapshot(model);
    const opt = new AdamW(model.params);
    await expect(opt.step(() => tf.mul(lmLoss(model, ids2d([[1, 2, 3]])), NaN) as tf.Scalar)).rejects.toBeInstanceOf(NonFiniteError);
    expect(await snapshot(model)).toEqual(before);
    expect(opt.steps).toBe(0);
    opt.dispose();
  });

  it('weight decay shrinks matrices only, and clipping bounds the step', async () => {
    const model = tinyGpt(5, { nLayers: 1 });
    // Biases start at zero, where decay would change nothing: give every vector a non-zero value.
    for (const v of model.params.values()) if (v.shape.length === 1) v.assign(tf.fill(v.shape, 0.7));
    const before = await snapshot(model);
    const opt = new AdamW(model.params, { lr: 0.1, weightDecay: 0.5 });
    // A loss that touches every parameter with a zero gradient: the update is pure decay.
    await opt.step(() => tf.mul(tf.addN([...model.params.values()].map((v) => tf.sum(v))), 0) as tf.Scalar);
    const after = await snapshot(model);
    let matrices = 0;
    let vectors = 0;
    for (const [name, v] of model.params) {
      if (v.shape.length >= 2) {
        matrices += 1;
        after.get(name)!.forEach((x, i) => expect(x, name).toBeCloseTo(before.get(name)![i] * (1 - 0.05), 6));
      } else {
        vectors += 1;
        expect(after.get(name), name).toEqual(before.get(name));
      }
    }
    expect(matrices).toBeGreaterThan(2);
    expect(vectors).toBeGreaterThan(2);
    opt.dispose();
    expect(TINY.dModel).toBe(8);
  });
});
