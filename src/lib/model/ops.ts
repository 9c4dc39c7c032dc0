// Small tensor ops the models need that tfjs-core lacks or gets wrong.
import * as tf from '@tensorflow/tfjs-core';

/**
 * log sigmoid(x), stable for large |x|: min(x, 0) - log1p(exp(-|x|)). tf.logSigmoid's gradient
 * in tfjs 4.22 reads a tensor it has already disposed ("Cannot read properties of undefined
 * (reading 'backend')" on wasm), so it is built from ops whose gradients work everywhere.
 */
export function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.minimum(x, 0), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
}
