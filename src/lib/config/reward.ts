// Reward-model training settings. The refit recipe is prototype2's best full fine-tune
// (reference/prototype2/RESULTS.md section 2: 0.803 held-out accuracy at 50 labels) at a lower rate:
// on the shipped model, 50 most-different labels with 10 % noise, seeds 1-3, held-out accuracy
// was 0.755 at lr 1e-4, 0.807 at 5e-5, 0.814 at 3e-5, 0.802 at 2e-5 (200 steps each), 0.730 at 1e-4
// with 400 steps: the less the pretrained trunk moves, the better the RM generalises from 50 labels.
import { int, real, type NumberRule } from './fields';

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
  lr: 3e-5, // see above: 0.814 vs 0.755 at 1e-4 (prototype2's rate) on the shipped model
  headLrScale: 1, // a faster head overfits: seed 1 gave 0.715 with lr 3e-5 and x10, 0.727 with 1e-5 and x30 (0.788 at x1)
  weightDecay: 0.1, // prototype2's best recipe
  refitSteps: 200, // prototype2: 300 steps was worse (0.782), 200 best
  batchSize: 16, // prototype2's batch
  incrementalLr: 1e-4, // a click must visibly move the scores of its pair in 2 steps
  incrementalSteps: 2, // keeps an update after a click well under a second on wasm
  incrementalBatchSize: 8, // half a refit batch: the new label weighs more, the step costs less
  ensembleSize: 1, // prototype2: 3 bootstrap members add ~+0.01; here seed 1 fell to 0.721 from 0.788 (bootstrap drops a third of 50 labels). The UI can ask for 3
  normSamples: 256, // prototype2 normalised on 256 base samples
};

/** What a user may set each field to (the page's address, the experiment's --reward): wide enough to explore, narrow enough to stay trainable. */
export const REWARD_RULES: Record<keyof RewardConfig, NumberRule> = {
  lr: real(1e-7, 1e-2, 1e-6),
  headLrScale: real(0, 100, 0.5),
  weightDecay: real(0, 1, 0.01),
  refitSteps: int(1, 2000), // about 3 minutes of WASM at the top
  batchSize: int(1, 256),
  incrementalLr: real(1e-7, 1e-2, 1e-6),
  incrementalSteps: int(1, 50), // a click's update must stay interactive
  incrementalBatchSize: int(1, 256),
  ensembleSize: int(1, 5), // each member is a whole model copy
  normSamples: int(16, 4096),
};
