// Backend set-up for Node scripts (pretrain, bench, experiment): wasm (SIMD) when it initialises,
// else the plain-JS cpu backend. Kept apart from the ML code, which only imports tfjs-core.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { installFastKernels } from '../lib/model/kernels';

export type NodeBackend = 'wasm' | 'cpu';

/** Activates `preferred` (or wasm, then cpu) and returns the backend that runs. */
export async function initNodeBackend(preferred?: NodeBackend): Promise<NodeBackend> {
  tf.env().set('PROD', true);
  const order: NodeBackend[] = preferred ? [preferred] : ['wasm', 'cpu'];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        installFastKernels(name);
        return name;
      }
    } catch {
      // try the next backend
    }
  }
  throw new Error(`no tfjs backend could be initialised (tried ${order.join(', ')})`);
}
