// What the group-baseline methods share (methods/grpo.ts, methods/rloo.ts): a trainable policy and
// a frozen reference copied from the base model, one AdamW, and the steps of TRL's GRPOTrainer and
// RLOOTrainer that do not depend on the method:
//   1. rollouts: G completions for each of P prompts from the current policy (TRL's RepeatSampler)
//   2. log-probs of the sampled tokens under the policy (with entropy) and the frozen reference
//   3. scores from the reward model, minus the truncation penalty for a completion without EOS
//   4. advantages: the method's (group-math.ts)
//   5. optimisation passes over the batch (TRL's num_iterations) on the method's loss, rolled
//      back as one unit on NaN/Inf
//   6. metrics, the beta controller (ours: TRL's beta is fixed) and the KL guard
// A method supplies steps 4 and 5 (its advantages and its loss); step() runs them all in order.
// There is no critic: the group is the baseline.
import * as tf from '@tensorflow/tfjs-core';
import { int, real, type FieldSpec, type FieldValue } from '../config/fields';
import type { KlControl } from '../config/ppo';
import type { Rng } from '../math/rng';
import { mean, std } from '../math/stats';
import { Checkpoint } from '../model/checkpoint';
import type { Gpt } from '../model/gpt';
import { cloneGpt } from '../model/heads';
import { completionLogProbs } from '../model/lm';
import { AdamW, NonFiniteError } from '../model/optim';
import { disposeParams } from '../model/params';
import { sampleCompletions, type Samples } from '../model/sample';
import { patchConfig, sampleTexts } from './methods/common';
import { RolledBackError, type ChartSpec, type MethodContext, type StepResult, type Trainer } from './methods/types';
import type { GroupAdvantages } from './group-math';
import { adaptKlCoef, grid, lengthMask, tokenKl, klGuard, type Grid } from './ppo-math';
import { completionIds, completionText, layoutBatch } from './sequences';
import { completionTokens, gridRow, tokenRows, type AdvantageKind, type TokenBreakdown } from './per-token';
import { EOS_ID } from '../data/tokenizer';
import type { KlEstimator } from '../math/stats';
import { modelVariables, optimizerVariables, stateCount, stateList, stateNumber, type StateValues, type TrainerState } from './trainer-state';

/** The settings every group method has; names follow TRL's GRPOConfig / RLOOConfig where it has them. */
export interface GroupConfig {
  /** Distinct prompt draws per iteration (P). */
  promptsPerIteration: number;
  /** Completions per prompt (G; TRL's num_generations). */
  groupSize: number;
  /** Optimisation passes over each iteration's batch (TRL's num_iterations, mu in the paper). */
  passes: number;
  /** AdamW learning rate of the policy. */
  lr: number;
  /** The ratio is clipped to [1 - epsilon, 1 + epsilon] (TRL's epsilon). */
  epsilon: number;
  /** Sampling temperature; log-probs are computed at the same temperature (as TRL does). */
  temperature: number;
  /** fixed: beta stays as set (TRL). adaptive: beta is steered toward targetKl (ours, as PPO's). */
  klControl: KlControl;
  /** The KL coefficient at the start, and always when fixed; the adaptive controller never goes below it. */
  beta: number;
  /** Target KL per sequence (nats, summed k1) of the adaptive controller. */
  targetKl: number;
  /** Iterations over which the adaptive controller closes the gap. */
  klHorizon: number;
  /** Subtracted from the score of a completion that never produced EOS. */
  truncationPenalty: number;
  /** KL guard: stop when the mean KL per sequence of the last 3 iterations exceeds this. */
  klStop: number;
  /** Global gradient-norm clip. */
  maxGradNorm: number;
}

/** The defaults both methods share; each sets its own group shape and beta. */
export const GROUP_DEFAULTS = {
  passes: 2, // TRL's num_iterations is 1, where the ratio is always 1 and never clips; 2 as PPO's epochs
  lr: 3e-4, // PPO's rate
  epsilon: 0.2, // TRL's epsilon (Schulman et al. 2017)
  temperature: 1, // the policy's own distribution, as the ratio assumes (TRL's default)
  klControl: 'adaptive', // ours, as PPO's: TRL's beta is fixed; the page's target is KL per sequence <= 5 nats
  targetKl: 4.5, // PPO's target: fluent text while the reward climbs
  klHorizon: 5, // PPO's: beta *= 1 + clip(KL/target - 1, +-0.2) / 5 per iteration
  truncationPenalty: 1, // PPO's: on this tiny model it is what keeps sentences ending
  klStop: 12, // PPO's: 3x the target, a run that has escaped its KL control
  maxGradNorm: 1, // PPO's (TRL's max_grad_norm is 1 as well)
} as const satisfies Partial<GroupConfig>;

/** The fields both methods show with the same reason. */
export const GROUP_FIELDS: readonly FieldSpec[] = [
  { kind: 'choice', key: 'klControl', label: 'KL control', choices: ['adaptive', 'fixed'], reason: "TRL's beta is fixed; adaptive is ours (PPO's controller, Ziegler et al. 2019) and keeps KL near the target" },
  { kind: 'number', key: 'targetKl', label: 'target KL (nats per sequence)', rule: real(0.1, 50, 0.1), reason: "PPO's target: the adaptive controller aims here, under the page's 5 nats" },
  { kind: 'number', key: 'klStop', label: 'KL guard limit (nats per sequence)', rule: real(0.5, 500, 0.5), reason: "PPO's: training stops when the mean KL of the last 3 iterations passes this, about 3x the target (a run that escaped its KL control); raise it to watch a collapse go on" },
  { kind: 'number', key: 'epsilon', label: 'clip range epsilon', rule: real(0.01, 1, 0.01), reason: "TRL's epsilon: the ratio is clipped to [0.8, 1.2]" },
  { kind: 'number', key: 'truncationPenalty', label: 'truncation penalty', rule: real(0, 5, 0.1), reason: "PPO's: a completion without EOS scores 1 less, which keeps this tiny model ending its sentences" },
  { kind: 'number', key: 'temperature', label: 'sampling temperature', rule: real(0.1, 3, 0.05), reason: "1 samples the policy's own distribution, as the ratio assumes (TRL's default)" },
  { kind: 'number', key: 'passes', label: 'passes per batch', rule: int(1, 8), reason: "TRL's num_iterations is 1 (the ratio never clips); 2 as PPO's epochs" },
];

/** The chart both methods show. */
export const COMPLETIONS_CHART: ChartSpec = {
  title: 'Completions',
  keys: ['completions/mean_length', 'completions/clipped_ratio', 'completions/distinct'],
  floor: 0,
  explain: 'Mean length in tokens, the share cut off without EOS, and the share of distinct rollouts: a collapse shows here first.',
};

/** One iteration's rollouts, read back to plain arrays. Rows g * G .. g * G + G - 1 are group g. */
export interface GroupBatch {
  prompts: string[];
  completions: string[];
  /** [B, promptWidth + N] row-major: left-padded prompts, completions right-padded with PAD. */
  ids: Int32Array;
  promptWidth: number;
  finished: boolean[];
  /** Completion lengths in tokens (EOS included). */
  lengths: number[];
  /** Per-token log-probs at sampling [B, N] under the policy and the reference, the mask, the policy's entropy. */
  logpOld: Grid;
  logpRef: Grid;
  mask: Grid;
  entropy: Grid;
  /** The reward model's scores, and those minus the truncation penalty (what the methods maximise). */
  rawScores: number[];
  scores: number[];
  /** KL per completion: summed k1 = log pi - log pi_ref over its tokens. */
  klSeq: number[];
}

/** The tensors a method's loss reads (each [B, N]), made inside the optimizer's tidy. */
export interface LossInputs {
  logp: tf.Tensor2D;
  logpOld: tf.Tensor2D;
  logpRef: tf.Tensor2D;
  mask: tf.Tensor2D;
}

/** A method's loss on one pass, with scalar statistics to average over the passes. */
export interface PassLoss {
  loss: tf.Scalar;
  stats: Record<string, tf.Scalar>;
}

/** Step 4 of a method: one advantage per completion, and any metrics it gives (under TRL's names). */
export interface MethodAdvantages extends GroupAdvantages {
  metrics?: Record<string, number>;
}

const SAMPLES_SHOWN = 4; // rollouts returned for display, one per group

/** Sum of each row of a grid. */
export function rowSums(g: Grid): number[] {
  return Array.from({ length: g.rows }, (_, b) => g.data.subarray(b * g.cols, (b + 1) * g.cols).reduce((a, x) => a + x, 0));
}

/** Mean of a grid over the masked-in entries (TRL's masked means of per-token metrics). */
export function maskedGridMean(g: Grid, mask: Grid): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < g.data.length; i++) {
    s += g.data[i] * mask.data[i];
    n += mask.data[i];
  }
  return s / Math.max(n, 1);
}

/**
 * The clipped surrogate (Schulman et al. 2017) as TRL's GRPO and RLOO losses write it:
 * -min(ratio A, clip(ratio, 1 - eps, 1 + eps) A) per element, with TRL's clip indicators: low when
 * ratio < 1 - eps with A < 0, high when ratio > 1 + eps with A > 0. Shapes broadcast. Call inside tidy.
 */
export function clippedSurrogate(ratio: tf.Tensor, advantages: tf.Tensor, epsilon: number) {
  const loss = tf.neg(tf.minimum(tf.mul(ratio, advantages), tf.mul(tf.clipByValue(ratio, 1 - epsilon, 1 + epsilon), advantages)));
  const low = tf.logicalAnd(tf.less(ratio, 1 - epsilon), tf.less(advantages, 0));
  const high = tf.logicalAnd(tf.greater(ratio, 1 + epsilon), tf.greater(advantages, 0));
  const f = (x: tf.Tensor) => tf.cast(x, 'float32');
  return { loss, low: f(low), high: f(high), region: f(tf.logicalOr(low, high)) };
}

export abstract class GroupTrainer<C extends GroupConfig> implements Trainer {
  readonly policy: Gpt;
  readonly reference: Gpt;
  readonly totalSteps = null;
  readonly analyticKl = null;
  /** The KL coefficient of the next iteration. */
  beta: number;
  private readonly optimizer: AdamW;
  private iteration = 0;
  private readonly klHistory: number[] = [];

  /** `title` names the method in errors; the policy and reference are copies of `ctx.base`. */
  constructor(
    private readonly title: string,
    private readonly ctx: MethodContext,
    protected cfg: C,
  ) {
    if (ctx.prompts.length === 0) throw new Error(`${title} needs at least one prompt`);
    const prefix = title.toLowerCase();
    this.policy = cloneGpt(ctx.base, `${prefix}-policy`);
    this.reference = cloneGpt(ctx.base, `${prefix}-reference`, false);
    this.optimizer = new AdamW(this.policy.params, { lr: cfg.lr, clipNorm: cfg.maxGradNorm });
    this.beta = cfg.beta;
  }

  get steps(): number {
    return this.iteration;
  }

  get config(): C {
    return this.cfg;
  }

  /** 4. The method's advantages of this batch, one per completion. */
  protected abstract advantages(batch: GroupBatch): MethodAdvantages;

  /** The per-token KL estimator the method's penalty uses (GRPO's loss: k3; RLOO's reward: summed k1). */
  protected abstract readonly penaltyEstimator: KlEstimator;

  /** How the method's advantage is measured, for the per-token view. */
  protected abstract readonly advantageKind: AdvantageKind;

  /** The rewards step 4 compares inside each group (GRPO: the penalised scores; RLOO: less beta x KL). */
  protected abstract groupRewards(batch: GroupBatch): number[];

  /** For the per-token view: what one group's first reward is compared with, and divided by (null: not divided). */
  protected abstract groupBaseline(rewards: readonly number[]): { baseline: number; spread: number | null };

  /** 5. The method's loss on one pass, at KL coefficient `beta`. Called inside tidy. */
  protected abstract loss(inputs: LossInputs, advantages: number[], beta: number): PassLoss;

  /** One iteration. Throws RolledBackError (policy and optimizer unchanged) if any value goes non-finite. */
  async step(): Promise<StepResult> {
    const started = Date.now();
    const beta = this.beta;
    // 1-3. G rollouts per prompt, their log-probs under policy and reference, penalised scores
    const batch = await this.rollout();
    // 4. the method's advantages
    const { advantages, fracZeroStd, metrics } = this.advantages(batch);
    // 5. passes over the batch on the method's loss
    const train = await this.optimise(batch, (inputs) => this.loss(inputs, advantages, beta));
    // 6. metrics under TRL's names, beta controller, KL guard
    return this.finish(batch, started, { frac_reward_zero_std: fracZeroStd, ...metrics, ...train });
  }

  complete(prompts: readonly string[], rng: Rng): Promise<string[]> {
    return sampleTexts(this.policy, this.ctx.tokenizer, prompts, rng);
  }

  configure(patch: Record<string, FieldValue>): void {
    this.cfg = patchConfig(this.cfg, patch);
    this.optimizer.setLearningRate(this.cfg.lr);
    if (patch.klControl === 'fixed' || (patch.beta !== undefined && this.cfg.klControl === 'fixed')) this.beta = this.cfg.beta;
  }

  /** The policy and its optimizer; the iteration, beta and the KL history the guard reads (the rollouts' streams are forked by iteration). */
  saveState(): TrainerState {
    return {
      variables: [...modelVariables('policy', this.policy.params), ...optimizerVariables('policy-opt', this.optimizer)],
      values: { iteration: this.iteration, beta: this.beta, klHistory: this.klHistory.slice(), optSteps: this.optimizer.steps },
    };
  }

  loadValues(values: StateValues): void {
    const klHistory = stateList(values, 'klHistory');
    [this.iteration, this.beta, this.optimizer.steps] = [stateCount(values, 'iteration'), stateNumber(values, 'beta'), stateCount(values, 'optSteps')];
    this.klHistory.splice(0, this.klHistory.length, ...klHistory);
  }

  dispose(): void {
    this.optimizer.dispose();
    disposeParams(this.policy.params);
    disposeParams(this.reference.params);
  }

  /** Steps 1-3 of an iteration, from its own random stream. Throws RolledBackError on a non-finite score. */
  private async rollout(): Promise<GroupBatch> {
    const cfg = this.cfg;
    const { tokenizer } = this.ctx;
    const rng = this.ctx.rng.fork(`iteration-${this.iteration}`);

    // 1. rollouts: each of P prompts repeated G times, sampled from the current policy
    const drawn = Array.from({ length: cfg.promptsPerIteration }, () => rng.pick(this.ctx.prompts));
    const prompts = drawn.flatMap((p) => Array<string>(cfg.groupSize).fill(p));
    const rollout = await sampleCompletions(this.policy, prompts.map((p) => tokenizer.encodePrompt(p)), { rng, temperature: cfg.temperature });
    return this.measure(prompts, rollout);
  }

  /** Steps 2-3 on sampled rows (what rollout() trains on and explain() shows, by the same code). */
  private async measure(
    prompts: string[],
    rollout: Pick<Samples, 'ids' | 'promptWidth' | 'width' | 'completions' | 'finished'> & Partial<Pick<Samples, 'logProbs' | 'entropy'>>,
  ): Promise<GroupBatch> {
    const cfg = this.cfg;
    const { tokenizer } = this.ctx;
    const completions = rollout.completions.map((c) => completionText(tokenizer, c));
    const [B, P] = [prompts.length, rollout.promptWidth];
    const N = rollout.width - P;

    // 2. log-probs of the sampled tokens at the sampling temperature, under the policy and the
    // reference; the policy's come with the rollout when it was sampled here (no second forward)
    const { logProbs, entropy: drawnEntropy } = rollout;
    const sampled = logProbs && drawnEntropy;
    const tensors = tf.tidy(() => {
      const ids = tf.tensor2d(rollout.ids, [B, rollout.width], 'int32');
      const ref = completionLogProbs(this.reference, ids, P, cfg.temperature);
      if (sampled) return [ref.perToken];
      const pol = completionLogProbs(this.policy, ids, P, cfg.temperature, true);
      return [ref.perToken, pol.perToken, pol.mask, pol.entropy!]; // each (B, N)
    });
    const data = await Promise.all(tensors.map((t) => t.data()));
    tf.dispose(tensors);
    const logpRef = grid(data[0], B, N);
    const [logpOld, mask, entropy] = sampled
      ? [grid(logProbs, B, N), lengthMask(rollout.completions.map((c) => c.length), N), grid(drawnEntropy, B, N)]
      : data.slice(1).map((d) => grid(d, B, N));

    // 3. scores from the reward model, minus the truncation penalty for rollouts without EOS
    const rawScores = await this.ctx.scorer(prompts, completions);
    const scores = rawScores.map((s, b) => s - (rollout.finished[b] ? 0 : cfg.truncationPenalty));
    if (!scores.every(Number.isFinite)) throw new RolledBackError(this.title, new Error('the reward model returned a non-finite score'));
    const klSeq = rowSums(tokenKl(logpOld, logpRef, mask, 'k1'));
    const lengths = rollout.completions.map((c) => c.length);
    return { prompts, completions, ids: rollout.ids, promptWidth: P, finished: rollout.finished, lengths, logpOld, logpRef, mask, entropy, rawScores, scores, klSeq };
  }

  /**
   * The per-token view of one completion of `prompt` (per-token.ts): the completion and G - 1 more
   * of its prompt from the current policy (a stream seeded by the iteration and the sample) form a
   * group, measured by steps 2-4 of an iteration; row 0 is the sample. No weight changes.
   */
  async explain(prompt: string, completion: string): Promise<TokenBreakdown> {
    const cfg = this.cfg;
    const { tokenizer } = this.ctx;
    const rng = this.ctx.rng.fork(`explain-${this.iteration}-${prompt}\u0000${completion}`);
    const promptIds = tokenizer.encodePrompt(prompt);
    const others = await sampleCompletions(this.policy, Array.from({ length: cfg.groupSize - 1 }, () => promptIds), { rng, temperature: cfg.temperature });
    const rows = [completionIds(tokenizer, completion), ...others.completions];
    const seq = layoutBatch(rows.map(() => promptIds), rows);
    const finished = rows.map((r) => r.at(-1) === EOS_ID);
    const batch = await this.measure(rows.map(() => prompt), { ...seq, completions: rows, finished });
    const { advantages } = this.advantages(batch);
    const rewards = this.groupRewards(batch);
    const tokens = completionTokens(tokenizer, seq.ids, seq.promptWidth, seq.width, batch.mask);
    const n = tokens.length;
    const logRatio = gridRow(tokenKl(batch.logpOld, batch.logpRef, batch.mask, 'k1'), 0, n);
    const klPenalty = gridRow(tokenKl(batch.logpOld, batch.logpRef, batch.mask, this.penaltyEstimator), 0, n).map((k) => this.beta * k);
    return {
      ...tokenRows(prompt, completion, this.iteration, tokens, logRatio, klPenalty),
      estimator: this.penaltyEstimator,
      beta: this.beta,
      advantage: Array<number>(n).fill(advantages[0]),
      advantageKind: this.advantageKind,
      score: batch.rawScores[0],
      penalisedScore: batch.scores[0],
      values: null,
      group: { rewards, completions: batch.completions.slice(1), ...this.groupBaseline(rewards) },
    };
  }

  /**
   * 5. `passes` AdamW steps on `loss` over the whole batch; returns the loss and the stats averaged
   * over the passes. On NaN/Inf the policy and the optimizer go back to before the first pass.
   */
  private async optimise(batch: GroupBatch, loss: (inputs: LossInputs) => PassLoss): Promise<Record<string, number>> {
    const cfg = this.cfg;
    const { rows: B, cols: N } = batch.mask;
    const P = batch.promptWidth;
    const checkpoint = new Checkpoint([...this.policy.params.values(), ...this.optimizer.stateVariables()]);
    const stepsBefore = this.optimizer.steps;
    const sums: Record<string, number> = {};
    const add = (key: string, v: number) => (sums[key] = (sums[key] ?? 0) + v / cfg.passes);
    try {
      for (let pass = 0; pass < cfg.passes; pass++) {
        let kept: Record<string, tf.Scalar> = {};
        try {
          const step = await this.optimizer.step(() => {
            const t = (g: Grid) => tf.tensor2d(g.data, [B, N]);
            const ids = tf.tensor2d(batch.ids, [B, P + N], 'int32');
            const logp = completionLogProbs(this.policy, ids, P, cfg.temperature).perToken; // (B, N)
            const out = loss({ logp, logpOld: t(batch.logpOld), logpRef: t(batch.logpRef), mask: t(batch.mask) });
            kept = Object.fromEntries(Object.entries(out.stats).map(([k, s]) => [k, tf.keep(s)]));
            return out.loss;
          });
          add('loss', step.loss);
          for (const [k, s] of Object.entries(kept)) add(k, (await s.data())[0]);
        } finally {
          tf.dispose(Object.values(kept));
        }
      }
    } catch (e) {
      checkpoint.restore();
      this.optimizer.steps = stepsBefore;
      throw e instanceof NonFiniteError ? new RolledBackError(this.title, e) : e;
    } finally {
      checkpoint.dispose();
    }
    return sums;
  }

  /**
   * 6. The metrics every group method reports beside its own (reward: the penalised score, before
   * any KL term, as TRL logs it), then the beta controller on the KL per sequence, the iteration
   * count and the KL guard.
   */
  private finish(batch: GroupBatch, started: number, own: Record<string, number>): StepResult {
    const cfg = this.cfg;
    const klSeq = mean(batch.klSeq);
    const B = batch.scores.length;
    const metrics = {
      iteration: this.iteration + 1,
      reward: mean(batch.scores),
      reward_std: std(batch.scores, 1),
      ...own,
      entropy: maskedGridMean(batch.entropy, batch.mask),
      beta: this.beta,
      'kl/sequence': klSeq,
      'completions/mean_length': mean(batch.lengths),
      'completions/clipped_ratio': mean(batch.finished.map((f) => (f ? 0 : 1))),
      'completions/distinct': new Set(batch.completions).size / B,
      seconds: (Date.now() - started) / 1000,
    };
    if (cfg.klControl === 'adaptive') this.beta = Math.max(cfg.beta, adaptKlCoef(this.beta, klSeq, cfg.targetKl, cfg.klHorizon));
    this.klHistory.push(klSeq);
    this.iteration += 1;
    const stopReason = klGuard(this.klHistory, cfg.klStop);
    const shown = Array.from({ length: Math.min(SAMPLES_SHOWN, B / cfg.groupSize) }, (_, g) => g * cfg.groupSize);
    const samples = shown.map((b) => ({ prompt: batch.prompts[b], completion: batch.completions[b], score: batch.rawScores[b] }));
    return { metrics, samples, stopReason };
  }
}
