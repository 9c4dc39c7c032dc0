// Faster kernels for the WASM backend, registered over tfjs's own (issue 11's profile).
//
// tfjs-backend-wasm 4.22 multiplies through XNNPACK only when neither operand is transposed; with
// transposeA or transposeB set it falls back to a naive loop. Every backward pass of a matMul
// takes that path (dA = dy·Bᵀ, dB = Aᵀ·dy), and so does attention's q·kᵀ: one PPO iteration's
// profile showed [960,64]·[256,64]ᵀ at 22 ms a call against 2.4 ms for the plain [960,64]·[64,256],
// and BatchMatMul at 1.7 s of its 2.5 s of kernel time. Transposing the operand first (a memory
// copy, 12.8 ms for all 184 of that iteration's transposes) and then multiplying plainly is what
// this module does. The product is the same sum of the same terms; only the order of the float
// additions inside XNNPACK's tiles differs, and it is fixed, so a seed still gives one run.
import * as tf from '@tensorflow/tfjs-core';

type KernelArgs = Parameters<tf.KernelFunc>[0];
interface DataBackend {
  disposeData(dataId: tf.DataId): void;
}

/** Swaps the last two axes: the permutation that transposes each matrix of a batch. */
function lastTwoSwapped(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

/**
 * BatchMatMul that never hands a transposed operand to `plain`: it transposes with the backend's
 * own Transpose kernel and multiplies with both flags off. Exported for its test.
 */
export function untransposedBatchMatMul(plain: tf.KernelFunc, transpose: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    if (!transposeA && !transposeB) return plain(args);
    const { a, b } = inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
    const temporaries: tf.TensorInfo[] = [];
    const upright = (x: tf.TensorInfo, flag: boolean): tf.TensorInfo => {
      if (!flag) return x;
      const t = transpose({ inputs: { x }, backend, attrs: { perm: lastTwoSwapped(x.shape.length) } }) as tf.TensorInfo;
      temporaries.push(t);
      return t;
    };
    const out = plain({ inputs: { a: upright(a, transposeA), b: upright(b, transposeB) }, backend, attrs: { transposeA: false, transposeB: false } });
    for (const t of temporaries) (backend as unknown as DataBackend).disposeData(t.dataId);
    return out;
  };
}

/** The AdamW update of one parameter, the attributes of the `RlhfAdamW` kernel (see optim.ts). */
export interface AdamWAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay of this parameter (0 for biases and gains). */
  weightDecay: number;
  /** 1 - beta^t for the first and second moments. */
  bc1: number;
  bc2: number;
  /** The gradient's scale after global-norm clipping (1: not clipped). */
  gradScale: number;
}

export const ADAMW_KERNEL = 'RlhfAdamW';

/**
 * One AdamW step over flat arrays, in float64 with float32 results, writing the new parameter and
 * moments to `out`: the arithmetic of the op-by-op version in optim.ts, one pass, no temporaries.
 */
export function adamWLoop(
  p: ArrayLike<number>,
  g: ArrayLike<number>,
  m: ArrayLike<number>,
  v: ArrayLike<number>,
  out: { p: Float32Array; m: Float32Array; v: Float32Array },
  a: AdamWAttrs,
): void {
  for (let i = 0; i < p.length; i++) {
    const grad = g[i] * a.gradScale;
    const mi = m[i] * a.beta1 + grad * (1 - a.beta1);
    const vi = v[i] * a.beta2 + grad * grad * (1 - a.beta2);
    const update = mi / a.bc1 / (Math.sqrt(vi / a.bc2) + a.eps) + p[i] * a.weightDecay;
    out.p[i] = p[i] - update * a.lr;
    out.m[i] = mi;
    out.v[i] = vi;
  }
}

interface WasmLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}
interface CpuLike {
  data: { get(dataId: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

type AdamWInputs = Record<'param' | 'grad' | 'm' | 'v', tf.TensorInfo>;

/** RlhfAdamW on WASM: reads and writes the tensors' buffers in the module's heap. */
const wasmAdamW: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { param, grad, m, v } = inputs as unknown as AdamWInputs;
  const be = backend as unknown as WasmLike;
  const outs = [param, m, v].map((x) => be.makeOutput(x.shape, 'float32'));
  // Views are taken after every allocation: an allocation can grow (and move) the heap.
  const [pOut, mOut, vOut] = outs.map((o) => be.typedArrayFromHeap(o));
  const view = (x: tf.TensorInfo) => be.typedArrayFromHeap(x);
  adamWLoop(view(param), view(grad), view(m), view(v), { p: pOut, m: mOut, v: vOut }, attrs as unknown as AdamWAttrs);
  return outs;
};

/** RlhfAdamW on the plain-JS CPU backend. */
const cpuAdamW: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { param, grad, m, v } = inputs as unknown as AdamWInputs;
  const be = backend as unknown as CpuLike;
  const values = (x: tf.TensorInfo) => be.data.get(x.dataId).values;
  const n = values(param).length;
  const out = { p: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n) };
  adamWLoop(values(param), values(grad), values(m), values(v), out, attrs as unknown as AdamWAttrs);
  return [be.makeTensorInfo(param.shape, 'float32', out.p), be.makeTensorInfo(m.shape, 'float32', out.m), be.makeTensorInfo(v.shape, 'float32', out.v)];
};

const ADAMW_KERNELS: Partial<Record<string, tf.KernelFunc>> = { wasm: wasmAdamW, cpu: cpuAdamW };

/** Whether the running backend has RlhfAdamW; elsewhere (WebGPU, WebGL) AdamW runs op by op. */
export function hasAdamWKernel(): boolean {
  return tf.getKernel(ADAMW_KERNEL, tf.getBackend()) !== undefined;
}

export const LAYER_NORM_KERNEL = 'RlhfLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'RlhfLayerNormGrad';

/**
 * Layer norm over the last axis of rows [R, D]: y = (x - mean) · rstd · g + b with
 * rstd = 1 / sqrt(var + eps), in float64 per row. Writes y and each row's mean and rstd (the
 * gradient needs them).
 */
export function layerNormLoop(x: Float32Array, g: Float32Array, b: Float32Array, eps: number, out: { y: Float32Array; mean: Float32Array; rstd: Float32Array }): void {
  const { y, mean: means, rstd: rstds } = out;
  const D = g.length;
  const R = means.length;
  for (let r = 0, o = 0; r < R; r++, o += D) {
    let sum = 0;
    for (let i = 0; i < D; i++) sum += x[o + i];
    const mean = sum / D;
    let sq = 0;
    for (let i = 0; i < D; i++) {
      const c = x[o + i] - mean;
      sq += c * c;
    }
    const rstd = 1 / Math.sqrt(sq / D + eps);
    for (let i = 0; i < D; i++) y[o + i] = (x[o + i] - mean) * rstd * g[i] + b[i];
    means[r] = mean;
    rstds[r] = rstd;
  }
}

/**
 * Gradients of layerNormLoop for upstream dy: with xhat = (x - mean) · rstd,
 * dx = rstd · (dy·g - mean(dy·g) - xhat · mean(dy·g · xhat)) per row, dg = Σ dy · xhat, db = Σ dy.
 */
export function layerNormGradLoop(
  dy: Float32Array,
  x: Float32Array,
  g: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  out: { dx: Float32Array; dg: Float32Array; db: Float32Array },
): void {
  const { dx } = out;
  const D = g.length;
  const R = mean.length;
  const dg = new Float64Array(D);
  const db = new Float64Array(D);
  for (let r = 0, o = 0; r < R; r++, o += D) {
    const [m, s] = [mean[r], rstd[r]];
    let sumDyg = 0;
    let sumDygXhat = 0;
    for (let i = 0; i < D; i++) {
      const xhat = (x[o + i] - m) * s;
      const d = dy[o + i];
      const dyg = d * g[i];
      sumDyg += dyg;
      sumDygXhat += dyg * xhat;
      dg[i] += d * xhat;
      db[i] += d;
    }
    const m1 = sumDyg / D;
    const m2 = sumDygXhat / D;
    for (let i = 0; i < D; i++) dx[o + i] = s * (dy[o + i] * g[i] - m1 - (x[o + i] - m) * s * m2);
  }
  out.dg.set(dg);
  out.db.set(db);
}

/** Where each backend keeps float32 buffers that JS can read and write in place. */
interface Buffers {
  make(shape: number[]): tf.TensorInfo;
  /** Views of tensors; call after every make() (a WASM allocation can move the heap). */
  view(info: tf.TensorInfo): Float32Array;
}

function buffersOf(backend: unknown, backendName: string): Buffers {
  if (backendName === 'wasm') {
    const heap = backend as { makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo; typedArrayFromHeap(info: tf.TensorInfo): Float32Array };
    return { make: (shape) => heap.makeOutput(shape, 'float32'), view: (info) => heap.typedArrayFromHeap(info) };
  }
  const cpu = backend as { data: { get(dataId: tf.DataId): { values: Float32Array } }; makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
  return {
    make: (shape) => cpu.makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((a, n) => a * n, 1))),
    view: (info) => cpu.data.get(info.dataId).values,
  };
}

export const SCATTER_ROWS_KERNEL = 'RlhfScatterRows';

/** out[ids[n]] += dy[n] for rows of width D: the gradient of gathering rows of a [rows, D] table. */
export function scatterRowsLoop(dy: Float32Array, ids: ArrayLike<number>, out: Float32Array): void {
  const D = dy.length / ids.length;
  const acc = new Float64Array(out.length);
  for (let n = 0; n < ids.length; n++) {
    const [o, r] = [n * D, ids[n] * D];
    for (let i = 0; i < D; i++) acc[r + i] += dy[o + i];
  }
  out.set(acc);
}

function scatterRowsKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, ids } = inputs as unknown as Record<'dy' | 'ids', tf.TensorInfo>;
    const buf = buffersOf(backend, backendName);
    const out = buf.make([(attrs as unknown as { rows: number }).rows, dy.shape[dy.shape.length - 1]]);
    scatterRowsLoop(buf.view(dy), buf.view(ids) as unknown as Int32Array, buf.view(out));
    return out;
  };
}

/** Whether the running backend has the row scatter; elsewhere (WebGPU, WebGL) embeddings are one-hot products. */
export function hasScatterRowsKernel(): boolean {
  return tf.getKernel(SCATTER_ROWS_KERNEL, tf.getBackend()) !== undefined;
}

function layerNormKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, g, b } = inputs as unknown as Record<'x' | 'g' | 'b', tf.TensorInfo>;
    const buf = buffersOf(backend, backendName);
    const rows = x.shape.slice(0, -1);
    const outs = [buf.make(x.shape), buf.make(rows), buf.make(rows)];
    const [y, mean, rstd] = outs.map((o) => buf.view(o));
    layerNormLoop(buf.view(x), buf.view(g), buf.view(b), (attrs as unknown as { eps: number }).eps, { y, mean, rstd });
    return outs;
  };
}

function layerNormGradKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const { dy, x, g, mean, rstd } = inputs as unknown as Record<'dy' | 'x' | 'g' | 'mean' | 'rstd', tf.TensorInfo>;
    const buf = buffersOf(backend, backendName);
    const outs = [buf.make(x.shape), buf.make(g.shape), buf.make(g.shape)];
    const [dx, dg, db] = outs.map((o) => buf.view(o));
    layerNormGradLoop(buf.view(dy), buf.view(x), buf.view(g), buf.view(mean), buf.view(rstd), { dx, dg, db });
    return outs;
  };
}

/** Whether the running backend has the fused layer norm; elsewhere (WebGPU, WebGL) it runs op by op. */
export function hasLayerNormKernel(): boolean {
  return tf.getKernel(LAYER_NORM_KERNEL, tf.getBackend()) !== undefined;
}

/**
 * Slice on WASM reading the input in place. tfjs-backend-wasm 4.22's Slice starts with readSync,
 * which copies the whole input out of the heap, so each of the three q/k/v slices of attention
 * copied all three (0.6 ms for 61,440 values where the copy itself is microseconds).
 */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}

function heapSlice(backend: WasmHeap, x: tf.TensorInfo, begin: number | number[], size: number | number[]): tf.TensorInfo {
  const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
  const out = backend.makeOutput(s, x.dtype);
  const total = s.reduce((a, n) => a * n, 1);
  if (total === 0) return out;
  // Views after the allocation, which may have grown (and moved) the heap.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape); // one per axis but the last
  if (tf.slice_util.isSliceContinous(x.shape, b, s)) {
    const offset = tf.slice_util.computeFlatOffset(b, strides);
    dst.set(src.subarray(offset, offset + total));
    return out;
  }
  // Row by row along the last axis, counting through the outer indices like an odometer.
  const rank = x.shape.length;
  const row = s[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < total / row; r++) {
    let offset = b[rank - 1];
    for (let d = 0; d < rank - 1; d++) offset += (b[d] + index[d]) * strides[d];
    dst.set(src.subarray(offset, offset + row), r * row);
    for (let d = rank - 2; d >= 0 && ++index[d] === s[d]; d--) index[d] = 0;
  }
  return out;
}

/** Slice through heapSlice; strings keep tfjs's own kernel. */
function inPlaceSlice(plain: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    if (x.dtype === 'string') return plain(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    return heapSlice(args.backend as unknown as WasmHeap, x, begin, size);
  };
}

/** Unpack (tf.unstack) through heapSlice: WASM's own calls its copying Slice directly. */
function inPlaceUnpack(plain: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { value } = args.inputs as unknown as { value: tf.TensorInfo };
    if (value.dtype === 'string') return plain(args);
    const rank = value.shape.length;
    let { axis } = args.attrs as unknown as { axis: number };
    if (axis < 0) axis += rank;
    const outShape = value.shape.filter((_, d) => d !== axis);
    const size = value.shape.slice();
    size[axis] = 1;
    return Array.from({ length: value.shape[axis] }, (_, i) => {
      const begin = new Array<number>(rank).fill(0);
      begin[axis] = i;
      const out = heapSlice(args.backend as unknown as WasmHeap, value, begin, size);
      return { dataId: out.dataId, dtype: out.dtype, shape: outShape };
    });
  };
}

interface RefCounted {
  incRef(dataId: tf.DataId): void;
}

/**
 * Identity that shares its input's buffer (one more reference) instead of copying it, as the CPU
 * backend's and WASM's own Reshape do: one PPO iteration's profile had 1,390 Identity copies and
 * 500 Casts, most of them float32 to float32 inside tfjs's gradients. Tensors are immutable, so
 * sharing is safe.
 */
const sharedIdentity: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as unknown as { x: tf.TensorInfo };
  (backend as unknown as RefCounted).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Cast that shares the buffer when the dtype does not change (tfjs's gradients cast float32 to float32). */
function sharingCast(plain: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const x = (args.inputs as unknown as { x: tf.TensorInfo }).x;
    return x.dtype === (args.attrs as unknown as tf.CastAttrs).dtype ? sharedIdentity(args) : plain(args);
  };
}

const installed = new Set<string>();

/**
 * Registers this module's kernels for `backend`, once per backend name: the untransposed
 * BatchMatMul, the sharing Identity and Cast and the in-place Slice and Unpack over WASM's own;
 * RlhfAdamW, the fused layer norm and the row scatter where JS can read the buffers in place (WASM, CPU).
 * Elsewhere (WebGPU, WebGL) tfjs's kernels run as they are. Call after the backend is set.
 */
export function installFastKernels(backend: string): void {
  if (installed.has(backend)) return;
  installed.add(backend);
  const matMul = tf.getKernel(tf.BatchMatMul, backend);
  const transpose = tf.getKernel(tf.Transpose, backend);
  const identity = tf.getKernel(tf.Identity, backend);
  const cast = tf.getKernel(tf.Cast, backend);
  if (backend === 'wasm' && matMul && transpose && identity && cast) {
    tf.unregisterKernel(tf.BatchMatMul, backend);
    tf.registerKernel({ ...matMul, kernelFunc: untransposedBatchMatMul(matMul.kernelFunc, transpose.kernelFunc) });
    tf.unregisterKernel(tf.Identity, backend);
    tf.registerKernel({ ...identity, kernelFunc: sharedIdentity });
    tf.unregisterKernel(tf.Cast, backend);
    tf.registerKernel({ ...cast, kernelFunc: sharingCast(cast.kernelFunc) });
    for (const [name, wrap] of [
      [tf.Slice, inPlaceSlice],
      [tf.Unpack, inPlaceUnpack],
    ] as const) {
      const config = tf.getKernel(name, backend);
      if (!config) continue;
      tf.unregisterKernel(name, backend);
      tf.registerKernel({ ...config, kernelFunc: wrap(config.kernelFunc) });
    }
  }
  const adamW = ADAMW_KERNELS[backend];
  if (adamW) {
    tf.registerKernel({ kernelName: ADAMW_KERNEL, backendName: backend, kernelFunc: adamW });
    tf.registerKernel({ kernelName: LAYER_NORM_KERNEL, backendName: backend, kernelFunc: layerNormKernel(backend) });
    tf.registerKernel({ kernelName: LAYER_NORM_GRAD_KERNEL, backendName: backend, kernelFunc: layerNormGradKernel(backend) });
    tf.registerKernel({ kernelName: SCATTER_ROWS_KERNEL, backendName: backend, kernelFunc: scatterRowsKernel(backend) });
  }
}
