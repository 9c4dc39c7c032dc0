// Supervised fine-tuning (SFT), the first stage of InstructGPT (Ouyang et al. 2022) and the
// "is RL necessary?" baseline: maximise the likelihood of good completions directly. Follows TRL's
// SFTTrainer with `completion_only_loss`: the loss is the mean negative log-likelihood over the
// completion tokens of the minibatch (EOS included, PAD and prompt tokens excluded), so a long
// completion weighs more than a short one, as in TRL.
//
// Examples come from two places:
//   - demonstrations the user wrote ({prompt, completion} texts);
//   - the chosen completion of every A/B label. A tie contributes nothing: neither completion was
//     preferred, so neither is a demonstration of what the annotator wants (a skip neither).
import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../data/tokenizer';
import type { Rng } from '../math/rng';
import type { Gpt } from '../model/gpt';
import { cloneGpt } from '../model/heads';
import { completionLogProbs } from '../model/lm';
import { AdamW } from '../model/optim';
import { disposeParams } from '../model/params';
import type { Label } from './preferences';
import { completionIds, layoutBatch } from './sequences';
import { trainSteps } from './train-steps';
import { modelVariables, optimizerVariables, stateCount, type StateValues, type TrainerState } from './trainer-state';

/** A completion the user wrote for a prompt (texts, as labels hold them; " …" marks no EOS). */
export interface Demonstration {
  prompt: string;
  completion: string;
}

export interface SftConfig {
  lr: number;
  /** Examples per step, drawn without replacement (all examples when there are fewer). */
  batchSize: number;
  weightDecay: number;
}

export const DEFAULT_SFT: SftConfig = {
  lr: 1e-4, // base model, 60 steps, 25-50 labels: gold score 0.3 -> 1.2-1.4 at KL 0.5-0.9; 3e-4 overfits 25 labels (KL 3.5-4.2, fewer distinct samples)
  batchSize: 16, // as DPO and the reward model
  weightDecay: 0, // a few hundred steps on few examples: nothing to regularise towards but the base, which decay does not do
};

export type SftMetricName = 'loss' | 'tokens' | 'grad_norm';
export type SftMetrics = Record<SftMetricName, number>;

/** The examples SFT trains on, in order: the demonstrations, then each A/B label's chosen completion. */
export function sftExamples(labels: readonly Label[], demonstrations: readonly Demonstration[] = []): Demonstration[] {
  const fromLabels: Demonstration[] = [];
  for (const l of labels) {
    if (l.choice === 'A') fromLabels.push({ prompt: l.prompt, completion: l.completionA });
    else if (l.choice === 'B') fromLabels.push({ prompt: l.prompt, completion: l.completionB });
  }
  return [...demonstrations, ...fromLabels];
}

/**
 * Mean negative log-likelihood of the completion tokens of ids [B, P + N] (prompts left-padded to
 * width P, completions right-padded with PAD). Prompt tokens are conditioned on but not scored.
 * Returns the loss and the number of scored tokens. Call inside tidy.
 */
export function sftLoss(model: Gpt, ids: tf.Tensor2D, promptWidth: number): { loss: tf.Scalar; tokens: tf.Scalar } {
  const { perToken, mask } = completionLogProbs(model, ids, promptWidth); // (B, N), (B, N)
  const tokens = tf.sum(mask) as tf.Scalar;
  const loss = tf.neg(tf.div(tf.sum(perToken), tf.maximum(tokens, 1))) as tf.Scalar;
  return { loss, tokens };
}

interface EncodedExample {
  prompt: number[];
  completion: number[];
}

/** Owns one SFT run: the policy, the optimizer and the step count (minGPT's Trainer). */
export class SftTrainer {
  readonly config: SftConfig;
  /** Trainable copy of the base model. */
  readonly policy: Gpt;
  readonly examples: readonly Demonstration[];
  private readonly encoded: EncodedExample[];
  private readonly optimizer: AdamW;
  private stepCount = 0;

  /**
   * `base` is copied and left untouched. Throws UnknownWordsError when a text holds a word outside
   * the vocabulary, RangeError when there is no example or one does not fit the context.
   */
  constructor(base: Gpt, tokenizer: Tokenizer, labels: readonly Label[], demonstrations: readonly Demonstration[] = [], config: Partial<SftConfig> = {}) {
    this.config = { ...DEFAULT_SFT, ...config };
    this.examples = sftExamples(labels, demonstrations);
    if (this.examples.length === 0) throw new RangeError('SFT needs at least one demonstration or A/B label');
    this.encoded = this.examples.map((e) => ({ prompt: tokenizer.encodePrompt(e.prompt), completion: completionIds(tokenizer, e.completion) }));
    const longest = (rows: number[][]) => Math.max(...rows.map((r) => r.length));
    const width = longest(this.encoded.map((e) => e.prompt)) + longest(this.encoded.map((e) => e.completion));
    if (width > base.config.contextLength) {
      throw new RangeError(`the longest prompt and completion take ${width} tokens, more than the context of ${base.config.contextLength}`);
    }
    this.policy = cloneGpt(base, 'sft-policy');
    this.optimizer = new AdamW(this.policy.params, { lr: this.config.lr, weightDecay: this.config.weightDecay });
  }

  get steps(): number {
    return this.stepCount;
  }

  /** One optimizer step on a minibatch drawn with `rng`; returns its metrics (loss before the update). */
  async step(rng: Rng): Promise<SftMetrics> {
    // 1. Draw a minibatch of examples without replacement.
    const batch = rng.sample(this.encoded, Math.min(this.config.batchSize, this.encoded.length));
    // 2. Lay out left-padded prompts and right-padded completions.
    const layout = layoutBatch(
      batch.map((e) => e.prompt),
      batch.map((e) => e.completion),
    );
    const ids = tf.tensor2d(layout.ids, [layout.batch, layout.width], 'int32');
    const tokens = batch.reduce((n, e) => n + e.completion.length, 0);
    try {
      // 3. Completion-only NLL inside the optimizer's gradient tape.
      const { loss, gradNorm } = await this.optimizer.step(() => sftLoss(this.policy, ids, layout.promptWidth).loss);
      this.stepCount += 1;
      return { loss, tokens, grad_norm: gradNorm };
    } finally {
      ids.dispose();
    }
  }

  /** `steps` optimizer steps; `onStep` sees each step's metrics as it finishes. */
  train(steps: number, rng: Rng, onStep?: (metrics: SftMetrics, step: number) => void): Promise<SftMetrics[]> {
    return trainSteps(this, steps, rng, onStep);
  }

  /** Frees the policy and the optimizer state. */
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
  }
}
