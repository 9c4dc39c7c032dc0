// The headless RLHF experiment: the page's own run (run.ts) driven by a simulated annotator with a
// hidden gold preference instead of a person, then every method of the registry on the same labels,
// each judged against the base model under the gold preference that the reward model never sees
// (InstructGPT's win rates; Gao et al. 2022's gold reward model).
//   1. labels: pairs from run.makePair, answered by the annotator, learned by run.learn, with the
//      page's refit every `refitEvery` labels (run in one go here, in slices on the page)
//   2. the reward model's accuracy on noise-free held-out pairs
//   3. each method on its own: enabled, stepped (online: `iterations`; offline: its own steps),
//      judged on held-out prompts, then reset, so the next method sees the same labels and RM
import type { ExperimentConfig } from '../config/experiment';
import { generatePrompts } from '../data/corpus';
import type { Tokenizer } from '../data/tokenizer';
import { Rng } from '../math/rng';
import type { Gpt } from '../model/gpt';
import { SimulatedAnnotator } from './annotators';
import { sampleTexts } from './methods/common';
import { METHODS, type MethodName } from './methods/registry';
import type { ComparisonPair, Label } from './preferences';
import { Run, type Evaluation, type RunSettings } from './run';

export interface MethodResult {
  /** The registry name; best-of-N rows are `best-of-${n}`. */
  method: string;
  seed: number;
  labels: number;
  /** RM accuracy on noise-free, non-tied held-out base pairs. */
  rmAccuracy: number;
  /** P(gold(method) > gold(base)) + P(tie) / 2 on held-out prompts. */
  goldWinRate: number;
  goldScore: number;
  /** The win rate by the preset's preference alone (the blind gold), on the same completions. */
  blindWinRate: number;
  /** Share of the held-out completions the corpus grammar accepts. */
  grammatical: number;
  /** Mean repeated words per completion. */
  repeats: number;
  /** KL(method || base) per sequence in nats (best-of-N: the closed form). */
  klPerSequence: number;
  /** Distinct completions / completions on the held-out prompts. */
  distinct: number;
  /** Mean completion length in tokens. */
  length: number;
  /** Steps the method made (iterations, optimizer steps, best-of-N batches). */
  steps: number;
  /** The method's own time: training and evaluation (labels and the reward model are `rmSeconds`). */
  seconds: number;
  /** Labels and reward model, shared by every method of the seed. */
  rmSeconds: number;
  examples: string[];
}

export type ExperimentProgress = (message: string) => void;

/** Held-out prompts and pairs never overlap the run's prompt pool by seed. */
const EVAL_PROMPT_SEED = 99;
const HELDOUT_PAIR_SEED = 777;
/** Log an online method's metrics every this many iterations. */
const LOG_EVERY = 20;

export class Experiment {
  readonly annotator: SimulatedAnnotator;
  private readonly evalPrompts: string[];
  private heldout: ComparisonPair[] | null = null;
  /** The reward model of every seed run so far (also for --methods none). */
  readonly rewardModels: { seed: number; labels: number; rmAccuracy: number; labelAccuracy: number; rmSeconds: number }[] = [];

  constructor(
    private readonly base: Gpt,
    private readonly tokenizer: Tokenizer,
    readonly config: ExperimentConfig,
    private readonly settings: RunSettings,
    private readonly log: ExperimentProgress = () => {},
  ) {
    this.annotator = new SimulatedAnnotator({ preset: config.annotator, word: config.word, noise: config.noise, tieRule: 'random', grammar: config.gold === 'grammar' });
    this.evalPrompts = generatePrompts(config.evalPrompts, EVAL_PROMPT_SEED);
  }

  /** Noise-free pairs of base samples on held-out prompts (the same for every seed). */
  private async heldoutPairs(): Promise<ComparisonPair[]> {
    if (this.heldout) return this.heldout;
    const hp = generatePrompts(this.config.heldoutPairs, HELDOUT_PAIR_SEED);
    const texts = await sampleTexts(this.base, this.tokenizer, [...hp, ...hp], new Rng(HELDOUT_PAIR_SEED));
    const n = hp.length;
    this.heldout = hp.flatMap((prompt, i) => {
      const [a, b] = [texts[i], texts[n + i]];
      const [ga, gb] = [this.annotator.goldScore(prompt, a), this.annotator.goldScore(prompt, b)];
      if (ga === gb) return [];
      return [{ prompt, chosen: ga > gb ? a : b, rejected: ga > gb ? b : a, weight: 1 }];
    });
    return this.heldout;
  }

  /** 1. The annotator labels `count` pairs of the run, one click at a time, as autopilot does on the page. */
  async label(run: Run, count: number): Promise<void> {
    const rng = run.stream('annotator');
    for (let i = 0; i < count; i++) {
      const pair = await run.makePair(null);
      const choice = this.annotator.label(pair.prompt, pair.a, pair.b, rng);
      const label: Label = { id: `l${run.labels.length}`, prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice, source: 'simulated', time: 0 };
      await run.learn([label]);
      if (run.refitDue) await run.refitNow();
    }
  }

  /** The base model's own row of the table. */
  async baseline(): Promise<Evaluation> {
    const run = new Run(this.base, this.tokenizer, new Rng(1), this.settings);
    try {
      return await run.evaluate('base', this.annotator, this.evalPrompts, 'eval');
    } finally {
      run.dispose();
    }
  }

  /** 3. One method on the run's labels: trained, judged, reset. Best-of-N gives one row per N. */
  private async runMethod(run: Run, name: MethodName, common: Pick<MethodResult, 'seed' | 'labels' | 'rmAccuracy' | 'rmSeconds'>): Promise<MethodResult[]> {
    const spec = METHODS[name];
    const variants: { label: string; patch: Record<string, number> }[] =
      spec.kind === 'rerank' ? this.config.bestOfN.map((n) => ({ label: `${name.replace(/-n$/, '')}-${n}`, patch: { n } })) : [{ label: name, patch: {} }];
    const results: MethodResult[] = [];
    for (const variant of variants) {
      const t = Date.now();
      run.setEnabled([name]);
      run.configure(name, variant.patch);
      if (spec.kind === 'online') {
        for (let i = 0; i < this.config.iterations; i++) {
          const { metrics: m, stopReason } = await run.step(name);
          if ((i + 1) % LOG_EVERY === 0) this.log(`  ${name} it ${i + 1}: ${Object.entries(m).filter(([k]) => /scores|reward$|(^|\/)kl$|kl\/sequence|distinct|beta|kl_coef/.test(k)).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
          if (stopReason) {
            this.log(`  ${name}: ${stopReason}`);
            break;
          }
        }
      } else if (spec.kind === 'offline') {
        while (!run.finished(name)) await run.step(name);
      } else {
        await run.step(name); // makes the reranker (its completions come from evaluate)
      }
      const ev = await run.evaluate(name, this.annotator, this.evalPrompts, 'eval');
      results.push({
        ...common,
        method: variant.label,
        goldWinRate: ev.winRate,
        goldScore: ev.goldScore,
        blindWinRate: ev.blindWinRate,
        grammatical: ev.grammatical,
        repeats: ev.repeats,
        klPerSequence: ev.klPerSequence,
        distinct: ev.distinct,
        length: ev.length,
        steps: ev.steps,
        seconds: (Date.now() - t) / 1000,
        examples: ev.completions.slice(0, 6).map((c, i) => `${this.evalPrompts[i]} | ${c}`),
      });
      run.resetMethod(name);
    }
    return results;
  }

  /** Every configured method for one seed, on one run's labels and reward model. */
  async run(seed: number, onResult: (r: MethodResult) => void = () => {}): Promise<MethodResult[]> {
    const heldout = await this.heldoutPairs();
    const t0 = Date.now();
    const run = new Run(this.base, this.tokenizer, new Rng(seed), this.settings);
    try {
      await this.label(run, this.config.labels);
      const rmAccuracy = await run.rewardAccuracy(heldout);
      const rmSeconds = (Date.now() - t0) / 1000;
      const fit = await run.rewardFit();
      this.log(`seed ${seed}: ${run.labelCount} labels, RM accuracy ${fit.accuracy.toFixed(3)} on them, ${rmAccuracy.toFixed(3)} held out (${rmSeconds.toFixed(0)} s)`);
      this.rewardModels.push({ seed, labels: run.labelCount, rmAccuracy, labelAccuracy: fit.accuracy, rmSeconds });
      const results: MethodResult[] = [];
      for (const name of this.config.methods as MethodName[]) {
        for (const r of await this.runMethod(run, name, { seed, labels: run.labelCount, rmAccuracy, rmSeconds })) {
          results.push(r);
          onResult(r);
        }
      }
      return results;
    } finally {
      run.dispose();
    }
  }
}
