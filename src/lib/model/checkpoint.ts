// An in-memory copy of some variables (model weights, optimizer moments) to roll back to when a
// training step goes non-finite: the user keeps the last good state, never a NaN model.
import * as tf from '@tensorflow/tfjs-core';

export class Checkpoint {
  private readonly saved: [tf.Variable, tf.Tensor][];

  constructor(variables: Iterable<tf.Variable>) {
    this.saved = [...variables].map((v) => [v, tf.clone(v)]);
  }

  /** Writes the saved values back. */
  restore(): void {
    tf.tidy(() => {
      for (const [v, t] of this.saved) v.assign(t);
    });
  }

  dispose(): void {
    tf.dispose(this.saved.map(([, t]) => t));
  }
}
