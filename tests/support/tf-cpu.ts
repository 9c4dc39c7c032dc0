// Vitest setup for unit tests: pure ML code runs on the tfjs CPU backend in Node.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

tf.env().set('PROD', true);
await tf.setBackend('cpu');
await tf.ready();
