// The kernels of src/lib/model/kernels.ts against the plain tfjs versions they replace: WASM's
// BatchMatMul that transposes its operands first (every transpose combination, batched and
// broadcast shapes, gradients), Identity and Cast that share buffers, and the fused AdamW step and
// layer norm on WASM and CPU.
// This file switches to the wasm backend; Vitest runs each test file in its own process state.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasAdamWKernel, installFastKernels, type AdamWAttrs } from '../../src/lib/model/kernels';
import { adamWKernel, adamWOps } from '../../src/lib/model/optim';
import { layerNormFused, layerNormOps, oneHotFloat, tableRows } from '../../src/lib/model/gpt';
import { Rng } from '../../src/lib/math/rng';

interface Case {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

const rng = new Rng(7);
const values = (shape: number[]) => Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal());

// The shapes a GPT step multiplies: a linear layer and its two gradients, attention's q·kᵀ and
// att·v per (batch, head), a broadcast batch, and a non-square odd size.
const CASES: Case[] = [];
for (const [a, b] of [
  [[37, 24], [24, 53]],
  [[6, 4, 15, 16], [6, 4, 16, 15]],
  [[3, 5, 7], [1, 7, 9]],
]) {
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      const swap = (s: number[]) => [...s.slice(0, -2), s.at(-1)!, s.at(-2)!];
      CASES.push({ a: transposeA ? swap(a) : a, b: transposeB ? swap(b) : b, transposeA, transposeB });
    }
  }
}

/** Products and the gradients of sum(product · w) with respect to both operands, read back. */
async function run(c: Case, inputs: { a: Float32Array; b: Float32Array }): Promise<Float32Array[]> {
  const a = tf.tensor(inputs.a, c.a);
  const b = tf.tensor(inputs.b, c.b);
  const product = tf.matMul(a, b, c.transposeA, c.transposeB);
  const w = tf.randomUniform(product.shape, -1, 1, 'float32', 3);
  // tfjs's own BatchMatMul gradient cannot reduce a broadcast batch: products only there.
  const broadcast = c.a.slice(0, -2).join() !== c.b.slice(0, -2).join();
  const grads = broadcast ? [] : tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, c.transposeA, c.transposeB), w)))([a, b]);
  const out = await Promise.all([product, ...grads].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([a, b, product, w, ...grads]);
  return out;
}

describe('untransposed BatchMatMul on wasm', () => {
  const inputs = CASES.map((c) => ({ a: values(c.a), b: values(c.b) }));
  const plain: Float32Array[][] = [];

  beforeAll(async () => {
    tf.env().set('PROD', true);
    await tf.setBackend('wasm');
    await tf.ready();
    for (let i = 0; i < CASES.length; i++) plain.push(await run(CASES[i], inputs[i]));
    installFastKernels('wasm');
  });

  it.each(CASES.map((c, i) => [i, `${c.a}${c.transposeA ? 'ᵀ' : ''} · ${c.b}${c.transposeB ? 'ᵀ' : ''}`] as const))(
    'case %i (%s): the product and both gradients match tfjs\' own kernel',
    async (i) => {
      const fast = await run(CASES[i], inputs[i]);
      fast.forEach((got, k) => {
        expect(got.length).toBe(plain[i][k].length);
        let worst = 0;
        for (let j = 0; j < got.length; j++) worst = Math.max(worst, Math.abs(got[j] - plain[i][k][j]) / (1 + Math.abs(plain[i][k][j])));
        expect(worst).toBeLessThan(1e-5);
      });
    },
  );

  it('frees its transposed copies: the tensor and byte counts are flat across calls', async () => {
    const c = CASES.find((x) => x.transposeA && x.transposeB && x.a.length === 4)!;
    await run(c, inputs[CASES.indexOf(c)]);
    const dataIds = () => tf.engine().backend.numDataIds(); // the backend's buffers, temporaries included
    const [before, buffersBefore] = [tf.memory(), dataIds()];
    for (let k = 0; k < 3; k++) await run(c, inputs[CASES.indexOf(c)]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(dataIds()).toBe(buffersBefore);
  });

  it('installs once per backend and leaves the CPU backend\'s BatchMatMul alone', async () => {
    const kernel = tf.getKernel(tf.BatchMatMul, 'wasm');
    const cpuMatMul = tf.getKernel(tf.BatchMatMul, 'cpu');
    installFastKernels('wasm');
    installFastKernels('cpu');
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')).toBe(kernel);
    expect(tf.getKernel(tf.BatchMatMul, 'cpu')).toBe(cpuMatMul);
  });
});

describe('sharing Identity and Cast on wasm', () => {
  it('a clone reads the same values, outlives its source, and adds no buffer', async () => {
    await tf.setBackend('wasm');
    installFastKernels('wasm');
    const buffers = tf.engine().backend.numDataIds();
    const x = tf.tensor([1.5, -2, 3], [3]);
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32'); // what tfjs's gradients do to float32 inputs
    const ints = tf.tidy(() => tf.cast(tf.tensor([1.7, -2.2], [2]), 'int32')); // a real cast still converts
    expect(Array.from(await ints.data())).toEqual([1, -2]);
    ints.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(buffers + 1);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1.5, -2, 3]);
    expect(Array.from(await z.data())).toEqual([1.5, -2, 3]);
    tf.dispose([y, z]);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
  });
});

describe('in-place Slice and Unpack on wasm', () => {
  const CASES: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [7], begin: [2], size: [4] },
    { shape: [5, 6], begin: [1, 0], size: [3, -1] }, // contiguous rows
    { shape: [5, 6], begin: [1, 2], size: [3, 3] }, // strided
    { shape: [3, 4, 5], begin: [0, 1, 2], size: [-1, 2, 3] },
    { shape: [2, 3, 4, 5, 2], begin: [1, 0, 1, 2, 0], size: [1, 3, 2, 2, 2] },
    { shape: [4, 3], begin: [1, 0], size: [0, 3] }, // empty
  ];

  async function sliced(backend: string, dtype: 'float32' | 'int32') {
    await tf.setBackend(backend);
    return Promise.all(
      CASES.map(async ({ shape, begin, size }) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const t = tf.tidy(() => tf.slice(tf.tensor(Array.from({ length: n }, (_, i) => i * 3 - 7), shape, dtype), begin, size));
        const out = { shape: t.shape, values: Array.from(await t.data()) };
        t.dispose();
        return out;
      }),
    );
  }

  it.each(['float32', 'int32'] as const)('%s slices of every rank, contiguous, strided and empty, equal the CPU backend\'s', async (dtype) => {
    const expected = await sliced('cpu', dtype);
    installFastKernels('wasm');
    expect(await sliced('wasm', dtype)).toEqual(expected);
  });

  it('unstack along any axis equals the CPU backend\'s, and frees nothing it should keep', async () => {
    const values = Array.from({ length: 3 * 4 * 5 }, (_, i) => i / 7);
    const parts = async (backend: string) => {
      await tf.setBackend(backend);
      const out: number[][] = [];
      for (const axis of [0, 1, 2, -1]) {
        const ts = tf.tidy(() => tf.unstack(tf.tensor(values, [3, 4, 5]), axis));
        for (const t of ts) out.push([...t.shape, ...(await t.data())]);
        tf.dispose(ts);
      }
      return out;
    };
    const expected = await parts('cpu');
    installFastKernels('wasm');
    const before = tf.memory().numTensors;
    expect(await parts('wasm')).toEqual(expected);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fused AdamW kernel', () => {
  const shape = [33, 17];
  const [p, g, m] = [values(shape), values(shape), values(shape)];
  const v = values(shape).map((x) => x * x); // second moments are non-negative
  const ATTRS: AdamWAttrs[] = [
    { lr: 3e-4, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, bc1: 0.1, bc2: 0.01, gradScale: 1 },
    { lr: 1e-2, beta1: 0.8, beta2: 0.999, eps: 1e-6, weightDecay: 0.1, bc1: 0.5, bc2: 0.2, gradScale: 0.3 },
  ];

  async function step(fn: typeof adamWOps, a: AdamWAttrs): Promise<Float32Array[]> {
    const out = tf.tidy(() => {
      const next = fn(tf.tensor(p, shape), tf.tensor(g, shape), tf.tensor(m, shape), tf.tensor(v, shape), a);
      return [next.p, next.m, next.v];
    });
    const data = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(out);
    return data;
  }

  it.each(['wasm', 'cpu'])('on %s: parameter and both moments match the op-by-op step, with and without decay and clipping', async (backend) => {
    await tf.setBackend(backend);
    installFastKernels(backend);
    expect(hasAdamWKernel()).toBe(true);
    for (const a of ATTRS) {
      const [fused, ops] = [await step(adamWKernel, a), await step(adamWOps, a)];
      fused.forEach((got, k) => got.forEach((x, i) => expect(Math.abs(x - ops[k][i])).toBeLessThan(1e-6 * (1 + Math.abs(ops[k][i])))));
      expect(fused[0].some((x, i) => x !== p[i])).toBe(true); // the parameter moved
    }
    const before = tf.memory().numTensors;
    await step(adamWKernel, ATTRS[0]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fused layer norm', () => {
  const shape = [5, 7, 24];
  const x = values(shape).map((v, i) => v * 3 + (i % 24) * 0.1); // rows with their own mean and spread
  const g = values([24]);
  const b = values([24]);
  const w = values(shape);

  /** y and the gradients of sum(y · w) with respect to x, g and b. */
  async function run(norm: typeof layerNormOps): Promise<Float32Array[]> {
    const out = tf.tidy(() => {
      const [xt, gt, bt, wt] = [tf.tensor(x, shape), tf.tensor(g, [24]), tf.tensor(b, [24]), tf.tensor(w, shape)];
      const y = norm(xt, gt, bt);
      const grads = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(norm(a, c, d), wt)))([xt, gt, bt]);
      return [y, ...grads];
    });
    const data = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(out);
    return data;
  }

  it.each(['wasm', 'cpu'])('on %s: output and the gradients of x, gain and bias match the op-by-op layer norm; nothing is left behind', async (backend) => {
    await tf.setBackend(backend);
    installFastKernels(backend);
    const [fused, ops] = [await run(layerNormFused), await run(layerNormOps)];
    expect(fused.map((f) => f.length)).toEqual([5 * 7 * 24, 5 * 7 * 24, 24, 24]);
    fused.forEach((got, k) => got.forEach((v, i) => expect(Math.abs(v - ops[k][i])).toBeLessThan(2e-5 * (1 + Math.abs(ops[k][i])))));
    const before = tf.memory().numTensors;
    await run(layerNormFused);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('embedding rows by gather, with a row scatter as gradient', () => {
  const [n, d] = [11, 6];
  const table = values([n, d]);
  const ids = [[3, 0, 10, 3], [7, 7, 1, 3]]; // repeats: their gradients add up
  const w = values([2, 4, d]);

  /** Rows and the gradient of sum(rows · w) with respect to the table, by `rows`. */
  async function run(rows: (t: tf.Tensor, i: tf.Tensor2D) => tf.Tensor): Promise<Float32Array[]> {
    const out = tf.tidy(() => {
      const [t, i, wt] = [tf.tensor(table, [n, d]), tf.tensor2d(ids, [2, 4], 'int32'), tf.tensor(w, [2, 4, d])];
      const [grad] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(rows(x, i), wt)))([t]);
      return [rows(t, i), grad];
    });
    const data = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(out);
    return data;
  }
  const oneHotRows = (t: tf.Tensor, i: tf.Tensor2D) => tf.reshape(tf.matMul(tf.reshape(oneHotFloat(i, n), [8, n]), t as tf.Tensor2D), [2, 4, d]);

  it.each(['wasm', 'cpu'])('on %s: rows and the table gradient equal the one-hot product\'s; nothing is left behind', async (backend) => {
    await tf.setBackend(backend);
    installFastKernels(backend);
    const [gathered, product] = [await run(tableRows), await run(oneHotRows)];
    gathered.forEach((got, k) => got.forEach((v, j) => expect(v).toBeCloseTo(product[k][j], 5)));
    const before = tf.memory().numTensors;
    await run(tableRows);
    expect(tf.memory().numTensors).toBe(before);
  });
});
