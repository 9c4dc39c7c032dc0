// The worker's session: it owns every tensor of the run (the base model, the reward model and a
// refit in progress, PPO's policy, frozen reference and critic) and the run's random streams. Each
// method is one unit of work that the controller schedules between messages; none of them keeps
// the worker busy for longer than about one PPO iteration. The loop state lives in this one object,
// as minGPT's Trainer holds its own (CONVENTIONS.md habit 8), and `dispose` frees all of it.
import { DEFAULT_PPO, type PpoConfig } from '../lib/config/ppo';
import { DEFAULT_REWARD, type RewardConfig } from '../lib/config/reward';
import { DEFAULT_RUN_CONFIG } from '../lib/config/url';
import { generatePrompts } from '../lib/data/corpus';
import { Tokenizer, UnknownWordsError } from '../lib/data/tokenizer';
import { hashSeed, Rng } from '../lib/math/rng';
import { logSigmoid, sigmoid } from '../lib/math/stats';
import type { Gpt } from '../lib/model/gpt';
import { loadGpt, ModelLoadError, WEIGHTS_FILE } from '../lib/model/io';
import { countParams, disposeParams } from '../lib/model/params';
import { sampleCompletions } from '../lib/model/sample';
import { winRate, type SimulatedAnnotator } from '../lib/rl/annotators';
import { disagreementPair, mostDifferentPair } from '../lib/rl/pair-selection';
import { PpoTrainer, type PpoIterationResult } from '../lib/rl/ppo';
import { comparisonPairs, type Label } from '../lib/rl/preferences';
import { RewardModel } from '../lib/rl/reward-model';
import { completionIds, completionText } from '../lib/rl/sequences';
import type {
  BackendName,
  InitRequest,
  LabelEdit,
  ModelInfo,
  PairOffer,
  PairSettings,
  RewardMetrics,
  RewardSettings,
  StripRow,
  Verdict,
} from '../lib/protocol/messages';
import { chooseBackend, errorText } from './backend';
import { BackgroundRefit } from './refit';

export const MODEL_FILE = 'model.json';
export const VOCAB_FILE = 'vocab.json';
export const DEFAULT_SEED = 1;
/** More prompts than this in one request is a bug in the caller, not a wish. */
export const MAX_PROMPTS = 256;

/** Prompts PPO's rollouts and varied pairs draw from (the corpus's openings). */
const PROMPT_POOL_SIZE = 2000;
/** Held-out prompts of the gold evaluation: enough for a readable curve, cheap (one batch). */
export const GOLD_PROMPTS = 64;
/** A fixed seed for the gold prompts, so every run is judged on the same set. */
const GOLD_PROMPT_SEED = 99;
/** The sample strip's prompts: typical openings of the corpus. */
export const STRIP_PROMPTS = ['the pizza was', 'the hotel was', 'what a', 'we loved'];
/** A tie label counts as matched when the RM's P(A > B) is within 0.5 +- this (RewardModel.accuracy). */
const TIE_BAND = 0.1;


/** Fetches one file of the model folder; throws a message naming the file, the URL and the status. */
async function fetchFile(folder: string, name: string): Promise<Response> {
  const url = new URL(name, folder).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new ModelLoadError(`could not fetch ${name} from ${url} (${errorText(e)})`);
  }
  if (!response.ok) throw new ModelLoadError(`could not fetch ${name} from ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  return response;
}

async function fetchJson(folder: string, name: string): Promise<unknown> {
  const text = await (await fetchFile(folder, name)).text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ModelLoadError(`${name} is not valid JSON (does the URL serve the model folder?)`);
  }
}

/** Base-model completions kept for the whole session (normalisation, strip, gold reference). */
interface BaseSet {
  prompts: string[];
  completions: string[];
}

function quoteAll(words: readonly string[]): string {
  return words.map((w) => `"${w}"`).join(', ');
}

/** P(A > B) and "agreed" of one labelled pair from normalised scores. */
function judge(label: Label, scoreA: number, scoreB: number, std: number): { p: number; agreed: boolean | null } {
  const p = sigmoid((scoreA - scoreB) * std); // back to raw units, as RewardModel.accuracy
  switch (label.choice) {
    case 'A':
      return { p, agreed: p > 0.5 };
    case 'B':
      return { p, agreed: p < 0.5 };
    case 'tie':
      return { p, agreed: Math.abs(p - 0.5) <= TIE_BAND };
    case 'skip':
      return { p, agreed: null };
  }
}

export class Session {
  /** The reward model PPO scores with; replaced when a background refit finishes. */
  private rm: RewardModel;
  private ppo: PpoTrainer | null = null;
  private ppoConfig: PpoConfig;
  /** The labels the reward model learns from, in order (a mirror of the page's list). */
  private labels: Label[] = [];
  private rewardReports = 0;
  private normSet: BaseSet | null = null;
  private stripBase: BaseSet | null = null;
  private goldBase: BaseSet | null = null;
  private refits = 0;
  readonly rewardConfig: RewardConfig;
  readonly promptPool: readonly string[];
  private readonly pairRng: Rng;
  private readonly sampleRng: Rng;
  /** The simulated annotator's draws (ties and label noise). */
  readonly annotatorRng: Rng;

  private constructor(
    readonly backend: BackendName,
    readonly reasons: Record<BackendName, string>,
    readonly modelInfo: ModelInfo,
    private readonly base: Gpt,
    readonly tokenizer: Tokenizer,
    private readonly rng: Rng,
    ppo: PpoConfig,
    readonly rewardSettings: RewardSettings,
    readonly pairSettings: PairSettings,
  ) {
    this.ppoConfig = ppo;
    this.rewardConfig = {
      ...DEFAULT_REWARD,
      incrementalSteps: rewardSettings.incrementalSteps,
      refitSteps: rewardSettings.refitSteps,
      ensembleSize: rewardSettings.ensembleSize,
    };
    // Only prompts the shipped vocabulary can read: the corpus code may be newer than the model.
    this.promptPool = generatePrompts(PROMPT_POOL_SIZE, rng.fork('prompts').seed).filter((p) => this.usable(p));
    if (this.promptPool.length === 0) throw new ModelLoadError("no corpus prompt can be written in the model's vocabulary (model and code out of step?)");
    this.rm = new RewardModel(base, tokenizer, this.rewardConfig, rng.fork('reward-model'));
    this.pairRng = rng.fork('pairs');
    this.sampleRng = rng.fork('base-samples');
    this.annotatorRng = rng.fork('annotator');
  }

  /** Chooses the backend and loads the base model; throws a readable Error on any failure. */
  static async open(init: InitRequest): Promise<Session> {
    const seed = init.seed ?? DEFAULT_SEED;
    const rng = new Rng(seed); // throws a RangeError for a seed outside [0, 2^32)
    // The backend starts while the files download.
    const [choice, files] = await Promise.all([
      chooseBackend(init.backend),
      Promise.all([
        fetchJson(init.modelUrl, MODEL_FILE),
        fetchFile(init.modelUrl, WEIGHTS_FILE).then((r) => r.arrayBuffer()),
        fetchJson(init.modelUrl, VOCAB_FILE),
      ]).catch((e: unknown) => {
        throw new ModelLoadError(`Could not load the base model: ${errorText(e)}`);
      }),
    ]);
    const [manifest, weights, vocab] = files;
    let tokenizer: Tokenizer;
    let loaded: ReturnType<typeof loadGpt>;
    try {
      tokenizer = Tokenizer.fromVocab(vocab);
      // All checks run before a tensor is made: a failure here leaks nothing.
      loaded = loadGpt(manifest, weights, 'base');
    } catch (e) {
      throw new ModelLoadError(`Could not load the base model: ${errorText(e)}`);
    }
    const { model } = loaded;
    if (tokenizer.size !== model.config.vocabSize) {
      disposeParams(model.params);
      throw new ModelLoadError(`Could not load the base model: ${VOCAB_FILE} has ${tokenizer.size} tokens, ${MODEL_FILE} expects ${model.config.vocabSize}`);
    }
    const validationLoss = loaded.manifest.meta.validationLoss;
    const modelInfo: ModelInfo = {
      parameters: countParams(model.params),
      vocabSize: tokenizer.size,
      config: model.config,
      validationLoss: typeof validationLoss === 'number' && Number.isFinite(validationLoss) ? validationLoss : null,
    };
    try {
      return new Session(
        choice.backend,
        choice.reasons,
        modelInfo,
        model,
        tokenizer,
        rng,
        init.ppo ?? DEFAULT_PPO,
        init.reward ?? DEFAULT_RUN_CONFIG.reward,
        init.pairs ?? DEFAULT_RUN_CONFIG.pairs,
      );
    } catch (e) {
      disposeParams(model.params);
      throw e;
    }
  }

  get config(): PpoConfig {
    return this.ppoConfig;
  }

  /** PPO iterations since the last reset. */
  get iteration(): number {
    return this.ppo?.iteration ?? 0;
  }

  get labelCount(): number {
    return this.labels.filter((l) => l.choice !== 'skip').length;
  }

  get allLabels(): readonly Label[] {
    return this.labels;
  }

  // ---- prompts and sampling ----

  private usable(prompt: string): boolean {
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

  /** Why a label cannot be learned (unknown words, longer than the context), or null. */
  checkLabel(label: Label): string | null {
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

  /** One completion per prompt from the base model at `temperature`. */
  async sample(prompts: readonly string[], temperature: number): Promise<string[]> {
    if (prompts.length === 0 || prompts.length > MAX_PROMPTS) throw new RangeError(`expected 1 to ${MAX_PROMPTS} prompts, got ${prompts.length}`);
    const ids = prompts.map((p) => this.tokenizer.encodePrompt(p));
    const samples = await sampleCompletions(this.base, ids, { rng: this.sampleRng, temperature });
    return samples.completions.map((c) => this.tokenizer.decode(c));
  }

  private async sampleTexts(model: Gpt, prompts: readonly string[], rng: Rng, temperature = 1): Promise<string[]> {
    const s = await sampleCompletions(model, prompts.map((p) => this.tokenizer.encodePrompt(p)), { rng, temperature });
    return s.completions.map((c) => completionText(this.tokenizer, c));
  }

  /** The model new pairs and the strip sample from: the policy once PPO has started (online RLHF). */
  private get currentPolicy(): Gpt {
    return this.ppo?.policy ?? this.base;
  }

  /**
   * A pair to label: `candidates` completions of one prompt from the current policy, then the most
   * different two, or where the ensemble disagrees most once it has learned something
   * (pair-selection.ts; prototype2's lab.py).
   */
  async makePair(id: number, epoch: number, fixedPrompt: string | null): Promise<PairOffer> {
    const prompt = fixedPrompt ?? this.pairRng.pick(this.promptPool);
    const k = this.pairSettings.candidates;
    const texts = await this.sampleTexts(this.currentPolicy, Array(k).fill(prompt), this.pairRng, this.ppoConfig.temperature);
    let strategy: PairOffer['strategy'] = 'diverse';
    let pick = mostDifferentPair(texts);
    if (this.rm.ensembleSize >= 2 && this.labelCount > 0) {
      const { members } = await this.rm.score(Array(k).fill(prompt), texts);
      pick = disagreementPair(texts, texts.map((_, i) => members.map((m) => m[i])));
      strategy = 'disagree';
    }
    return {
      id,
      epoch,
      prompt,
      a: texts[pick[0]],
      b: texts[pick[1]],
      from: this.ppo ? 'policy' : 'base',
      iteration: this.iteration,
      strategy,
      candidates: k,
    };
  }

  // ---- the reward model ----

  /** Base-model samples the RM's scores are normalised on (mean 0, std 1), drawn once. */
  private async normalisationSet(): Promise<BaseSet> {
    if (!this.normSet) {
      const rng = this.rng.fork('normalisation');
      const prompts = Array.from({ length: this.rewardConfig.normSamples }, () => rng.pick(this.promptPool));
      this.normSet = { prompts, completions: await this.sampleTexts(this.base, prompts, rng) };
    }
    return this.normSet;
  }

  private async renormalise(rm = this.rm): Promise<void> {
    const set = await this.normalisationSet();
    await rm.setNormalisation(set.prompts, set.completions);
  }

  private async scorePairs(labels: readonly Label[]): Promise<{ a: number[]; b: number[] }> {
    if (labels.length === 0) return { a: [], b: [] };
    const prompts = labels.map((l) => l.prompt);
    const { scores } = await this.rm.score([...prompts, ...prompts], [...labels.map((l) => l.completionA), ...labels.map((l) => l.completionB)]);
    return { a: scores.slice(0, labels.length), b: scores.slice(labels.length) };
  }

  /**
   * Incremental Bradley-Terry steps for new labels (RewardModel.update): each label gets its own
   * steps, whose batches hold it plus replayed older labels, as if the labels had come one by one
   * (a batch of labels that arrived together must not get fewer steps than the same labels
   * given slowly: an undertrained RM is what PPO exploits).
   */
  private async learnLabels(fresh: readonly Label[]): Promise<void> {
    const all = comparisonPairs(this.labels);
    if (all.length === 0) return;
    for (const label of fresh) {
      const pairs = comparisonPairs([label]); // one pair, or both orders of a tie
      if (pairs.length > 0) await this.rm.update(all, pairs);
    }
  }

  /**
   * New labels: the RM's prediction on each pair, an incremental update, its verdict after, and
   * the RM's fit to all labels. Labels the RM cannot read are refused (their ids in `refused`).
   */
  async learn(fresh: readonly Label[]): Promise<{ verdicts: Verdict[]; metrics: RewardMetrics }> {
    const before = await this.scorePairs(fresh);
    const stdBefore = this.rm.normalisation.std;
    this.labels.push(...fresh);
    await this.learnLabels(fresh);
    await this.renormalise();
    const after = await this.scorePairs(fresh);
    const { mean, std } = this.rm.normalisation;
    const raw = (s: number) => s * std + mean;
    const verdicts = fresh.map((label, i): Verdict => {
      const was = judge(label, before.a[i], before.b[i], stdBefore);
      const now = judge(label, after.a[i], after.b[i], std);
      return {
        labelId: label.id,
        choice: label.choice,
        pBefore: was.p,
        pAfter: now.p,
        scoreA: raw(after.a[i]),
        scoreB: raw(after.b[i]),
        agreedBefore: was.agreed,
        agreedAfter: now.agreed,
      };
    });
    return { verdicts, metrics: await this.rewardMetrics('labels') };
  }

  /** Applies an edit. Returns whether the RM should be refit (it cannot unlearn a label). */
  async edit(edit: LabelEdit): Promise<{ refit: boolean }> {
    switch (edit.op) {
      case 'change': {
        const i = this.labels.findIndex((l) => l.id === edit.id);
        if (i < 0) throw new Error(`no label with id "${edit.id}"`);
        if (this.labels[i].choice === edit.choice) return { refit: false };
        const changed = { ...this.labels[i], choice: edit.choice };
        this.labels[i] = changed;
        // Learn the new answer at once; a refit then forgets the old one.
        await this.learnLabels([changed]);
        await this.renormalise();
        return { refit: true };
      }
      case 'remove': {
        const before = this.labels.length;
        this.labels = this.labels.filter((l) => l.id !== edit.id);
        return { refit: this.labels.length !== before && this.labelCount > 0 };
      }
      case 'replace': {
        const ids = new Set<string>();
        for (const l of edit.labels) {
          if (ids.has(l.id)) throw new Error(`two labels share the id "${l.id}"`);
          ids.add(l.id);
          const why = this.checkLabel(l);
          if (why) throw new Error(`label "${l.id}" cannot be used: ${why}`);
        }
        this.labels = edit.labels.slice();
        this.rm.reset(); // the old labels' influence goes; a refit learns the new list
        return { refit: this.labelCount > 0 };
      }
    }
  }

  /** Mean Bradley-Terry loss and accuracy of the RM over all labels, in one scoring pass. */
  async rewardMetrics(cause: RewardMetrics['cause']): Promise<RewardMetrics> {
    const pairs = comparisonPairs(this.labels);
    let loss = NaN;
    let accuracy = NaN;
    if (pairs.length > 0) {
      const prompts = pairs.map((p) => p.prompt);
      const { scores } = await this.rm.score([...prompts, ...prompts], [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)]);
      const std = this.rm.normalisation.std;
      const n = pairs.length;
      let nll = 0;
      let right = 0;
      let total = 0;
      pairs.forEach((p, i) => {
        const d = (scores[i] - scores[n + i]) * std; // raw units: the Bradley-Terry logit
        const prob = sigmoid(d);
        const ok = p.weight < 1 ? Math.abs(prob - 0.5) <= TIE_BAND : d > 0;
        nll -= p.weight * logSigmoid(d);
        right += p.weight * (ok ? 1 : 0);
        total += p.weight;
      });
      loss = nll / total;
      accuracy = right / total;
    }
    this.rewardReports += 1;
    return { update: this.rewardReports, labels: this.labelCount, loss, accuracy, steps: this.rm.steps, cause };
  }

  /** A full refit from the base model on the labels now held, run in slices by the controller. */
  startRefit(): BackgroundRefit {
    this.refits += 1;
    return new BackgroundRefit(this.base, this.tokenizer, this.rewardConfig, this.rng.fork(`refit-${this.refits}`), this.labels);
  }

  /** Makes a finished refit the reward model: learns labels that came during it, then swaps. */
  async adoptRefit(refit: BackgroundRefit): Promise<RewardMetrics> {
    const fresh = this.labels.filter((l) => !refit.labelIds.has(l.id));
    const shadow = refit.take();
    const all = comparisonPairs(this.labels);
    const pairs = comparisonPairs(fresh);
    for (let i = 0; i < pairs.length; i += shadow.config.incrementalBatchSize) {
      await shadow.update(all, pairs.slice(i, i + shadow.config.incrementalBatchSize));
    }
    await this.renormalise(shadow);
    this.rm.dispose();
    this.rm = shadow;
    return this.rewardMetrics('refit');
  }

  // ---- PPO ----

  /** Hyperparameters for the next iteration (the trainer reads them when it starts one). */
  setPpoConfig(patch: Partial<PpoConfig>): void {
    this.ppoConfig = { ...this.ppoConfig, ...patch };
    this.ppo?.updateConfig(patch);
  }

  /** One PPO iteration; the first one builds the trainer (policy and reference copy the base model). */
  async ppoIteration(): Promise<PpoIterationResult> {
    if (!this.ppo) {
      await this.renormalise();
      // The scorer follows this.rm, so a refit swapped in later is the one PPO optimises.
      const scorer = async (prompts: string[], completions: string[]) => (await this.rm.score(prompts, completions)).scores;
      this.ppo = new PpoTrainer(this.base, this.rm.primary, scorer, this.tokenizer, this.ppoConfig, this.rng.fork('ppo'), this.promptPool);
    }
    return this.ppo.step();
  }

  /** Back to the base policy: drops the policy, critic and their optimizers. */
  resetPolicy(): void {
    this.ppo?.dispose();
    this.ppo = null;
  }

  /** Fixed prompts, base vs current policy from the same random stream, scored by the current RM. */
  async strip(): Promise<StripRow[]> {
    const seed = hashSeed(this.rng.seed, 'strip');
    if (!this.stripBase) this.stripBase = { prompts: STRIP_PROMPTS, completions: await this.sampleTexts(this.base, STRIP_PROMPTS, new Rng(seed)) };
    const base = this.stripBase.completions;
    const policy = this.ppo ? await this.sampleTexts(this.ppo.policy, STRIP_PROMPTS, new Rng(seed)) : base;
    const { scores } = await this.rm.score([...STRIP_PROMPTS, ...STRIP_PROMPTS], [...base, ...policy]);
    const n = STRIP_PROMPTS.length;
    return STRIP_PROMPTS.map((prompt, i) => ({ prompt, base: base[i], policy: policy[i], baseScore: scores[i], policyScore: scores[n + i] }));
  }

  /**
   * Gold evaluation: the policy and the base model complete the same held-out prompts from the same
   * random stream (so before any PPO step the win rate is exactly 1/2), judged by the annotator's
   * hidden score.
   */
  async gold(annotator: SimulatedAnnotator): Promise<{ goldScore: number; baseGoldScore: number; winRate: number; prompts: number }> {
    const seed = hashSeed(this.rng.seed, 'gold');
    if (!this.goldBase) {
      const prompts = generatePrompts(GOLD_PROMPTS * 2, GOLD_PROMPT_SEED).filter((p) => this.usable(p)).slice(0, GOLD_PROMPTS);
      this.goldBase = { prompts, completions: await this.sampleTexts(this.base, prompts, new Rng(seed)) };
    }
    const { prompts, completions: base } = this.goldBase;
    const policy = this.ppo ? await this.sampleTexts(this.ppo.policy, prompts, new Rng(seed)) : base;
    const baseScores = base.map((t) => annotator.goldScore(t));
    const policyScores = policy.map((t) => annotator.goldScore(t));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { goldScore: mean(policyScores), baseGoldScore: mean(baseScores), winRate: winRate(policyScores, baseScores), prompts: prompts.length };
  }

  dispose(): void {
    this.resetPolicy();
    this.rm.dispose();
    disposeParams(this.base.params);
  }
}
