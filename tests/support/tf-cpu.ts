// Vitest setup for unit tests: pure ML code runs on the tfjs CPU backend in Node.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { installFastKernels } from '../../src/lib/model/kernels';

tf.env().set('PROD', true);
await tf.setBackend('cpu');
await tf.ready();
installFastKernels('cpu'); // as the page and the scripts do after setBackend
