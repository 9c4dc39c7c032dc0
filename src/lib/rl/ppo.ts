// PPO for RLHF (InstructGPT step 3), written as the numbered steps of TRL's PPOTrainer.train():
//   1. rollouts from the current policy      5. whiten advantages (after 6)
//   2. log-probs, reference log-probs, values 6. compute advantages and returns (GAE)
//   3. scores from the reward model          7. PPO epochs: clipped policy and value losses
//   4. compute rewards (KL penalty + score)  8. metrics, KL controller, early-stop guard
// The frozen reference is a copy of the base model that no optimizer sees; the critic starts as a
// copy of the reward model (prototype2). Per-token arithmetic lives in ppo-math.ts.
import * as tf from '@tensorflow/tfjs-core';
import type { PpoConfig } from '../config/ppo';
import { EOS_ID, type Tokenizer } from '../data/tokenizer';
import type { Rng } from '../math/rng';
import { mean } from '../math/stats';
import { Checkpoint } from '../model/checkpoint';
import type { Gpt } from '../model/gpt';
import { cloneGpt, completionValues } from '../model/heads';
import { completionLogProbs } from '../model/lm';
import { AdamW, NonFiniteError } from '../model/optim';
import { disposeParams } from '../model/params';
import { sampleCompletions, type Samples } from '../model/sample';
import { adaptKlCoef, computeRewards, gae, grid, lengthMask, policyLoss, tokenKl, valueLoss, whiten, klGuard, type Grid } from './ppo-math';
import { RolledBackError, type Scorer } from './methods/types';
import { completionIds, completionText, encodeBatch } from './sequences';
import { completionTokens, gridRow, tokenRows, type TokenBreakdown } from './per-token';
import { modelVariables, optimizerVariables, stateCount, stateList, stateNumber, type StateValues, type TrainerState } from './trainer-state';

export { RolledBackError, type Scorer };

/** One iteration's metrics, with TRL's names. */
export interface PpoMetrics {
  iteration: number;
  'objective/kl': number;
  'objective/kl_k3': number;
  'objective/entropy': number;
  'objective/non_score_reward': number;
  'objective/rlhf_reward': number;
  'objective/scores': number;
  'objective/kl_coef': number;
  'policy/approxkl_avg': number;
  'policy/clipfrac_avg': number;
  'loss/policy_avg': number;
  'loss/value_avg': number;
  'val/clipfrac_avg': number;
  'val/ratio': number;
  /** Mean completion length in tokens (EOS included). */
  'completion/length': number;
  /** Share of rollouts that produced EOS. */
  'completion/finished': number;
  /** Distinct completions / rollouts. */
  'completion/distinct': number;
  seconds: number;
}

export interface PpoIterationResult {
  metrics: PpoMetrics;
  /** A few rollouts for display. */
  samples: { prompt: string; completion: string; score: number }[];
  /** Why training should stop (the KL guard), if it should. */
  stopReason?: string;
}

export class PpoTrainer {
  readonly policy: Gpt;
  readonly reference: Gpt;
  readonly critic: Gpt;
  private readonly policyOpt: AdamW;
  private readonly criticOpt: AdamW;
  iteration = 0;
  klCoef: number;
  private readonly klHistory: number[] = [];

  /**
   * `base`: the pretrained model (copied twice: the trainable policy and the frozen reference).
   * `rewardModel`: copied as the critic. `prompts`: the pool rollouts draw from.
   */
  constructor(
    base: Gpt,
    rewardModel: Gpt,
    private readonly scorer: Scorer,
    private readonly tokenizer: Tokenizer,
    private cfg: PpoConfig,
    private readonly rng: Rng,
    private readonly prompts: readonly string[],
  ) {
    if (prompts.length === 0) throw new Error('PPO needs at least one prompt');
    this.policy = cloneGpt(base, 'policy');
    this.reference = cloneGpt(base, 'reference', false);
    this.critic = cloneGpt(rewardModel, 'critic');
    this.policyOpt = new AdamW(this.policy.params, { lr: cfg.lr, clipNorm: cfg.maxGradNorm });
    this.criticOpt = new AdamW(this.critic.params, { lr: cfg.lr, clipNorm: cfg.maxGradNorm });
    this.klCoef = cfg.initKlCoef;
  }

  get config(): PpoConfig {
    return this.cfg;
  }

  /** Changes hyperparameters between iterations (the UI's live controls). */
  updateConfig(patch: Partial<PpoConfig>): void {
    this.cfg = { ...this.cfg, ...patch };
    this.policyOpt.setLearningRate(this.cfg.lr);
    this.criticOpt.setLearningRate(this.cfg.lr);
    if (patch.klControl === 'fixed' || (patch.initKlCoef !== undefined && this.cfg.klControl === 'fixed')) this.klCoef = this.cfg.initKlCoef;
  }

  /** One PPO iteration. Throws RolledBackError (models unchanged) if any value goes non-finite. */
  async step(): Promise<PpoIterationResult> {
    const started = Date.now();
    const cfg = this.cfg;
    const rng = this.rng.fork(`iteration-${this.iteration}`);

    // 1. rollouts from the current policy
    const prompts = Array.from({ length: cfg.rolloutsPerIteration }, () => rng.pick(this.prompts));
    const rollout = await sampleCompletions(this.policy, prompts.map((p) => this.tokenizer.encodePrompt(p)), { rng, temperature: cfg.temperature });
    const completions = rollout.completions.map((c) => completionText(this.tokenizer, c));
    const B = prompts.length;
    const P = rollout.promptWidth;
    const N = rollout.width - P;
    const ids = tf.tensor2d(rollout.ids, [B, rollout.width], 'int32');
    try {
      // 2-4, 6. log-probs, reference log-probs, values; scores; rewards with the KL penalty; GAE
      const { logpOld, logpRef, valuesOld, mask, entropy, rawScores, scores, kl, nonScore, advantages, returns } = await this.measure(ids, P, N, prompts, completions, rollout.finished, rollout);
      // 5. whiten advantages
      const whitened = whiten(advantages, mask);

      // 7. PPO epochs over the whole batch, rolled back as one unit if anything goes non-finite
      const train = await this.optimise(ids, P, { logpOld, valuesOld, mask, whitened, returns });

      // 8. metrics, KL controller, early-stop guard
      const rowSum = (g: Grid) => Array.from({ length: B }, (_, b) => g.data.subarray(b * N, (b + 1) * N).reduce((a, x) => a + x, 0));
      const klSeq = mean(rowSum(kl));
      const klK3 = mean(rowSum(tokenKl(logpOld, logpRef, mask, 'k3')));
      const nonScoreSeq = mean(rowSum(nonScore));
      const meanScore = mean(scores);
      const metrics: PpoMetrics = {
        iteration: this.iteration + 1,
        'objective/kl': klSeq,
        'objective/kl_k3': klK3,
        'objective/entropy': mean(rowSum(entropy)),
        'objective/non_score_reward': nonScoreSeq,
        'objective/rlhf_reward': meanScore + nonScoreSeq,
        'objective/scores': meanScore,
        'objective/kl_coef': this.klCoef,
        ...train,
        'completion/length': mean(rollout.completions.map((c) => c.length)),
        'completion/finished': mean(rollout.finished.map((f) => (f ? 1 : 0))),
        'completion/distinct': new Set(completions).size / B,
        seconds: (Date.now() - started) / 1000,
      };
      if (cfg.klControl === 'adaptive') this.klCoef = Math.max(cfg.klCoefMin, adaptKlCoef(this.klCoef, klSeq, cfg.targetKl, cfg.klHorizon));
      this.klHistory.push(klSeq);
      this.iteration += 1;
      const stopReason = klGuard(this.klHistory, cfg.klStop);
      const samples = completions.slice(0, 4).map((c, b) => ({ prompt: prompts[b], completion: c, score: rawScores[b] }));
      return { metrics, samples, stopReason };
    } finally {
      ids.dispose();
    }
  }

  /**
   * Steps 2-4 and 6 of an iteration on a batch of sequences `ids` [B, P + N] (left-padded prompts,
   * right-padded completions): what step() trains on and explain() shows, by the same code.
   * `sampled`: the policy's log-probs and entropy as the rollout drew its tokens, which spare the
   * policy's forward pass; explain() scores a given completion and has none.
   */
  private async measure(
    ids: tf.Tensor2D,
    P: number,
    N: number,
    prompts: string[],
    completions: string[],
    finished: readonly boolean[],
    sampled?: Pick<Samples, 'logProbs' | 'entropy' | 'completions'>,
  ) {
    const cfg = this.cfg;
    const B = prompts.length;
    // 2. log-probs of the sampled tokens (at the sampling temperature), reference log-probs, values
    let logpOld: Grid, logpRef: Grid, valuesOld: Grid, mask: Grid, entropy: Grid;
    if (sampled) {
      [logpRef, valuesOld] = await this.readGrids(B, N, () => [completionLogProbs(this.reference, ids, P, cfg.temperature).perToken, completionValues(this.critic, ids, P)]);
      [logpOld, entropy, mask] = [grid(sampled.logProbs, B, N), grid(sampled.entropy, B, N), lengthMask(sampled.completions.map((c) => c.length), N)];
    } else {
      [logpOld, logpRef, valuesOld, mask, entropy] = await this.readGrids(B, N, () => {
        const pol = completionLogProbs(this.policy, ids, P, cfg.temperature, true);
        const ref = completionLogProbs(this.reference, ids, P, cfg.temperature);
        const values = completionValues(this.critic, ids, P);
        return [pol.perToken, ref.perToken, values, pol.mask, pol.entropy!];
      });
    }

    // 3. scores from the reward model, minus the truncation penalty for rollouts without EOS
    const rawScores = await this.scorer(prompts, completions);
    const scores = rawScores.map((s, b) => s - (finished[b] ? 0 : cfg.truncationPenalty));
    if (!scores.every(Number.isFinite)) throw new RolledBackError('PPO', new Error('the reward model returned a non-finite score'));

    // 4. compute rewards: per-token KL penalty, score at the last token
    const kl = tokenKl(logpOld, logpRef, mask, cfg.klEstimator);
    const { rewards, nonScore } = computeRewards(scores, kl, mask, this.klCoef);

    // 6. compute advantages and returns
    const { advantages, returns } = gae(rewards, valuesOld, mask, cfg.gamma, cfg.lambda);
    return { logpOld, logpRef, valuesOld, mask, entropy, rawScores, scores, kl, nonScore, advantages, returns };
  }

  /**
   * The per-token view of one completion of `prompt` (per-token.ts): steps 2-4 and 6 of an
   * iteration on that one sequence, with the current policy, critic and beta. No weight changes.
   */
  async explain(prompt: string, completion: string): Promise<TokenBreakdown> {
    const seq = encodeBatch(this.tokenizer, [prompt], [completion]);
    const N = seq.width - seq.promptWidth;
    const finished = completionIds(this.tokenizer, completion).at(-1) === EOS_ID;
    const ids = tf.tensor2d(seq.ids, [1, seq.width], 'int32');
    try {
      const m = await this.measure(ids, seq.promptWidth, N, [prompt], [completion], [finished]);
      const tokens = completionTokens(this.tokenizer, seq.ids, seq.promptWidth, seq.width, m.mask);
      const n = tokens.length;
      const logRatio = gridRow(tokenKl(m.logpOld, m.logpRef, m.mask, 'k1'), 0, n);
      const klPenalty = gridRow(m.nonScore, 0, n).map((x) => -x);
      return {
        ...tokenRows(prompt, completion, this.iteration, tokens, logRatio, klPenalty),
        estimator: this.cfg.klEstimator,
        beta: this.klCoef,
        advantage: gridRow(m.advantages, 0, n),
        advantageKind: 'gae',
        score: m.rawScores[0],
        penalisedScore: m.scores[0],
        values: gridRow(m.valuesOld, 0, n),
        group: null,
      };
    } finally {
      ids.dispose();
    }
  }

  /** Runs `fn` in tidy and reads its [B, N] tensors back as grids. */
  private async readGrids(B: number, N: number, fn: () => tf.Tensor[]): Promise<Grid[]> {
    const tensors = tf.tidy(fn);
    try {
      const data = await Promise.all(tensors.map((t) => t.data()));
      return data.map((d) => grid(d, B, N));
    } finally {
      tf.dispose(tensors);
    }
  }

  /** 7. The epochs of clipped policy and value updates. Rolls back policy, critic and optimizers on NaN/Inf. */
  private async optimise(
    ids: tf.Tensor2D,
    P: number,
    batch: { logpOld: Grid; valuesOld: Grid; mask: Grid; whitened: Grid; returns: Grid },
  ): Promise<Pick<PpoMetrics, 'policy/approxkl_avg' | 'policy/clipfrac_avg' | 'loss/policy_avg' | 'loss/value_avg' | 'val/clipfrac_avg' | 'val/ratio'>> {
    const cfg = this.cfg;
    const [B, N] = [batch.mask.rows, batch.mask.cols];
    const t = (g: Grid) => tf.tensor2d(g.data, [B, N]);
    const inputs = { logpOld: t(batch.logpOld), valuesOld: t(batch.valuesOld), mask: t(batch.mask), adv: t(batch.whitened), returns: t(batch.returns) };
    const checkpoint = new Checkpoint([
      ...this.policy.params.values(),
      ...this.critic.params.values(),
      ...this.policyOpt.stateVariables(),
      ...this.criticOpt.stateVariables(),
    ]);
    const stepsBefore = [this.policyOpt.steps, this.criticOpt.steps];
    const sums = { approxkl: 0, clipfrac: 0, pg: 0, vf: 0, vclip: 0, ratio: 0 };
    try {
      for (let epoch = 0; epoch < cfg.epochs; epoch++) {
        let stats: tf.Tensor[] = [];
        const pg = await this.policyOpt.step(() => {
          const { perToken, entropy } = completionLogProbs(this.policy, ids, P, cfg.temperature, cfg.entropyCoef > 0);
          const out = policyLoss(perToken, inputs.logpOld, inputs.adv, inputs.mask, cfg.clipRange);
          stats = [tf.keep(out.approxKl), tf.keep(out.clipfrac), tf.keep(out.meanRatio)];
          if (!entropy) return out.loss;
          const meanEntropy = tf.div(tf.sum(entropy), tf.maximum(tf.sum(inputs.mask), 1));
          return tf.sub(out.loss, tf.mul(cfg.entropyCoef, meanEntropy)) as tf.Scalar;
        });
        const [approxkl, clipfrac, ratio] = await Promise.all(stats.map(async (s) => (await s.data())[0]));
        tf.dispose(stats);
        let vclipT: tf.Tensor | undefined;
        const vf = await this.criticOpt.step(() => {
          const values = completionValues(this.critic, ids, P);
          const out = valueLoss(values, inputs.valuesOld, inputs.returns, inputs.mask, cfg.clipRangeValue);
          vclipT = tf.keep(out.clipfrac);
          return out.loss;
        });
        const vclip = (await vclipT!.data())[0];
        vclipT!.dispose();
        sums.approxkl += approxkl;
        sums.clipfrac += clipfrac;
        sums.ratio += ratio;
        sums.pg += pg.loss;
        sums.vf += vf.loss;
        sums.vclip += vclip;
      }
    } catch (e) {
      checkpoint.restore();
      [this.policyOpt.steps, this.criticOpt.steps] = stepsBefore;
      throw e instanceof NonFiniteError ? new RolledBackError('PPO', e) : e;
    } finally {
      checkpoint.dispose();
      tf.dispose(Object.values(inputs));
    }
    const n = cfg.epochs;
    return {
      'policy/approxkl_avg': sums.approxkl / n,
      'policy/clipfrac_avg': sums.clipfrac / n,
      'loss/policy_avg': sums.pg / n,
      'loss/value_avg': sums.vf / n,
      'val/clipfrac_avg': sums.vclip / n,
      'val/ratio': sums.ratio / n,
    };
  }

  /** Policy, critic and both optimizers; the iteration, beta and the KL history the guard reads. */
  saveState(): TrainerState {
    return {
      variables: [...modelVariables('policy', this.policy.params), ...modelVariables('critic', this.critic.params), ...optimizerVariables('policy-opt', this.policyOpt), ...optimizerVariables('critic-opt', this.criticOpt)],
      values: { iteration: this.iteration, klCoef: this.klCoef, klHistory: this.klHistory.slice(), policyOptSteps: this.policyOpt.steps, criticOptSteps: this.criticOpt.steps },
    };
  }

  loadValues(values: StateValues): void {
    const klHistory = stateList(values, 'klHistory');
    [this.iteration, this.klCoef] = [stateCount(values, 'iteration'), stateNumber(values, 'klCoef')];
    [this.policyOpt.steps, this.criticOpt.steps] = [stateCount(values, 'policyOptSteps'), stateCount(values, 'criticOptSteps')];
    this.klHistory.splice(0, this.klHistory.length, ...klHistory);
  }

  dispose(): void {
    this.policyOpt.dispose();
    this.criticOpt.dispose();
    disposeParams(this.policy.params);
    disposeParams(this.reference.params);
    disposeParams(this.critic.params);
  }
}
