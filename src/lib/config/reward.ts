// Reward-model training settings. The refit recipe is prototype2's best full fine-tune
// (reference/prototype2/RESULTS.md section 2): 0.803 held-out accuracy at 50 labels.

export interface RewardConfig {
  /** AdamW learning rate for the whole model (trunk and head). */
  lr: number;
  /** The scalar head's learning rate as a multiple of lr (the head starts at zero; the trunk is pretrained). */
  headLrScale: number;
  /** Decoupled weight decay on matrices: regularises toward small weights with few labels. */
  weightDecay: number;
  /** Steps of a full refit from the base model. */
  refitSteps: number;
  /** Comparison pairs per step. */
  batchSize: number;
  /** AdamW learning rate of the incremental steps after each label. */
  incrementalLr: number;
  /** Steps after each new label (incremental mode): the new label plus replayed old ones. */
  incrementalSteps: number;
  /** Pairs per incremental step (the new ones first, then replayed ones). */
  incrementalBatchSize: number;
  /** Members of the ensemble: 1, or 3 for an uncertainty estimate (bootstrap resamples). */
  ensembleSize: number;
  /** Base-model samples used to normalise scores to mean 0, std 1. */
  normSamples: number;
}

export const DEFAULT_REWARD: RewardConfig = {
  lr: 1e-4, // prototype2: 1e-4 beat 3e-4 (0.803 vs 0.786 at N=50)
  headLrScale: 1, // one rate for trunk and head, as prototype2
  weightDecay: 0.1, // prototype2's best recipe
  refitSteps: 200, // prototype2: 300 steps was worse (0.782), 200 best
  batchSize: 16, // prototype2's batch
  incrementalLr: 1e-4, // a click must visibly move the scores of its pair in 2 steps
  incrementalSteps: 2, // keeps an update after a click well under a second on wasm
  incrementalBatchSize: 8, // half a refit batch: the new label weighs more, the step costs less
  ensembleSize: 1, // 3 adds ~+0.01 accuracy for 3x the cost (prototype2); the UI can ask for it
  normSamples: 256, // prototype2 normalised on 256 base samples
};
