// The headless RLHF experiment: the loop a student drives by clicking, driven instead by a simulated
// annotator with a hidden gold preference, then PPO and the "is RL necessary?" alternatives
// (best-of-N, DPO, SFT) on the same labels, each evaluated against the base model under the gold
// preference that the reward model never sees (InstructGPT's win rates; Gao et al. 2022's gold RM).
//   1. collect labels (pair selection among K candidates)   4. PPO (online rounds: 1-3 repeated)
//   2. fit the reward model; RM accuracy on held-out pairs    5. best-of-N, DPO, SFT
//   3. normalise RM scores on base samples                     6. gold evaluation of every method
import * as tf from '@tensorflow/tfjs-core';
import type { ExperimentConfig, Method } from '../config/experiment';
import { DEFAULT_PPO, type PpoConfig } from '../config/ppo';
import { DEFAULT_REWARD, type RewardConfig } from '../config/reward';
import { generatePrompts } from '../data/corpus';
import type { Tokenizer } from '../data/tokenizer';
import { Rng } from '../math/rng';
import { mean } from '../math/stats';
import type { Gpt } from '../model/gpt';
import { completionLogProbs } from '../model/lm';
import { sampleCompletions } from '../model/sample';
import { SimulatedAnnotator, winRate } from './annotators';
import { bestOfN } from './best-of-n';
import { DEFAULT_DPO, DpoTrainer, type DpoConfig } from './dpo';
import { fitPairEnsemble, completionFeatures } from './linear-bt';
import { disagreementPair, mostDifferentPair } from './pair-selection';
import { PpoTrainer } from './ppo';
import { comparisonPairs, type ComparisonPair, type Label } from './preferences';
import { RewardModel } from './reward-model';
import { completionText, encodeBatch } from './sequences';
import { SftTrainer } from './sft';

export interface MethodResult {
  method: Method;
  seed: number;
  labels: number;
  /** RM accuracy on noise-free, non-tied held-out base pairs. */
  rmAccuracy: number;
  /** P(gold(method) > gold(base)) + P(tie) / 2 on held-out prompts. */
  goldWinRate: number;
  goldScore: number;
  /** KL(method || base) per sequence in nats (best-of-N: the analytic bound). */
  klPerSequence: number;
  /** Distinct completions / completions on the held-out prompts. */
  distinct: number;
  seconds: number;
  examples: string[];
}

export interface ExperimentProgress {
  (message: string): void;
}

/** Progress messages and the method settings (defaults: DEFAULT_PPO, DEFAULT_REWARD, DEFAULT_DPO). */
export interface ExperimentOptions {
  log?: ExperimentProgress;
  ppo?: PpoConfig;
  reward?: RewardConfig;
  dpo?: DpoConfig;
}

/** Prompt pools: training prompts (labels, PPO) and held-out ones (evaluation, RM accuracy) never overlap by seed. */
const TRAIN_PROMPT_SEED = 11;
const EVAL_PROMPT_SEED = 99;
const HELDOUT_PAIR_SEED = 777;
const NORM_SAMPLES_SEED = 5;

async function samplesOf(model: Gpt, tokenizer: Tokenizer, prompts: readonly string[], rng: Rng, chunk = 256): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < prompts.length; i += chunk) {
    const s = await sampleCompletions(model, prompts.slice(i, i + chunk).map((p) => tokenizer.encodePrompt(p)), { rng });
    out.push(...s.completions.map((c) => completionText(tokenizer, c)));
  }
  return out;
}

/** Mean per-sequence KL(policy || reference) on the policy's own samples (k1, temperature 1). */
async function klOnSamples(policy: Gpt, reference: Gpt, tokenizer: Tokenizer, prompts: readonly string[], completions: readonly string[], chunk = 256): Promise<number> {
  let total = 0;
  for (let i = 0; i < prompts.length; i += chunk) {
    const enc = encodeBatch(tokenizer, prompts.slice(i, i + chunk), completions.slice(i, i + chunk));
    const kl = tf.tidy(() => {
      const ids = tf.tensor2d(enc.ids, [enc.batch, enc.width], 'int32');
      return tf.sum(tf.sub(completionLogProbs(policy, ids, enc.promptWidth).total, completionLogProbs(reference, ids, enc.promptWidth).total));
    });
    total += (await kl.data())[0];
    kl.dispose();
  }
  return total / prompts.length;
}

export class Experiment {
  readonly annotator: SimulatedAnnotator;
  private readonly trainPrompts: string[];
  private readonly evalPrompts: string[];
  private baseEval: string[] = [];
  private heldout: ComparisonPair[] = [];

  private readonly log: ExperimentProgress;
  private readonly ppoConfig: PpoConfig;
  private readonly rewardConfig: RewardConfig;
  private readonly dpoConfig: DpoConfig;

  constructor(
    private readonly base: Gpt,
    private readonly tokenizer: Tokenizer,
    readonly config: ExperimentConfig,
    options: ExperimentOptions = {},
  ) {
    this.log = options.log ?? (() => {});
    this.ppoConfig = options.ppo ?? DEFAULT_PPO;
    this.rewardConfig = options.reward ?? DEFAULT_REWARD;
    this.dpoConfig = options.dpo ?? DEFAULT_DPO;
    this.annotator = new SimulatedAnnotator({ preset: config.annotator, word: config.word, noise: config.noise, tieRule: 'random' });
    this.trainPrompts = generatePrompts(5000, TRAIN_PROMPT_SEED);
    this.evalPrompts = generatePrompts(config.evalPrompts, EVAL_PROMPT_SEED);
  }

  /** Base samples on the eval prompts and noise-free held-out pairs (shared by all seeds). */
  private async prepare(): Promise<void> {
    if (this.baseEval.length > 0) return;
    this.baseEval = await samplesOf(this.base, this.tokenizer, this.evalPrompts, new Rng(1234));
    const hp = generatePrompts(this.config.heldoutPairs, HELDOUT_PAIR_SEED);
    const texts = await samplesOf(this.base, this.tokenizer, [...hp, ...hp], new Rng(HELDOUT_PAIR_SEED));
    const n = hp.length;
    this.heldout = hp.flatMap((prompt, i) => {
      const [a, b] = [texts[i], texts[n + i]];
      const [ga, gb] = [this.annotator.goldScore(a), this.annotator.goldScore(b)];
      if (ga === gb) return [];
      return [{ prompt, chosen: ga > gb ? a : b, rejected: ga > gb ? b : a, weight: 1 }];
    });
  }

  /** 1. Labels from the annotator on pairs chosen among K samples of `policy`. */
  async collectLabels(policy: Gpt, count: number, rng: Rng, previous: readonly Label[] = []): Promise<Label[]> {
    const cfg = this.config;
    const labels: Label[] = [];
    while (labels.length < count) {
      const all = [...previous, ...labels];
      const useEnsemble = cfg.selection === 'disagreement' && all.length >= cfg.warmupLabels && comparisonPairs(all).length >= 2;
      // Disagreement selection: "most different" up to warmupLabels, then rounds of selectionRound
      // labels, each on an ensemble refitted to every label so far.
      const remaining = count - labels.length;
      const warmup = cfg.selection === 'disagreement' ? Math.max(cfg.warmupLabels - all.length, cfg.selectionRound) : remaining;
      const batch = Math.min(remaining, useEnsemble ? cfg.selectionRound : warmup);
      const prompts = Array.from({ length: batch }, () => rng.pick(this.trainPrompts));
      const k = cfg.selection === 'random' ? 2 : cfg.candidates;
      const candidates = await samplesOf(policy, this.tokenizer, prompts.flatMap((p) => Array<string>(k).fill(p)), rng);
      const ensemble = useEnsemble ? await fitPairEnsemble(this.base, this.tokenizer, comparisonPairs(all), rng.fork(`ens-${all.length}`)) : undefined;
      for (let i = 0; i < batch; i++) {
        const cands = candidates.slice(i * k, (i + 1) * k);
        let pair: [number, number] = [0, 1];
        if (ensemble) {
          const feats = await completionFeatures(this.base, this.tokenizer, cands.map(() => prompts[i]), cands);
          pair = disagreementPair(cands, ensemble.scores(feats));
        } else if (cfg.selection !== 'random') pair = mostDifferentPair(cands);
        const [a, b] = [cands[pair[0]], cands[pair[1]]];
        const choice = this.annotator.label(a, b, rng);
        labels.push({ id: `l${all.length + i}`, prompt: prompts[i], completionA: a, completionB: b, choice, source: 'simulated', time: 0 });
      }
    }
    return labels;
  }

  /** 6. Gold evaluation of completions on the eval prompts. */
  private gold(completions: readonly string[]) {
    const scores = completions.map((c) => this.annotator.goldScore(c));
    const base = this.baseEval.map((c) => this.annotator.goldScore(c));
    return {
      goldWinRate: winRate(scores, base),
      goldScore: mean(scores),
      distinct: new Set(completions).size / completions.length,
      examples: completions.slice(0, 6).map((c, i) => `${this.evalPrompts[i]} | ${c}`),
    };
  }

  private async evaluatePolicy(method: Method, policy: Gpt, reference: Gpt, rng: Rng) {
    const completions = await samplesOf(policy, this.tokenizer, this.evalPrompts, rng);
    const kl = await klOnSamples(policy, reference, this.tokenizer, this.evalPrompts, completions);
    return { method, klPerSequence: kl, ...this.gold(completions) };
  }

  /** Runs every configured method for one seed. */
  async run(seed: number): Promise<MethodResult[]> {
    const cfg = this.config;
    await this.prepare();
    const root = new Rng(seed);
    const results: MethodResult[] = [];
    const t0 = Date.now();

    // 1-3. labels (first round), reward model, normalisation
    const rounds = Math.max(1, cfg.rounds);
    const perRound = Math.ceil(cfg.labels / rounds);
    let labels = await this.collectLabels(this.base, Math.min(perRound, cfg.labels), root.fork('labels-0'));
    const rm = new RewardModel(this.base, this.tokenizer, this.rewardConfig, root.fork('rm'));
    const normPrompts = generatePrompts(this.rewardConfig.normSamples, NORM_SAMPLES_SEED);
    const normCompletions = await samplesOf(this.base, this.tokenizer, normPrompts, new Rng(NORM_SAMPLES_SEED));
    const fitRm = async () => {
      await rm.refit(comparisonPairs(labels));
      await rm.setNormalisation(normPrompts, normCompletions);
    };
    await fitRm();
    let rmAccuracy = await rm.accuracy(this.heldout);
    const rmSeconds = (Date.now() - t0) / 1000;
    this.log(`seed ${seed}: ${labels.length} labels, RM held-out accuracy ${rmAccuracy.toFixed(3)} (${rmSeconds.toFixed(0)} s)`);
    const common = { seed, labels: cfg.labels };
    const wanted = new Set(cfg.methods);

    // 4. PPO, with online rounds: new labels on the current policy's samples, RM refit on all labels
    if (wanted.has('ppo')) {
      const t = Date.now();
      const ppo = new PpoTrainer(this.base, rm.primary, rm.scorer(), this.tokenizer, this.ppoConfig, root.fork('ppo'), this.trainPrompts);
      const perRoundIters = Math.ceil(cfg.ppoIterations / rounds);
      for (let r = 0; r < rounds; r++) {
        if (r > 0) {
          labels = [...labels, ...(await this.collectLabels(ppo.policy, Math.min(perRound, cfg.labels - labels.length), root.fork(`labels-${r}`), labels))];
          await fitRm();
          rmAccuracy = await rm.accuracy(this.heldout);
          this.log(`  round ${r + 1}: ${labels.length} labels, RM held-out accuracy ${rmAccuracy.toFixed(3)}`);
        }
        for (let i = 0; i < perRoundIters && ppo.iteration < cfg.ppoIterations; i++) {
          const { metrics: m, stopReason } = await ppo.step();
          if (m.iteration % 10 === 0) {
            this.log(`  ppo it ${m.iteration}: score ${m['objective/scores'].toFixed(2)} kl ${m['objective/kl'].toFixed(2)} beta ${m['objective/kl_coef'].toFixed(3)} distinct ${m['completion/distinct'].toFixed(2)} (${m.seconds.toFixed(2)} s/it)`);
          }
          if (stopReason) {
            this.log(`  ${stopReason}`);
            break;
          }
        }
      }
      const ev = await this.evaluatePolicy('ppo', ppo.policy, ppo.reference, root.fork('eval-ppo'));
      results.push({ ...common, rmAccuracy, ...ev, seconds: rmSeconds + (Date.now() - t) / 1000 });
      ppo.dispose();
    }

    // 5. the alternatives on the same labels
    if (wanted.has('best-of-n')) {
      const t = Date.now();
      const r = await bestOfN(this.base, this.tokenizer, this.evalPrompts, rm.scorer(), { n: cfg.bestOfN, rng: root.fork('bon') });
      results.push({ ...common, rmAccuracy, method: 'best-of-n', klPerSequence: r.kl, ...this.gold(r.choices.map((c) => c.best)), seconds: rmSeconds + (Date.now() - t) / 1000 });
    }
    if (wanted.has('dpo')) {
      const t = Date.now();
      const dpo = new DpoTrainer(this.base, this.tokenizer, labels, this.dpoConfig);
      await dpo.train(cfg.dpoSteps, root.fork('dpo'));
      const ev = await this.evaluatePolicy('dpo', dpo.policy, dpo.reference, root.fork('eval-dpo'));
      results.push({ ...common, rmAccuracy, ...ev, seconds: (Date.now() - t) / 1000 });
      dpo.dispose();
    }
    if (wanted.has('sft')) {
      const t = Date.now();
      const sft = new SftTrainer(this.base, this.tokenizer, labels);
      await sft.train(cfg.sftSteps, root.fork('sft'));
      const ev = await this.evaluatePolicy('sft', sft.policy, this.base, root.fork('eval-sft'));
      results.push({ ...common, rmAccuracy, ...ev, seconds: (Date.now() - t) / 1000 });
      sft.dispose();
    }
    rm.dispose();
    return results;
  }

  /** Gold evaluation of the base model itself (the reference row of the table). */
  async baseline(): Promise<{ goldScore: number; distinct: number }> {
    await this.prepare();
    const g = this.gold(this.baseEval);
    return { goldScore: g.goldScore, distinct: g.distinct };
  }
}
