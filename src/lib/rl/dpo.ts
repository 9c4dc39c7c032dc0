// Direct Preference Optimization (Rafailov et al. 2023, "Direct Preference Optimization: Your
// Language Model is Secretly a Reward Model"): the policy is trained on the preference pairs
// themselves, with no reward model and no sampling. Names follow TRL's DPOTrainer (sigmoid loss):
// `dpo_loss` on policy/reference log-probs of chosen and rejected completions, implicit rewards
// beta * (log pi - log pi_ref), and the metrics `rewards/chosen`, `rewards/rejected`,
// `rewards/margins`, `rewards/accuracies`, `logps/chosen`, `logps/rejected`, `loss`, `grad_norm`.
//
//   loss = -sum_i w_i log sigma(beta * [(log pi(c_i) - log pi_ref(c_i)) - (log pi(r_i) - log pi_ref(r_i))]) / sum_i w_i
//
// Weights come from comparisonPairs (preferences.ts): an A/B label is one pair of weight 1, a tie
// is both orders at weight 1/2, whose loss is smallest when the policy moves both completions
// alike. Every metric is a mean over the minibatch with the same weights (TRL's are plain means;
// without ties the two agree). The reference is a frozen copy of the base model; its log-probs are
// computed once per pair and cached as numbers, as TRL's `precompute_ref_log_probs` does.
// A run is about 60 steps of 16 pairs (prototype 1's recipe): 7-10 s for the shipped base model on
// the wasm backend in Node.
import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../data/tokenizer';
import type { Rng } from '../math/rng';
import type { Gpt } from '../model/gpt';
import { cloneGpt } from '../model/heads';
import { completionLogProbs } from '../model/lm';
import { logSigmoid } from '../model/ops';
import { AdamW } from '../model/optim';
import { disposeParams } from '../model/params';
import { comparisonPairs, type ComparisonPair, type Label } from './preferences';
import { completionIds, layoutBatch } from './sequences';
import { trainSteps } from './train-steps';
import { modelVariables, optimizerVariables, stateCount, type StateValues, type TrainerState } from './trainer-state';

export interface DpoConfig {
  /** Strength of the implicit KL penalty: the reward is beta * log(pi / pi_ref). */
  beta: number;
  lr: number;
  /** Pairs per step, drawn without replacement (all pairs when there are fewer). */
  batchSize: number;
  weightDecay: number;
}

export const DEFAULT_DPO: DpoConfig = {
  beta: 0.1, // Rafailov et al.'s and TRL's default; prototype 1 used it too
  lr: 2e-4, // shipped model, 60 steps, 50 labels, seeds 1-3: 1e-4 barely moves it (win 0.54, KL 0.2); 2e-4 gives win 0.60 at KL 1.3-2.4; 1e-4 for 180 steps, KL 7-15 and broken grammar
  batchSize: 16, // prototype 1's DPO batch
  weightDecay: 0, // prototype 1 trained DPO with plain Adam
};

export type DpoMetricName =
  | 'loss'
  | 'rewards/chosen'
  | 'rewards/rejected'
  | 'rewards/margins'
  | 'rewards/accuracies'
  | 'logps/chosen'
  | 'logps/rejected'
  | 'grad_norm';

export type DpoMetrics = Record<DpoMetricName, number>;

/**
 * TRL's `dpo_loss` (sigmoid): per-pair losses -log sigma(beta * (chosen log-ratio - rejected
 * log-ratio)) from summed completion log-probs [B]. Call inside tidy.
 */
export function dpoLosses(
  policyChosen: tf.Tensor1D,
  policyRejected: tf.Tensor1D,
  refChosen: tf.Tensor1D,
  refRejected: tf.Tensor1D,
  beta: number,
): tf.Tensor1D {
  const chosenLogratios = tf.sub(policyChosen, refChosen); // (B,)
  const rejectedLogratios = tf.sub(policyRejected, refRejected); // (B,)
  const logits = tf.sub(chosenLogratios, rejectedLogratios); // (B,)
  return tf.neg(logSigmoid(tf.mul(beta, logits))) as tf.Tensor1D; // (B,); ops.ts's, not tf.logSigmoid (broken gradient)
}

/** Summed completion log-probs of one minibatch, as plain numbers (index i is pair i of the batch). */
export interface PairLogProbs {
  policyChosen: readonly number[];
  policyRejected: readonly number[];
  refChosen: readonly number[];
  refRejected: readonly number[];
}

/** The reward metrics of a minibatch (weighted means), given its loss and gradient norm. */
export function dpoMetrics(lp: PairLogProbs, weights: readonly number[], beta: number, loss: number, gradNorm: number): DpoMetrics {
  let wSum = 0;
  let chosen = 0;
  let rejected = 0;
  let accuracy = 0;
  let logpChosen = 0;
  let logpRejected = 0;
  weights.forEach((w, i) => {
    const rc = beta * (lp.policyChosen[i] - lp.refChosen[i]);
    const rr = beta * (lp.policyRejected[i] - lp.refRejected[i]);
    wSum += w;
    chosen += w * rc;
    rejected += w * rr;
    accuracy += rc > rr ? w : 0;
    logpChosen += w * lp.policyChosen[i];
    logpRejected += w * lp.policyRejected[i];
  });
  return {
    loss,
    'rewards/chosen': chosen / wSum,
    'rewards/rejected': rejected / wSum,
    'rewards/margins': (chosen - rejected) / wSum,
    'rewards/accuracies': accuracy / wSum,
    'logps/chosen': logpChosen / wSum,
    'logps/rejected': logpRejected / wSum,
    grad_norm: gradNorm,
  };
}

interface EncodedPair {
  prompt: number[];
  chosen: number[];
  rejected: number[];
  weight: number;
}

/** Summed completion log-probs of `model` on rows of (prompt, completion) ids. */
async function totalLogProbs(model: Gpt, prompts: number[][], completions: number[][]): Promise<Float32Array> {
  const b = layoutBatch(prompts, completions);
  const total = tf.tidy(() => completionLogProbs(model, tf.tensor2d(b.ids, [b.batch, b.width], 'int32'), b.promptWidth).total);
  const values = (await total.data()) as Float32Array;
  total.dispose();
  return values;
}

/** Owns one DPO run: the policy, its frozen reference, the optimizer and the step count (minGPT's Trainer). */
export class DpoTrainer {
  readonly config: DpoConfig;
  /** Trainable copy of the base model: the model DPO changes. */
  readonly policy: Gpt;
  /** Frozen copy of the base model; its variables are in no optimizer's list. */
  readonly reference: Gpt;
  readonly pairs: readonly ComparisonPair[];
  private readonly encoded: EncodedPair[];
  private readonly optimizer: AdamW;
  /** Reference log-probs per pair index: [chosen, rejected], filled the first time a pair is drawn. */
  private readonly refCache = new Map<number, [number, number]>();
  private stepCount = 0;

  /**
   * `base` is copied (twice) and left untouched. Throws UnknownWordsError when a label holds a word
   * outside the vocabulary, RangeError when no label gives a pair or a pair does not fit the context.
   */
  constructor(base: Gpt, tokenizer: Tokenizer, labels: readonly Label[], config: Partial<DpoConfig> = {}) {
    this.config = { ...DEFAULT_DPO, ...config };
    this.pairs = comparisonPairs(labels);
    if (this.pairs.length === 0) throw new RangeError('DPO needs at least one A, B or tie label');
    this.encoded = this.pairs.map((p) => ({
      prompt: tokenizer.encodePrompt(p.prompt),
      chosen: completionIds(tokenizer, p.chosen),
      rejected: completionIds(tokenizer, p.rejected),
      weight: p.weight,
    }));
    // A batch is as wide as its longest prompt plus its longest completion: check the worst case once.
    const longest = (rows: number[][]) => Math.max(...rows.map((r) => r.length));
    const width = longest(this.encoded.map((e) => e.prompt)) + longest(this.encoded.flatMap((e) => [e.chosen, e.rejected]));
    if (width > base.config.contextLength) {
      throw new RangeError(`the longest prompt and completion take ${width} tokens, more than the context of ${base.config.contextLength}`);
    }
    this.policy = cloneGpt(base, 'dpo-policy');
    this.reference = cloneGpt(base, 'dpo-ref', false);
    this.optimizer = new AdamW(this.policy.params, { lr: this.config.lr, weightDecay: this.config.weightDecay });
  }

  get steps(): number {
    return this.stepCount;
  }

  /** One optimizer step on a minibatch drawn with `rng`; returns its metrics (loss before the update). */
  async step(rng: Rng): Promise<DpoMetrics> {
    const { batchSize, beta } = this.config;
    // 1. Draw a minibatch of pairs without replacement.
    const indices = rng.sample(
      this.encoded.map((_, i) => i),
      Math.min(batchSize, this.encoded.length),
    );
    const batch = indices.map((i) => this.encoded[i]);
    const B = batch.length;

    // 2. Reference log-probs, computed once per pair and cached.
    await this.fillReferenceCache(indices);
    const refChosen = indices.map((i) => this.refCache.get(i)![0]);
    const refRejected = indices.map((i) => this.refCache.get(i)![1]);

    // 3. Chosen rows, then rejected rows, in one batch of 2B.
    const prompts = batch.map((e) => e.prompt);
    const layout = layoutBatch([...prompts, ...prompts], [...batch.map((e) => e.chosen), ...batch.map((e) => e.rejected)]);
    const ids = tf.tensor2d(layout.ids, [layout.batch, layout.width], 'int32');
    const weights = batch.map((e) => e.weight);
    const wSum = weights.reduce((a, w) => a + w, 0);

    // 4. Policy log-probs and the weighted loss, inside the optimizer's gradient tape.
    const kept: { logps?: tf.Tensor1D } = {};
    try {
      const { loss, gradNorm } = await this.optimizer.step(() => {
        const logps = completionLogProbs(this.policy, ids, layout.promptWidth).total; // (2B,)
        kept.logps = tf.keep(logps);
        const losses = dpoLosses(
          tf.slice(logps, [0], [B]),
          tf.slice(logps, [B], [B]),
          tf.tensor1d(refChosen),
          tf.tensor1d(refRejected),
          beta,
        ); // (B,)
        return tf.div(tf.sum(tf.mul(losses, tf.tensor1d(weights))), wSum) as tf.Scalar;
      });
      this.stepCount += 1;

      // 5. Implicit rewards and the other metrics, from the same forward pass as the loss.
      const logps = Array.from(await kept.logps!.data());
      return dpoMetrics(
        { policyChosen: logps.slice(0, B), policyRejected: logps.slice(B), refChosen, refRejected },
        weights,
        beta,
        loss,
        gradNorm,
      );
    } finally {
      ids.dispose();
      kept.logps?.dispose();
    }
  }

  /** `steps` optimizer steps; `onStep` sees each step's metrics as it finishes. */
  train(steps: number, rng: Rng, onStep?: (metrics: DpoMetrics, step: number) => void): Promise<DpoMetrics[]> {
    return trainSteps(this, steps, rng, onStep);
  }

  /** Frees the policy, the reference and the optimizer state. */
  /** The policy and its optimizer, and the step count (the minibatches come from the run's stream for the method, saved with it). */
  saveState(): TrainerState {
    return { variables: [...modelVariables('policy', this.policy.params), ...optimizerVariables('policy-opt', this.optimizer)], values: { steps: this.stepCount, optSteps: this.optimizer.steps } };
  }

  loadValues(values: StateValues): void {
    [this.stepCount, this.optimizer.steps] = [stateCount(values, 'steps'), stateCount(values, 'optSteps')];
  }

  dispose(): void {
    this.optimizer.dispose();
    disposeParams(this.policy.params);
    disposeParams(this.reference.params);
  }

  private async fillReferenceCache(indices: readonly number[]): Promise<void> {
    const missing = indices.filter((i) => !this.refCache.has(i));
    if (missing.length === 0) return;
    const rows = missing.map((i) => this.encoded[i]);
    const prompts = rows.map((e) => e.prompt);
    const lp = await totalLogProbs(this.reference, [...prompts, ...prompts], [...rows.map((e) => e.chosen), ...rows.map((e) => e.rejected)]);
    missing.forEach((i, k) => this.refCache.set(i, [lp[k], lp[missing.length + k]]));
  }
}
