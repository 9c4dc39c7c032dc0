// One RLHF run: the loop the page runs and `npm run experiment` measures, so every figure in the
// README describes what the page does (DESIGN.md "One run, two drivers"). It holds
//   1. the label log and the reward-model service: incremental Bradley-Terry steps per label, a
//      steppable refit from the base model, normalisation of scores on base samples;
//   2. pair selection with one rule: K samples of a prompt from the current policy, the most
//      different two, then where a linear Bradley-Terry ensemble disagrees most (pair-selection.ts);
//   3. the methods, by name from the registry (methods/registry.ts), each trained on these labels
//      and this reward model;
//   4. the evaluations: gold score and win rate against the base model under a simulated
//      annotator's hidden preference, KL to the base model, distinct ratio, completion length.
// The worker's session owns one Run and schedules its work between messages; the experiment calls
// the same methods in order. Nothing here knows about messages or the DOM.
import type { FieldValue } from '../config/fields';
import { DEFAULT_PAIRS, DEFAULT_REWARD_SETTINGS, type PairSettings, type RewardSettings } from '../config/run';
import { DEFAULT_REWARD, type RewardConfig } from '../config/reward';
import { generatePrompts, splitTokens } from '../data/corpus';
import { checkCompletion, repeatedWords } from '../data/grammar';
import { TRUNCATED_MARK, UnknownWordsError, type Tokenizer } from '../data/tokenizer';
import type * as tf from '@tensorflow/tfjs-core';
import { hashSeed, Rng } from '../math/rng';
import { logSigmoid, mean, sigmoid } from '../math/stats';
import type { Gpt } from '../model/gpt';
import { disposeParams } from '../model/params';
import { winRate, type GoldJudgement, type SimulatedAnnotator } from './annotators';
import { klOnSamples } from './evaluation';
import { bestOfNKl } from './best-of-n';
import { nestedBestOfN } from './plane';
import { completionFeatures, fitPairEnsemble, LinearBtEnsemble } from './linear-bt';
import { SAMPLE_CHUNK, sampleTexts } from './methods/common';
import { METHODS, type MethodName } from './methods/registry';
import type { StepResult, Trainer } from './methods/types';
import { disagreementPair, mostDifferentPair } from './pair-selection';
import { comparisonPairs, pairAgrees, type Choice, type ComparisonPair, type Label } from './preferences';
import { RefitJob } from './refit';
import { RewardModel } from './reward-model';
import { completionIds } from './sequences';
import type { Demonstration } from './sft';
import type { StateValues, TrainerState } from './trainer-state';

/** The reward model's stream until a refit replaces it (a refit's model draws from the refit's stream). */
const REWARD_STREAM = 'reward-model';
const refitStream = (n: number) => `refit-${n}`;

/** Prompts rollouts and varied pairs draw from (the corpus's openings). */
const PROMPT_POOL_SIZE = 2000;

/** Each method's settings by name (values checked where they entered). */
export type MethodConfigs = Record<MethodName, Record<string, FieldValue>>;

export function defaultMethodConfigs(): MethodConfigs {
  return Object.fromEntries(Object.entries(METHODS).map(([name, spec]) => [name, { ...spec.defaults }])) as MethodConfigs;
}

export interface RunSettings {
  reward: RewardConfig;
  /** A full refit is due every this many new labels (RewardSettings.refitEvery); 0: only when asked. */
  refitEvery: number;
  pairs: PairSettings;
  methods: MethodConfigs;
}

/** The run's settings from the page-facing ones (the rest of the reward model's recipe is DEFAULT_REWARD). */
export function runSettings(reward: RewardSettings = DEFAULT_REWARD_SETTINGS, pairs: PairSettings = DEFAULT_PAIRS, methods: MethodConfigs = defaultMethodConfigs()): RunSettings {
  const { incrementalSteps, refitSteps, ensembleSize, refitEvery } = reward;
  return { reward: { ...DEFAULT_REWARD, incrementalSteps, refitSteps, ensembleSize }, refitEvery, pairs, methods };
}

/** A trainer, what it was made from (a checkpoint remakes it from the same) and its own random stream. */
interface TrainerEntry {
  trainer: Trainer;
  /** The label version it was made at (stale() compares it). */
  labels: number;
  made: { labels: Label[]; demonstrations: Demonstration[] };
  rng: Rng;
}

/** Everything of a run but its variables, as a checkpoint saves it (checkpoint.ts): a new Run with these settings and values continues where it was. */
export interface RunValues {
  seed: number;
  settings: RunSettings;
  enabled: MethodName[];
  labels: Label[];
  demonstrations: Demonstration[];
  labelVersion: number;
  refits: number;
  labelsSinceRefit: number;
  blindDraws: number;
  /** Positions of the run's consumed streams (pairs and base samples); every other stream is forked by name. */
  pairStream: number;
  sampleStream: number;
  normalisation: { prompts: string[]; completions: string[] } | null;
  normStale: boolean;
  /** The pair-selection ensemble of the current round, as fitted (refitted only when the round changes). */
  ensemble: { round: number; members: number[][]; scale: number } | null;
  /** The stream the reward model draws from (REWARD_STREAM, or the refit's that made it). */
  rewardStream: string;
  rewardModel: StateValues;
  methods: { name: MethodName; stale: boolean; stream: number; labels: Label[]; demonstrations: Demonstration[]; values: StateValues }[];
}

/** A pair to label, and the model that wrote it. */
export interface PairDraft {
  prompt: string;
  a: string;
  b: string;
  /** 'base', or the method whose policy sampled it. */
  from: 'base' | MethodName;
  /** That method's steps when it sampled (0 for the base model). */
  steps: number;
  strategy: 'diverse' | 'disagree';
  candidates: number;
}

/** What the reward model thinks of a labelled pair, before and after learning from the label. */
export interface Verdict {
  labelId: string;
  choice: Choice;
  /** P(A > B) under Bradley-Terry before this label was learned (a prediction on an unseen pair). */
  pBefore: number;
  /** P(A > B) after the update. */
  pAfter: number;
  /** Raw RM scores r(x, A) and r(x, B) after the update: pAfter = sigmoid(scoreA - scoreB). */
  scoreA: number;
  scoreB: number;
  /** Whether the RM agreed with the label (a tie: P within 0.5 +- TIE_BAND); null for a skip. */
  agreedBefore: boolean | null;
  agreedAfter: boolean | null;
}

/** New labels being learned a slice at a time (Run.startLearning). */
export interface LearnJob {
  /** Does the next slice; returns the verdicts after the last one, null before. */
  next(): Promise<Verdict[] | null>;
}

/** The reward model's fit to the labels after an update, a refit or an edit. */
export interface RewardFit {
  /** Labels it trains on (A, B and ties). */
  labels: number;
  /** Mean Bradley-Terry loss over all labels (NaN with no labels). */
  loss: number;
  /** Share of the labels it orders as labelled (NaN with no labels). */
  accuracy: number;
  /** Gradient steps since the last reset. */
  steps: number;
}

/** A label changed (a new choice), removed, or the whole list replaced (restore, import, clear). */
export type LabelEdit =
  | { op: 'change'; id: string; choice: Exclude<Choice, 'skip'> }
  | { op: 'remove'; id: string }
  | { op: 'replace'; labels: Label[] };

/** One method (or the base model) judged on held-out prompts. */
export interface Evaluation {
  method: MethodName | 'base';
  /** The method's steps when judged. */
  steps: number;
  /** Mean gold score of its completions (the preference, less the grammar penalty where broken). */
  goldScore: number;
  /** Of the base model's completions of the same prompts. */
  baseGoldScore: number;
  /** P(gold(method) > gold(base)) + P(tie) / 2. */
  winRate: number;
  /** The win rate by the preference alone (the blind gold, which cannot see grammar). */
  blindWinRate: number;
  /** Share of its completions that the corpus grammar accepts (prompt and completion as one review). */
  grammatical: number;
  /** Of the base model's completions. */
  baseGrammatical: number;
  /** Mean repeated words per completion (words minus distinct words). */
  repeats: number;
  /** Mean reward-model score of its completions (normalised: mean 0, std 1 on base-model samples). */
  rmScore: number;
  /** Of the base model's completions, by the same reward model. */
  baseRmScore: number;
  /** KL(method || base) per sequence in nats (best-of-N: the closed form). */
  klPerSequence: number;
  /** Distinct completions / completions. */
  distinct: number;
  /** Mean completion length in tokens (EOS included). */
  length: number;
  completions: string[];
}

/** A blind comparison (blind.ts): the base model's and a method's completion of one prompt, and which side each is on. */
export interface BlindDraft {
  prompt: string;
  left: string;
  right: string;
  /** The side of the method's completion; the other is the base model's. */
  methodSide: 'left' | 'right';
  method: MethodName;
  /** The method's steps when it wrote its completion. */
  steps: number;
  /** Draws made in this run so far, this one included (each has its own seeded stream). */
  draw: number;
}

/** One prompt of the sample strip: the base model and each method, scored by the reward model. */
export interface StripRow {
  prompt: string;
  base: string;
  baseScore: number;
  /** Completion token index of the first token the grammar rejects (0 when the prompt itself is broken); null: grammatical. */
  baseBrokenAt: number | null;
  methods: { method: MethodName; text: string; score: number; brokenAt: number | null }[];
}

/** Where a completion of `prompt` first breaks the grammar, as a completion token index (null: it does not). */
export function brokenAt(prompt: string, completion: string): number | null {
  const v = checkCompletion(prompt, completion);
  return v.ok ? null : Math.max(0, v.index - v.promptTokens);
}

/** P(A > B) and "agreed" of one labelled pair from normalised scores. */
/** The RM's verdict on a label from raw scores: the Bradley-Terry probability of A over B. */
function judge(label: Label, scoreA: number, scoreB: number): { p: number; agreed: boolean | null } {
  const d = scoreA - scoreB; // raw units: the Bradley-Terry logit
  const p = sigmoid(d);
  if (label.choice === 'skip') return { p, agreed: null };
  const [pair] = comparisonPairs([label]);
  return { p, agreed: pairAgrees(pair.weight, pair.chosen === label.completionA ? d : -d) };
}

function quoteAll(words: readonly string[]): string {
  return words.map((w) => `"${w}"`).join(', ');
}

export class Run {
  readonly promptPool: readonly string[];
  private rm: RewardModel;
  private labelLog: Label[] = [];
  private demos: Demonstration[] = [];
  private readonly trainers = new Map<MethodName, TrainerEntry>();
  private readonly configs: MethodConfigs;
  /** The methods that train on the labels, in the order the user picked them. */
  private enabledMethods: MethodName[] = [];
  private ensemble: { round: number; model: LinearBtEnsemble } | null = null;
  private normSet: { prompts: string[]; completions: string[] } | null = null;
  /** The RM has learned since its scores were last normalised: score() renormalises first. */
  private normStale = false;
  private readonly baseCache = new Map<string, string[]>();
  private refits = 0;
  /** The name of the stream the reward model draws from: a refit's model keeps its refit's stream. */
  private rmStream = REWARD_STREAM;
  private labelsSinceRefit = 0;
  /** Blind pairs drawn (each draw has its own stream). */
  private blindDraws = 0;
  /** Bumped by every change of the labels: offline methods made before it are stale. */
  private labelVersion = 0;
  private readonly pairRng: Rng;
  private readonly sampleRng: Rng;
  /** Best-of-N's candidates on the reward-KL plane, drawn chunk by chunk (bestOfNCandidates). */
  private planeSet: { key: string; prompts: string[]; maxN: number; texts: string[]; rng: Rng; scores: number[]; gold: WeakMap<SimulatedAnnotator, number[]> } | null = null;

  constructor(
    readonly base: Gpt,
    readonly tokenizer: Tokenizer,
    private readonly rng: Rng,
    readonly settings: RunSettings,
  ) {
    this.configs = structuredClone(settings.methods);
    // Only prompts the shipped vocabulary can read: the corpus code may be newer than the model.
    this.promptPool = generatePrompts(PROMPT_POOL_SIZE, rng.fork('prompts').seed).filter((p) => this.usable(p));
    if (this.promptPool.length === 0) throw new Error("no corpus prompt can be written in the model's vocabulary (model and code out of step?)");
    this.rm = new RewardModel(base, tokenizer, settings.reward, rng.fork(REWARD_STREAM));
    this.pairRng = rng.fork('pairs');
    this.sampleRng = rng.fork('base-samples');
  }

  get seed(): number {
    return this.rng.seed;
  }

  get labels(): readonly Label[] {
    return this.labelLog;
  }

  /** A, B and tie labels (skips carry no preference). */
  get labelCount(): number {
    return this.labelLog.filter((l) => l.choice !== 'skip').length;
  }

  get rewardModel(): RewardModel {
    return this.rm;
  }

  /** A random stream of the run for a named purpose (the simulated annotator's draws). */
  stream(name: string): Rng {
    return this.rng.fork(name);
  }

  // ---- prompts and labels that enter from outside ----

  usable(prompt: string): boolean {
    const check = this.checkPrompt(prompt);
    return check.unknown.length === 0 && check.problem === null;
  }

  /** Why `prompt` cannot be used (unknown words, too long), or nothing. */
  checkPrompt(prompt: string): { unknown: string[]; problem: string | null } {
    const r = this.tokenizer.tryEncode(prompt);
    if (!r.ok) return { unknown: r.unknown, problem: null };
    const { contextLength, maxNewTokens } = this.base.config;
    const room = contextLength - maxNewTokens - 1; // the start token comes first
    if (r.ids.length > room) return { unknown: [], problem: `the prompt has ${r.ids.length} words and marks; the model's context leaves room for ${room}` };
    return { unknown: [], problem: null };
  }

  /** Why a label (or a typed demonstration) cannot be learned, or null. */
  checkLabel(label: Pick<Label, 'prompt' | 'completionA' | 'completionB'>): string | null {
    const prompt = this.checkPrompt(label.prompt);
    if (prompt.unknown.length > 0) return `its prompt has unknown words: ${quoteAll(prompt.unknown)}`;
    if (prompt.problem) return prompt.problem;
    const promptTokens = this.tokenizer.encodePrompt(label.prompt).length;
    for (const text of [label.completionA, label.completionB]) {
      let ids: number[];
      try {
        ids = completionIds(this.tokenizer, text);
      } catch (e) {
        if (e instanceof UnknownWordsError) return `a completion has unknown words: ${quoteAll(e.unknown)}`;
        throw e;
      }
      if (promptTokens + ids.length > this.base.config.contextLength) {
        return `prompt and completion are ${promptTokens + ids.length} tokens; the model reads at most ${this.base.config.contextLength}`;
      }
    }
    return null;
  }

  /** One completion per prompt from the base model at `temperature` (the page's "what the base model writes"). */
  async sampleBase(prompts: readonly string[], temperature: number): Promise<string[]> {
    if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
    const texts = await sampleTexts(this.base, this.tokenizer, prompts, this.sampleRng, temperature);
    return texts.map((t) => (t.endsWith(TRUNCATED_MARK) ? t.slice(0, -TRUNCATED_MARK.length) : t));
  }

  // ---- pairs ----

  /** The model new pairs are sampled from: the first enabled method that has trained a policy (online RLHF), else the base model. */
  get currentPolicy(): { from: 'base' | MethodName; steps: number; model: Gpt } {
    for (const name of this.enabledMethods) {
      const t = this.trainers.get(name)?.trainer;
      if (t?.policy && t.steps > 0) return { from: name, steps: t.steps, model: t.policy };
    }
    return { from: 'base', steps: 0, model: this.base };
  }

  /**
   * A pair to label: `candidates` completions of one prompt from the current policy, then the most
   * different two while there are fewer than `warmupLabels` labels, after that the two a linear
   * Bradley-Terry ensemble on base-model features disagrees on most (prototype2's lab.py).
   */
  async makePair(fixedPrompt: string | null): Promise<PairDraft> {
    const { candidates: k, selection, warmupLabels } = this.settings.pairs;
    const prompt = fixedPrompt ?? this.pairRng.pick(this.promptPool);
    const policy = this.currentPolicy;
    const texts = await sampleTexts(policy.model, this.tokenizer, Array<string>(k).fill(prompt), this.pairRng);
    const ensemble = selection === 'disagreement' && this.labelCount >= warmupLabels ? await this.selectionEnsemble() : null;
    let pick = mostDifferentPair(texts);
    if (ensemble) {
      const feats = await completionFeatures(this.base, this.tokenizer, texts.map(() => prompt), texts);
      pick = disagreementPair(texts, ensemble.scores(feats));
    }
    return { prompt, a: texts[pick[0]], b: texts[pick[1]], from: policy.from, steps: policy.steps, strategy: ensemble ? 'disagree' : 'diverse', candidates: k };
  }

  /** The disagreement ensemble, refitted every `selectionRound` labels (null without two comparisons). */
  private async selectionEnsemble(): Promise<LinearBtEnsemble | null> {
    const pairs = comparisonPairs(this.labelLog);
    if (pairs.length < 2) return null;
    const round = Math.floor(this.labelCount / this.settings.pairs.selectionRound);
    if (this.ensemble?.round !== round) {
      this.ensemble = { round, model: await fitPairEnsemble(this.base, this.tokenizer, pairs, this.rng.fork(`ensemble-${round}`)) };
    }
    return this.ensemble.model;
  }

  // ---- the reward-model service ----

  /** Base-model samples the RM's scores are normalised on (mean 0, std 1), drawn once. */
  private async normalisationSet(): Promise<{ prompts: string[]; completions: string[] }> {
    if (!this.normSet) {
      const rng = this.rng.fork('normalisation');
      const prompts = Array.from({ length: this.settings.reward.normSamples }, () => rng.pick(this.promptPool));
      this.normSet = { prompts, completions: await sampleTexts(this.base, this.tokenizer, prompts, rng) };
    }
    return this.normSet;
  }

  /** Whether the normalisation samples are drawn (the first label's update needs them). */
  get normalisationReady(): boolean {
    return this.normSet !== null;
  }

  /** Draws the normalisation samples ahead, while the worker is idle, so the first label's update is one slice shorter (their own stream: when they are drawn changes nothing). */
  async drawNormalisation(): Promise<void> {
    await this.normalisationSet();
  }

  private async renormalise(rm = this.rm): Promise<void> {
    const set = await this.normalisationSet();
    await rm.setNormalisation(set.prompts, set.completions);
    if (rm === this.rm) this.normStale = false;
  }

  /**
   * Normalised scores of the current reward model (methods score with this; a refit swaps the model
   * under it). Normalisation is lazy: a click's update marks it stale and the next normalised score
   * renormalises (256 base samples through the RM, twice the cost of the update itself), so the
   * values every reader sees are those an eager renormalisation after each update would give.
   */
  readonly score = async (prompts: string[], completions: string[]): Promise<number[]> => {
    if (this.normStale) await this.renormalise();
    return (await this.rm.score(prompts, completions)).scores;
  };

  /** Ensemble-mean scores in the RM's raw units (Bradley-Terry logits; no normalisation needed). */
  private async rawScore(prompts: readonly string[], completions: readonly string[]): Promise<number[]> {
    const members = await this.rm.rawScores(prompts, completions);
    return prompts.map((_, i) => mean(members.map((m) => m[i])));
  }

  /** Raw scores of each label's A and B. */
  private async scorePairs(labels: readonly Label[]): Promise<{ a: number[]; b: number[] }> {
    if (labels.length === 0) return { a: [], b: [] };
    const prompts = labels.map((l) => l.prompt);
    const scores = await this.rawScore([...prompts, ...prompts], [...labels.map((l) => l.completionA), ...labels.map((l) => l.completionB)]);
    return { a: scores.slice(0, labels.length), b: scores.slice(labels.length) };
  }

  /**
   * Incremental Bradley-Terry steps for new labels (RewardModel.update): each label gets its own
   * steps, whose batches hold it plus replayed older labels, as if the labels had come one by one
   * (a batch of labels that arrived together must not get fewer steps than the same labels
   * given slowly: an undertrained RM is what RL exploits).
   */
  private async learnLabels(fresh: readonly Label[], rm = this.rm): Promise<void> {
    const all = comparisonPairs(this.labelLog);
    if (all.length === 0) return;
    for (const label of fresh) {
      const pairs = comparisonPairs([label]); // one pair, or both orders of a tie
      if (pairs.length > 0) await rm.update(all, pairs);
    }
  }

  /** New labels: the RM's prediction on each pair, an incremental update, and its verdict after (startLearning's slices, run to the end). */
  async learn(fresh: readonly Label[]): Promise<Verdict[]> {
    const job = this.startLearning(fresh);
    for (;;) {
      const verdicts = await job.next();
      if (verdicts) return verdicts;
    }
  }

  /**
   * The same work as learn, cut into slices that each take about one incremental update (the
   * worker samples the next pairs between them, so a burst of clicks never empties the pair
   * buffer). Nothing random is drawn outside the reward model's own stream, so where the slices
   * are cut changes no result. The labels join the log in the first slice.
   */
  startLearning(fresh: readonly Label[]): LearnJob {
    const slices = this.learnSlices(fresh);
    return {
      next: async () => {
        const r = await slices.next();
        return r.done ? r.value : null;
      },
    };
  }

  private async *learnSlices(fresh: readonly Label[]): AsyncGenerator<void, Verdict[]> {
    // 1. the prediction on the unseen pairs, then the labels join the log
    const before = await this.scorePairs(fresh);
    this.labelLog.push(...fresh);
    this.labelVersion += 1;
    this.labelsSinceRefit += fresh.filter((l) => l.choice !== 'skip').length;
    yield;
    // 2. each label's own incremental steps (learnLabels, one label per slice)
    const all = comparisonPairs(this.labelLog);
    for (const label of all.length > 0 ? fresh : []) {
      const pairs = comparisonPairs([label]); // one pair, or both orders of a tie
      if (pairs.length === 0) continue;
      await this.rm.update(all, pairs);
      yield;
    }
    // 3. the normalisation samples (drawn once, on the first label); the new mean and std are
    // computed when a normalised score is next read (score())
    if (!this.normSet) {
      await this.normalisationSet();
      yield;
    }
    this.normStale = true;
    // 4. the verdicts, in raw units
    const after = await this.scorePairs(fresh);
    return fresh.map((label, i): Verdict => {
      const was = judge(label, before.a[i], before.b[i]);
      const now = judge(label, after.a[i], after.b[i]);
      return {
        labelId: label.id,
        choice: label.choice,
        pBefore: was.p,
        pAfter: now.p,
        scoreA: after.a[i],
        scoreB: after.b[i],
        agreedBefore: was.agreed,
        agreedAfter: now.agreed,
      };
    });
  }

  /** Applies an edit. Returns whether the RM should be refit (it cannot unlearn a label). */
  async edit(edit: LabelEdit): Promise<{ refit: boolean }> {
    this.labelVersion += 1;
    switch (edit.op) {
      case 'change': {
        const i = this.labelLog.findIndex((l) => l.id === edit.id);
        if (i < 0) throw new Error(`no label with id "${edit.id}"`);
        if (this.labelLog[i].choice === edit.choice) return { refit: false };
        const changed = { ...this.labelLog[i], choice: edit.choice };
        this.labelLog[i] = changed;
        // Learn the new answer at once; a refit then forgets the old one.
        await this.learnLabels([changed]);
        this.normStale = true;
        return { refit: true };
      }
      case 'remove': {
        const before = this.labelLog.length;
        this.labelLog = this.labelLog.filter((l) => l.id !== edit.id);
        return { refit: this.labelLog.length !== before && this.labelCount > 0 };
      }
      case 'replace': {
        const ids = new Set<string>();
        for (const l of edit.labels) {
          if (ids.has(l.id)) throw new Error(`two labels share the id "${l.id}"`);
          ids.add(l.id);
          const why = this.checkLabel(l);
          if (why) throw new Error(`label "${l.id}" cannot be used: ${why}`);
        }
        this.labelLog = edit.labels.slice();
        this.rm.reset(); // the old labels' influence goes; a refit learns the new list
        return { refit: this.labelCount > 0 };
      }
    }
  }

  /** Completions the user typed for SFT (checked by checkLabel with the same text twice). */
  setDemonstrations(demonstrations: readonly Demonstration[]): void {
    for (const d of demonstrations) {
      const why = this.checkLabel({ prompt: d.prompt, completionA: d.completion, completionB: d.completion });
      if (why) throw new Error(`the demonstration "${d.prompt} ${d.completion}" cannot be used: ${why}`);
    }
    this.demos = demonstrations.slice();
    this.labelVersion += 1;
  }

  get demonstrations(): readonly Demonstration[] {
    return this.demos;
  }

  /** Mean Bradley-Terry loss and accuracy of the RM over all labels, in one scoring pass. */
  async rewardFit(): Promise<RewardFit> {
    const pairs = comparisonPairs(this.labelLog);
    let loss = NaN;
    let accuracy = NaN;
    if (pairs.length > 0) {
      const prompts = pairs.map((p) => p.prompt);
      const scores = await this.rawScore([...prompts, ...prompts], [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)]);
      const n = pairs.length;
      let nll = 0;
      let right = 0;
      let total = 0;
      pairs.forEach((p, i) => {
        const d = scores[i] - scores[n + i]; // raw units: the Bradley-Terry logit
        nll -= p.weight * logSigmoid(d);
        right += p.weight * (pairAgrees(p.weight, d) ? 1 : 0);
        total += p.weight;
      });
      loss = nll / total;
      accuracy = right / total;
    }
    return { labels: this.labelCount, loss, accuracy, steps: this.rm.steps };
  }

  /** The RM's accuracy on pairs it never saw (the experiment's noise-free held-out pairs). */
  rewardAccuracy(pairs: readonly ComparisonPair[]): Promise<number> {
    return this.rm.accuracy(pairs);
  }

  /**
   * One incremental Bradley-Terry step on all the labels (the page's "One reward-model step"), the
   * scores normalised again on the base samples; returns the fit after it. Throws with no comparison.
   */
  async rewardStep(): Promise<RewardFit> {
    const pairs = comparisonPairs(this.labelLog);
    if (pairs.length === 0) throw new Error('the reward model has no comparison to learn from: give a label (A, B or tie) first');
    await this.rm.step(pairs);
    this.normStale = true;
    return this.rewardFit();
  }

  /** Whether `refitEvery` labels have come since the last refit started. */
  get refitDue(): boolean {
    return this.settings.refitEvery > 0 && this.labelsSinceRefit >= this.settings.refitEvery;
  }

  /** A full refit from the base model on the labels now held, to be run in slices (RefitJob.run). */
  startRefit(): RefitJob {
    this.refits += 1;
    this.labelsSinceRefit = 0;
    return new RefitJob(this.base, this.tokenizer, this.settings.reward, this.rng.fork(refitStream(this.refits)), this.labelLog, refitStream(this.refits));
  }

  /** Makes a finished refit the reward model: learns the labels that came during it, then swaps. */
  async adoptRefit(job: RefitJob): Promise<void> {
    const fresh = this.labelLog.filter((l) => !job.labelIds.has(l.id));
    const shadow = job.take();
    await this.learnLabels(fresh, shadow);
    await this.renormalise(shadow);
    this.rm.dispose();
    this.rm = shadow;
    this.rmStream = job.stream;
    this.normStale = false;
  }

  /** A whole refit at once (the experiment; the worker runs the same job in slices). */
  async refitNow(): Promise<void> {
    const job = this.startRefit();
    await job.run(Infinity);
    await this.adoptRefit(job);
  }

  // ---- methods ----

  get enabled(): readonly MethodName[] {
    return this.enabledMethods;
  }

  /** Which methods train on the labels. Methods switched off keep their trainer until reset. */
  setEnabled(names: readonly MethodName[]): void {
    this.enabledMethods = [...new Set(names)];
  }

  config(name: MethodName): Record<string, FieldValue> {
    return this.configs[name];
  }

  /** New settings of a method (checked at the boundary): a running trainer takes them from its next step. */
  configure(name: MethodName, patch: Record<string, FieldValue>): void {
    this.configs[name] = { ...this.configs[name], ...patch };
    this.trainers.get(name)?.trainer.configure(patch);
  }

  trainer(name: MethodName): Trainer | null {
    return this.trainers.get(name)?.trainer ?? null;
  }

  /** Whether an offline or rerank method was made before the labels last changed. */
  stale(name: MethodName): boolean {
    const entry = this.trainers.get(name);
    return entry !== undefined && entry.labels !== this.labelVersion;
  }

  /** Whether a method has made all the steps it makes (offline and rerank methods). */
  finished(name: MethodName): boolean {
    const t = this.trainer(name);
    return t !== null && t.totalSteps !== null && t.steps >= t.totalSteps;
  }

  /** The method's trainer, made now from the base model, the current reward model and labels (a checkpoint's: the labels it was made from). */
  private ensureTrainer(name: MethodName, made: TrainerEntry['made'] = { labels: this.labelLog.slice(), demonstrations: this.demos }): Trainer {
    const existing = this.trainers.get(name);
    if (existing) return existing.trainer;
    const spec = METHODS[name];
    const rng = this.rng.fork(`method-${name}`);
    const trainer = spec.create(
      {
        base: this.base,
        tokenizer: this.tokenizer,
        scorer: this.score,
        rewardModel: this.rm.primary,
        labels: made.labels,
        demonstrations: made.demonstrations,
        prompts: this.promptPool,
        rng,
      },
      this.configs[name],
    );
    this.trainers.set(name, { trainer, labels: this.labelVersion, made, rng });
    return trainer;
  }

  /** One step of a method (an RL iteration, an optimizer step, a batch of best-of-N). */
  async step(name: MethodName): Promise<StepResult> {
    if (!this.trainers.has(name)) await this.renormalise(); // a new trainer scores with fresh normalisation
    return this.ensureTrainer(name).step();
  }

  /** Back to the base model for one method: its trainer and everything it made are freed. */
  resetMethod(name: MethodName): void {
    this.trainers.get(name)?.trainer.dispose();
    this.trainers.delete(name);
  }

  resetMethods(): void {
    for (const name of [...this.trainers.keys()]) this.resetMethod(name);
  }

  // ---- checkpoints (checkpoint.ts writes the variables to bytes and back) ----

  /** The whole trained state: the reward model, every trainer, the label log and the streams' positions. A refit in progress is not part of it (it starts again). */
  saveState(): { values: RunValues; variables: [string, tf.Variable][] } {
    const rm = this.rm.saveState();
    const variables = rm.variables.map(([n, v]): [string, tf.Variable] => [`reward-model/${n}`, v]);
    const methods: RunValues['methods'] = [];
    for (const [name, entry] of this.trainers) {
      const state: TrainerState = entry.trainer.saveState();
      variables.push(...state.variables.map(([n, v]): [string, tf.Variable] => [`method/${name}/${n}`, v]));
      methods.push({ name, stale: this.stale(name), stream: entry.rng.position, labels: entry.made.labels.slice(), demonstrations: entry.made.demonstrations.slice(), values: state.values });
    }
    const values: RunValues = {
      seed: this.rng.seed,
      settings: { ...this.settings, methods: structuredClone(this.configs) },
      enabled: [...this.enabledMethods],
      labels: this.labelLog.slice(),
      demonstrations: this.demos.slice(),
      labelVersion: this.labelVersion,
      refits: this.refits,
      labelsSinceRefit: this.labelsSinceRefit,
      blindDraws: this.blindDraws,
      pairStream: this.pairRng.position,
      sampleStream: this.sampleRng.position,
      normalisation: this.normSet && { prompts: [...this.normSet.prompts], completions: [...this.normSet.completions] },
      normStale: this.normStale,
      ensemble: this.ensemble && { round: this.ensemble.round, ...this.ensemble.model.state },
      rewardStream: this.rmStream,
      rewardModel: rm.values,
      methods,
    };
    return { values, variables };
  }

  /**
   * Continues a saved run in this one, made with the saved seed and settings and never used: the
   * plain values are set, each saved method's trainer is made again from the labels it was made
   * from, and `write` gets every variable of the result by name (the saved values go into them).
   * Throws a readable Error when a value does not fit; the caller then disposes this run.
   */
  restoreState(values: RunValues, write: (variables: [string, tf.Variable][]) => void): void {
    if (values.seed !== this.rng.seed) throw new Error(`the saved run has seed ${values.seed}, this one ${this.rng.seed}`);
    this.labelLog = values.labels.slice();
    this.demos = values.demonstrations.slice();
    this.enabledMethods = [...values.enabled];
    [this.labelVersion, this.refits, this.labelsSinceRefit, this.blindDraws] = [values.labelVersion, values.refits, values.labelsSinceRefit, values.blindDraws];
    this.pairRng.restore(values.pairStream);
    this.sampleRng.restore(values.sampleStream);
    this.normSet = values.normalisation && { prompts: [...values.normalisation.prompts], completions: [...values.normalisation.completions] };
    this.normStale = values.normStale;
    this.ensemble = values.ensemble && { round: values.ensemble.round, model: LinearBtEnsemble.fromState(values.ensemble) };
    if (values.rewardStream !== this.rmStream) {
      if (!/^refit-\d+$/.test(values.rewardStream)) throw new Error(`the saved reward model's stream "${values.rewardStream}" is not one a run makes`);
      this.rm.dispose();
      this.rm = new RewardModel(this.base, this.tokenizer, this.settings.reward, this.rng.fork(values.rewardStream));
      this.rmStream = values.rewardStream;
    }
    this.rm.loadValues(values.rewardModel);
    for (const m of values.methods) {
      try {
        const trainer = this.ensureTrainer(m.name, { labels: m.labels.slice(), demonstrations: m.demonstrations.slice() });
        trainer.loadValues(m.values);
      } catch (e) {
        throw new Error(`${METHODS[m.name].title} cannot be restored: ${e instanceof Error ? e.message : String(e)}`);
      }
      const entry = this.trainers.get(m.name)!;
      entry.rng.restore(m.stream);
      if (m.stale) entry.labels = -1; // older than every label version
    }
    write(this.saveState().variables);
  }

  // ---- evaluation ----

  /** Base-model completions of `prompts` from a stream seeded by `seed`, kept for the run. */
  private async baseCompletions(prompts: readonly string[], seed: number): Promise<string[]> {
    const key = `${seed}\u0000${prompts.join('\u0001')}`;
    let texts = this.baseCache.get(key);
    if (!texts) {
      texts = await sampleTexts(this.base, this.tokenizer, prompts, new Rng(seed));
      this.baseCache.set(key, texts);
    }
    return texts;
  }

  private tokens(text: string): number {
    return completionIds(this.tokenizer, text).length;
  }

  /**
   * Judges a method (or the base model) on held-out prompts: it and the base model complete them
   * from streams of the same seed (so an untrained policy wins exactly 1/2), scored by the
   * annotator's hidden gold preference, which the reward model never sees.
   */
  async evaluate(name: MethodName | 'base', annotator: SimulatedAnnotator, prompts: readonly string[], seedName = 'gold'): Promise<Evaluation> {
    const seed = hashSeed(this.rng.seed, seedName);
    const base = await this.baseCompletions(prompts, seed);
    const trainer = name === 'base' ? null : this.trainer(name);
    const completions = trainer ? await trainer.complete(prompts, new Rng(seed)) : base;
    let kl = 0;
    if (trainer) kl = trainer.analyticKl ?? (trainer.policy ? await klOnSamples(trainer.policy, this.base, this.tokenizer, prompts, completions) : 0);
    const judged = completions.map((c, i) => annotator.judge(prompts[i], c));
    const baseJudged = base.map((c, i) => annotator.judge(prompts[i], c));
    const share = (js: GoldJudgement[]) => js.filter((j) => j.grammar.ok).length / js.length;
    return {
      method: name,
      steps: trainer?.steps ?? 0,
      goldScore: mean(judged.map((j) => j.gold)),
      baseGoldScore: mean(baseJudged.map((j) => j.gold)),
      winRate: winRate(judged.map((j) => j.gold), baseJudged.map((j) => j.gold)),
      blindWinRate: winRate(judged.map((j) => j.preference), baseJudged.map((j) => j.preference)),
      grammatical: share(judged),
      baseGrammatical: share(baseJudged),
      repeats: mean(completions.map((c) => repeatedWords(splitTokens(c)))),
      rmScore: mean(await this.score([...prompts], completions)),
      baseRmScore: mean(await this.score([...prompts], base)),
      klPerSequence: kl,
      distinct: new Set(completions).size / completions.length,
      length: mean(completions.map((c) => this.tokens(c))),
      completions,
    };
  }

  /**
   * A pair for blind evaluation: a prompt of the pool, one completion by the base model and one by
   * the method (independent streams: two samples, as a person would be shown), on sides drawn at
   * random. Draw k uses the stream "blind-k" of the run seed, so a run draws the same pairs again.
   */
  async blindPair(name: MethodName): Promise<BlindDraft> {
    const trainer = this.trainer(name);
    if (!trainer || trainer.steps === 0) throw new Error(`${METHODS[name].title} has not trained yet: train it, then compare it blind`);
    this.blindDraws += 1;
    const rng = this.rng.fork(`blind-${this.blindDraws}`);
    const prompt = rng.pick(this.promptPool);
    const [base] = await sampleTexts(this.base, this.tokenizer, [prompt], rng.fork('base'));
    const [text] = await trainer.complete([prompt], rng.fork('method'));
    const methodSide = rng.next() < 0.5 ? 'left' : 'right';
    return {
      prompt,
      left: methodSide === 'left' ? text : base,
      right: methodSide === 'left' ? base : text,
      methodSide,
      method: name,
      steps: trainer.steps,
      draw: this.blindDraws,
    };
  }

  /** Fixed prompts completed by the base model and every method that has a trainer, scored by the current RM. */
  async strip(prompts: readonly string[]): Promise<StripRow[]> {
    const seed = hashSeed(this.rng.seed, 'strip');
    const base = await this.baseCompletions(prompts, seed);
    const names = [...this.trainers.keys()];
    const texts: string[][] = [];
    for (const name of names) texts.push(await this.trainer(name)!.complete(prompts, new Rng(seed)));
    const all = [base, ...texts].flat();
    const scores = await this.score(all.map((_, i) => prompts[i % prompts.length]), all);
    const n = prompts.length;
    return prompts.map((prompt, i) => ({
      prompt,
      base: base[i],
      baseScore: scores[i],
      baseBrokenAt: brokenAt(prompt, base[i]),
      methods: names.map((method, m) => ({ method, text: texts[m][i], score: scores[(m + 1) * n + i], brokenAt: brokenAt(prompt, texts[m][i]) })),
    }));
  }

  // ---- the reward-KL plane ("is RL necessary?", plane.ts) ----

  /**
   * A method on the plane without an annotator: its KL and mean RM score on `prompts`, from the
   * same stream `evaluate` completes them with (so both give the same completions and RM score).
   */
  async measure(name: MethodName, prompts: readonly string[], seedName = 'gold'): Promise<{ steps: number; kl: number; rmScore: number }> {
    const trainer = this.trainer(name);
    if (!trainer) throw new Error(`${METHODS[name].title} has no trainer to measure`);
    const completions = await trainer.complete(prompts, new Rng(hashSeed(this.rng.seed, seedName)));
    const kl = trainer.analyticKl ?? (trainer.policy ? await klOnSamples(trainer.policy, this.base, this.tokenizer, prompts, completions) : 0);
    return { steps: trainer.steps, kl, rmScore: mean(await this.score([...prompts], completions)) };
  }

  /**
   * Draws the next chunk (SAMPLE_CHUNK rows) of best-of-N's candidates on the plane: `maxN` base
   * samples per prompt, from the stream "plane" of the run seed, kept for the run (the base model
   * never changes). True once every candidate is drawn; then bestOfNSweep can run.
   */
  async bestOfNCandidates(prompts: readonly string[], maxN: number): Promise<boolean> {
    const key = `${maxN}\u0000${prompts.join('\u0001')}`;
    if (this.planeSet?.key !== key) this.planeSet = { key, prompts: [...prompts], maxN, texts: [], rng: this.rng.fork('plane'), scores: [], gold: new WeakMap() };
    const set = this.planeSet;
    const rows = prompts.length * maxN;
    if (set.texts.length < rows) {
      const next = Array.from({ length: Math.min(SAMPLE_CHUNK, rows - set.texts.length) }, (_, i) => prompts[Math.floor((set.texts.length + i) / maxN)]);
      set.texts.push(...(await sampleTexts(this.base, this.tokenizer, next, set.rng)));
    }
    return set.texts.length >= rows;
  }

  /**
   * Best-of-N on the plane for each of `ns` (at most the candidates drawn per prompt), in slices: each
   * call scores the next SAMPLE_CHUNK candidates (whole prompts, so one prompt's candidates are all
   * scored by the same reward model) and returns null; the call after the last slice returns the
   * sweep: the reward model picks among the first N candidates of each prompt (plane.ts
   * nestedBestOfN), y is the pick's mean gold score under `annotator`, and its mean RM score; KL is
   * log N - (N - 1)/N. The next call starts a new sweep with the reward model of then.
   */
  async bestOfNSweep(ns: readonly number[], annotator: SimulatedAnnotator | null): Promise<{ n: number; kl: number; goldScore: number | null; rmScore: number }[] | null> {
    const set = this.planeSet;
    if (!set || set.texts.length < set.prompts.length * set.maxN) throw new Error('best-of-N candidates are not drawn yet (bestOfNCandidates)');
    const rowPrompts = set.texts.map((_, i) => set.prompts[Math.floor(i / set.maxN)]);
    if (set.scores.length < set.texts.length) {
      const rows = Math.max(1, Math.floor(SAMPLE_CHUNK / set.maxN)) * set.maxN;
      const from = set.scores.length;
      set.scores.push(...(await this.score(rowPrompts.slice(from, from + rows), set.texts.slice(from, from + rows))));
      return null;
    }
    const flat = set.scores;
    set.scores = [];
    const rows = <T>(xs: readonly T[]) => set.prompts.map((_, p) => xs.slice(p * set.maxN, (p + 1) * set.maxN));
    const scores = rows(flat);
    const rm = nestedBestOfN(scores, scores, ns);
    let golds = annotator ? set.gold.get(annotator) : undefined; // the texts are fixed: judged once per annotator
    if (annotator && !golds) set.gold.set(annotator, (golds = set.texts.map((t, i) => annotator.judge(rowPrompts[i], t).gold)));
    const gold = golds ? nestedBestOfN(scores, rows(golds), ns) : null;
    return ns.map((n, i) => ({ n, kl: bestOfNKl(n), goldScore: gold ? gold[i] : null, rmScore: rm[i] }));
  }

  dispose(): void {
    this.resetMethods();
    this.rm.dispose();
  }

  /** Frees the base model too (a run that owns it: the worker's). */
  disposeWithBase(): void {
    this.dispose();
    disposeParams(this.base.params);
  }
}
