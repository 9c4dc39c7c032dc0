// RLOO (Ahmadian et al. 2024, "Back to Basics"; Kool et al. 2019) as TRL's RLOOTrainer: K
// completions per prompt; the sequence's KL to the frozen reference (summed k1) is folded into its
// reward, r = score - beta * KL; the advantage is r minus the mean of the other K - 1 rewards of
// its group (the leave-one-out baseline); the loss is the clipped surrogate of the whole sequence's
// ratio, averaged over sequences. No critic. The steps shared with GRPO are in ../group-trainer.ts;
// the per-group arithmetic in ../group-math.ts.
import * as tf from '@tensorflow/tfjs-core';
import { int, real } from '../../config/fields';
import { leaveOneOutAdvantages } from '../group-math';
import { clippedSurrogate, COMPLETIONS_CHART, GROUP_DEFAULTS, GROUP_FIELDS, GroupTrainer, maskedGridMean, type GroupBatch, type GroupConfig, type LossInputs, type MethodAdvantages, type PassLoss } from '../group-trainer';
import { tokenKl } from '../ppo-math';
import { mean } from '../../math/stats';
import { defineMethod } from './common';
import type { MethodContext } from './types';

export interface RlooConfig extends GroupConfig {
  /** Normalise the advantages over the batch to mean 0, std 1 (TRL's normalize_advantages). */
  normalizeAdvantages: 'off' | 'on';
}

export const DEFAULT_RLOO: RlooConfig = {
  ...GROUP_DEFAULTS,
  promptsPerIteration: 16, // 16 x 4 = 64 rollouts: PPO's cost per iteration
  groupSize: 4, // Ahmadian et al.'s k = 4 beat k = 2 (TRL's default num_generations); 4 leaves 16 prompts per batch
  beta: 0.1, // TRL's is 0.05. Shipped model, gold scorer, 120 iterations: 0.05 let KL surge to 17 nats by iteration 70; 0.1 held 4.3-4.8 (gold 7.1); 0.2 kept it at 3 (gold 6.2)
  normalizeAdvantages: 'off', // TRL's default: the leave-one-out baseline already centres the advantages
};

export class RlooTrainer extends GroupTrainer<RlooConfig> {
  constructor(ctx: MethodContext, config: RlooConfig) {
    super('RLOO', ctx, config);
  }

  protected readonly penaltyEstimator = 'k1';
  protected readonly advantageKind = 'leave-one-out';

  /** The reward with the sequence KL folded in: r = score - beta * KL. */
  protected groupRewards(batch: GroupBatch): number[] {
    return batch.scores.map((s, b) => s - this.beta * batch.klSeq[b]);
  }

  /** The first reward is compared with the mean of the other K - 1 (before any batch normalisation). */
  protected groupBaseline(rewards: readonly number[]): { baseline: number; spread: number | null } {
    return { baseline: mean(rewards.slice(1)), spread: null };
  }

  /** 4. rewards with the sequence KL folded in (r = score - beta * KL), then leave-one-out advantages. */
  protected advantages(batch: GroupBatch): MethodAdvantages {
    const rewards = this.groupRewards(batch);
    const kl = maskedGridMean(tokenKl(batch.logpOld, batch.logpRef, batch.mask, 'k1'), batch.mask); // TRL's kl: per token
    return { ...leaveOneOutAdvantages(rewards, this.cfg.groupSize, this.cfg.normalizeAdvantages === 'on'), metrics: { kl } };
  }

  /**
   * 5. TRL's _compute_loss: the clipped surrogate of each completion's whole-sequence ratio
   * pi(y|x) / pi_old(y|x) with its advantage, averaged over completions (the KL is in the reward).
   */
  protected loss({ logp, logpOld, mask }: LossInputs, advantages: number[]): PassLoss {
    const ratio = tf.exp(tf.sum(tf.mul(tf.sub(logp, logpOld), mask), 1)); // (B)
    const surrogate = clippedSurrogate(ratio, tf.tensor1d(advantages), this.cfg.epsilon); // (B)
    return {
      loss: tf.mean(surrogate.loss) as tf.Scalar,
      stats: {
        'clip_ratio/low_mean': tf.mean(surrogate.low) as tf.Scalar,
        'clip_ratio/high_mean': tf.mean(surrogate.high) as tf.Scalar,
        'clip_ratio/region_mean': tf.mean(surrogate.region) as tf.Scalar,
      },
    };
  }
}

export const RLOO = defineMethod<RlooConfig>({
  name: 'rloo',
  title: 'RLOO',
  kind: 'online',
  summary: 'samples K completions per prompt and pushes each by how much it beats the mean of the other K - 1: REINFORCE with a leave-one-out baseline, KL folded into the reward',
  source: 'Ahmadian et al. 2024 (Back to Basics); Kool et al. 2019; TRL RLOOTrainer',
  defaults: DEFAULT_RLOO,
  fields: [
    { kind: 'number', key: 'beta', label: 'KL coefficient beta', rule: real(0, 2, 0.005), reason: "TRL's 0.05 (fixed there) let KL surge to 17 nats on the shipped model; from 0.1 the adaptive controller held it near 4.5" },
    ...GROUP_FIELDS,
    { kind: 'choice', key: 'normalizeAdvantages', label: 'normalise advantages', choices: ['off', 'on'], reason: "TRL's default off: the leave-one-out baseline already centres them" },
    { kind: 'number', key: 'lr', label: 'learning rate', rule: real(1e-6, 1e-2, 1e-5), reason: "PPO's Adam rate: on the shipped model it took the gold score from 0.6 to 7.1 in 120 iterations at KL 4.3" },
    { kind: 'number', key: 'groupSize', label: 'completions per prompt K', rule: int(2, 64), reason: 'Ahmadian et al.: k = 4 beat k = 2 at the same number of prompts' },
    { kind: 'number', key: 'promptsPerIteration', label: 'prompts per iteration', rule: int(1, 64), reason: "16 x 4 = 64 rollouts, PPO's cost per iteration" },
  ],
  charts: [
    { title: 'Reward-model score', keys: ['reward', 'reward_std'], explain: "The reward model's mean score of the rollouts (minus the truncation penalty, before the KL term) and its spread." },
    { title: 'KL to the reference', keys: ['kl/sequence', 'kl'], floor: 0, explain: 'Nats per completion (summed k1, what is subtracted from the reward times beta) and per token.' },
    { title: 'KL coefficient', keys: ['beta'], floor: 0, explain: 'beta of the reward penalty: the adaptive controller raises it when KL per sequence is above target.' },
    { title: 'Clipping and entropy', keys: ['clip_ratio/region_mean', 'entropy'], explain: "Share of completions whose sequence ratio left [1 - epsilon, 1 + epsilon] in the advantage's direction, and the policy's entropy per token." },
    COMPLETIONS_CHART,
  ],
  create: (ctx, config) => new RlooTrainer(ctx, config),
});
