// PPO hyperparameters (InstructGPT step 3), named as TRL's PPOConfig where TRL has the field.
// Defaults are prototype2's best recipe (reference/prototype2/RESULTS.md section 3).
import type { KlEstimator } from '../math/stats';

export type KlControl = 'adaptive' | 'fixed';

export interface PpoConfig {
  /** Rollouts (prompt + sampled completion) per iteration. */
  rolloutsPerIteration: number;
  /** Passes over each iteration's rollouts. */
  epochs: number;
  /** Adam learning rate of policy and critic. */
  lr: number;
  /** PPO's clipped-surrogate range for the probability ratio. */
  clipRange: number;
  /** Clip range of the value function around the rollout's values. */
  clipRangeValue: number;
  gamma: number;
  lambda: number;
  /** Sampling temperature of rollouts; log-probs are computed at the same temperature. */
  temperature: number;
  /** How beta is set: fixed, or adapted toward targetKl (Ziegler et al. 2019). */
  klControl: KlControl;
  /** beta at the start (and always, when fixed). */
  initKlCoef: number;
  /** Target KL per sequence (nats) of the adaptive controller. */
  targetKl: number;
  /** Iterations over which the adaptive controller closes the gap. */
  klHorizon: number;
  /** The adaptive controller never lowers beta below this (at initKlCoef: it raises beta above the
   *  target and relaxes it back toward the start below it). */
  klCoefMin: number;
  /** Which estimator of KL(pi || pi_ref) the per-token penalty uses. */
  klEstimator: KlEstimator;
  /** Subtracted from the score of a completion that never produced EOS. */
  truncationPenalty: number;
  /** Entropy bonus coefficient in the policy loss (0: entropy is only reported). */
  entropyCoef: number;
  /** Early-stop guard: stop when the mean KL per sequence of the last 3 iterations exceeds this. */
  klStop: number;
  /** Global gradient-norm clip of both optimizers. */
  maxGradNorm: number;
}

export const DEFAULT_PPO: PpoConfig = {
  rolloutsPerIteration: 64, // prototype2: 64 rollouts, 0.22 s per iteration on one core in PyTorch
  epochs: 2, // prototype2 (TRL's default is 4; 2 halves the cost and was enough)
  lr: 3e-4, // prototype2's Adam rate
  clipRange: 0.2, // Schulman et al. 2017; TRL's cliprange
  clipRangeValue: 0.2, // TRL's cliprange_value
  gamma: 1, // episodic, 12 tokens: no discounting (TRL's default)
  lambda: 0.95, // TRL's lam
  temperature: 1, // rollouts from the policy's own distribution, as PPO assumes
  klControl: 'adaptive', // prototype2: adaptive at 4 nats kept 2x the diversity of fixed beta 0.05 for -0.04 win rate
  initKlCoef: 0.05, // prototype2's beta0; InstructGPT used 0.02 on much larger models
  targetKl: 4.5, // prototype2 used 4. Shared run, 120 iterations, positive annotator: win 0.851 / 0.831 at KL 4.21 / 4.91 (seeds 1, 2); before the run was shared, 5 (80 its) gave 0.857 at KL 5.3 with one seed at distinct 0.44
  klHorizon: 5, // prototype2: beta *= 1 + clip(KL/target - 1, +-0.2) / 5 per iteration
  klCoefMin: 0.05, // = initKlCoef: beta only tightens. With a floor of 0, beta decayed to 0.015 while KL was small and could not catch the surge that followed (12.9 nats); with this floor: 3.9 nats, same win rate
  klEstimator: 'k1', // TRL's default penalty; k3 is reported beside it
  truncationPenalty: 1, // prototype: stops the policy from never ending its sentences (99 % finish)
  entropyCoef: 0, // TRL's PPO has no entropy bonus; the KL penalty keeps entropy up
  klStop: 12, // 3x the target: a run that has escaped its KL control (prototype2 stopped at 6-8 without control)
  maxGradNorm: 1, // prototype2 clipped at 1
};
