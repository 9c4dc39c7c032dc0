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

const installed = new Set<string>();

/**
 * Registers the faster kernels over `backend`'s own, once per backend name; a no-op where the
 * backend's plain kernels are already the fast path (everything but WASM). Call after the
 * backend's package is imported.
 */
export function installFastKernels(backend: string): void {
  if (backend !== 'wasm' || installed.has(backend)) return;
  const matMul = tf.getKernel(tf.BatchMatMul, backend);
  const transpose = tf.getKernel(tf.Transpose, backend);
  if (!matMul || !transpose) return;
  tf.unregisterKernel(tf.BatchMatMul, backend);
  tf.registerKernel({ ...matMul, kernelFunc: untransposedBatchMatMul(matMul.kernelFunc, transpose.kernelFunc) });
  installed.add(backend);
}
