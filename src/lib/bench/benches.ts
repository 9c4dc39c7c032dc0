// The benchmark table (issue 11): each entry prepares its state from the shipped base model and
// returns the operation to time. Both drivers import this one table: `npm run bench` in Node
// (src/scripts/bench.ts) and the bench page's worker in Chromium (src/bench/worker.ts), so Node
// and the browser time the same code, and that code is the page's own: the RL benches drive a
// `Run` (src/lib/rl/run.ts) built as the worker's session builds it, with the default settings,
// and call what the worker's controller calls (Run.step, Run.learn + Run.rewardFit, a RefitJob,
// Run.makePair). No DOM, no Node API: only tfjs-core and the library.
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_PRETRAIN } from '../config/pretrain';
import { DEFAULT_PAIRS, DEFAULT_REWARD_SETTINGS } from '../config/run';
import { generateCorpus, generatePrompts } from '../data/corpus';
import { checkCompletion } from '../data/grammar';
import type { Tokenizer } from '../data/tokenizer';
import { Rng } from '../math/rng';
import { median } from '../math/stats';
import type { Gpt } from '../model/gpt';
import { lmLoss } from '../model/lm';
import { AdamW } from '../model/optim';
import { makeWindows } from '../model/pretrain';
import { sampleCompletions } from '../model/sample';
import { SimulatedAnnotator } from '../rl/annotators';
import type { MethodName } from '../rl/methods/registry';
import type { Label } from '../rl/preferences';
import { defaultMethodConfigs, Run, runSettings, type RunSettings } from '../rl/run';

export interface BenchContext {
  /** The shipped base model, a fresh copy per bench: the driver disposes it after the bench. */
  model: Gpt;
  tokenizer: Tokenizer;
  /** Seed of the bench's run and draws (the same on every driver). */
  seed: number;
  /**
   * Only for the unit test, which checks that each bench runs and frees its tensors on a tiny
   * model in seconds: smaller run settings and label counts. The drivers never set these, so
   * every figure they print is the page's default settings (runSettings() with the defaults).
   */
  small?: { settings: RunSettings; learnedLabels: number; fitLabels: number };
}

/** A prepared benchmark: `run` is what is timed; `dispose` frees everything `prepare` made. */
export interface PreparedBench {
  run(): Promise<void>;
  dispose(): void;
}

export interface BenchSpec {
  /** One line: what one timed run does. */
  what: string;
  prepare(ctx: BenchContext): Promise<PreparedBench>;
  /** Timed runs when the driver is not told (default DEFAULT_RUNS). */
  runs?: number;
  /** Untimed runs first (default DEFAULT_WARMUP). */
  warmup?: number;
}

/** The rule: the median of at least 5 timed runs after warm-up. */
export const DEFAULT_RUNS = 5;
export const DEFAULT_WARMUP = 2;

const TRAIN_BATCH = 32; // a pretraining step: 32 windows of contextLength + 1 tokens
const SAMPLE_ROLLOUTS = 64; // a PPO iteration's rollouts
const GRAMMAR_ITEMS = 10_000; // the grammar target: 10,000 completions a second, so ms <= 1000
/** Labels the reward model has learned (one click at a time) before the RL benches: a trained RM's scores, not a zero head's. */
const RL_LABELS = 10;
/** Labels a refit and DPO train on: the README's experiments use 50. */
const FIT_LABELS = 50;
/** Distinct labelled pairs rm_update cycles through (a click each, each under a fresh id). */
const CLICK_POOL = 32;

/**
 * A run as the worker's session opens it (src/worker/session.ts): the default reward, pair and
 * method settings on the base model; `methods` are enabled.
 */
function openRun(ctx: BenchContext, methods: readonly MethodName[] = []): Run {
  const settings = ctx.small?.settings ?? runSettings(DEFAULT_REWARD_SETTINGS, DEFAULT_PAIRS, defaultMethodConfigs());
  const run = new Run(ctx.model, ctx.tokenizer, new Rng(ctx.seed), settings);
  run.setEnabled(methods);
  return run;
}

/**
 * `n` labels of base-model pairs by the simulated annotator (positive preset, 10 % noise, the
 * experiment's default), with ids `${tag}-i`: the labels a user would give in the first clicks.
 */
async function simulatedLabels(run: Run, n: number, tag: string): Promise<Label[]> {
  const rng = run.stream(`bench-labels-${tag}`);
  const prompts = Array.from({ length: n }, () => rng.pick(run.promptPool));
  const texts = await run.sampleBase([...prompts, ...prompts], 1);
  const annotator = new SimulatedAnnotator({ preset: 'positive', noise: 0.1, tieRule: 'random' });
  return prompts.map((prompt, i) => {
    const [a, b] = [texts[i], texts[n + i]];
    return { id: `${tag}-${i}`, prompt, completionA: a, completionB: b, choice: annotator.label(prompt, a, b, rng), source: 'simulated', time: 0 };
  });
}

/** A run whose reward model has learned `n` labels through Run.learn, as after n clicks in one go. */
async function runWithLearnedLabels(ctx: BenchContext, methods: readonly MethodName[] = []): Promise<Run> {
  const run = openRun(ctx, methods);
  await run.learn(await simulatedLabels(run, ctx.small?.learnedLabels ?? RL_LABELS, 'learned'));
  return run;
}

/** One online method's iteration through Run.step, as the worker's controller steps it. */
function methodStep(method: MethodName): BenchSpec['prepare'] {
  return async (ctx) => {
    const run = await runWithLearnedLabels(ctx, [method]);
    return {
      run: async () => {
        await run.step(method);
      },
      dispose: () => run.dispose(),
    };
  };
}

export const BENCHES = {
  // A pretraining step (npm run pretrain): AdamW on 32 windows of the corpus.
  train_step: {
    what: 'one pretraining AdamW step on 32 corpus windows of contextLength + 1 tokens',
    prepare: async ({ model, tokenizer, seed }) => {
      const docs = generateCorpus(2000, 1).map((t) => tokenizer.encodeDocument(t));
      const width = model.config.contextLength + 1;
      const batch = tf.tensor2d(makeWindows(docs, TRAIN_BATCH, width, new Rng(seed)), [TRAIN_BATCH, width], 'int32');
      const opt = new AdamW(model.params, { lr: DEFAULT_PRETRAIN.lr });
      return {
        run: async () => {
          await opt.step(() => lmLoss(model, batch));
        },
        dispose: () => {
          batch.dispose();
          opt.dispose();
        },
      };
    },
  },
  // Sampling 64 rollouts (a PPO iteration's) with the KV cache; the base model ends with EOS, so lengths vary.
  sample: {
    what: '64 completions of 64 prompts from the base model (KV-cache sampling, up to maxNewTokens)',
    prepare: async ({ model, tokenizer, seed }) => {
      const prompts = generatePrompts(SAMPLE_ROLLOUTS, 2).map((p) => tokenizer.encodePrompt(p));
      const rng = new Rng(seed);
      return {
        run: async () => {
          await sampleCompletions(model, prompts, { rng });
        },
        dispose: () => {},
      };
    },
  },
  // A PPO iteration as the issue defines it: DEFAULT_PPO (64 rollouts, 2 epochs over the whole
  // batch), scored by the run's reward model after 10 labels, the critic a copy of it.
  ppo_iteration: {
    what: 'Run.step("ppo"): 64 rollouts, reference/critic passes, RM scores, GAE, 2 epochs of policy and critic steps',
    prepare: methodStep('ppo'),
  },
  // GRPO's iteration at its defaults (8 prompts x 8 completions, 2 passes), same reward model.
  grpo_iteration: {
    what: 'Run.step("grpo"): 8 prompts x 8 completions, reference pass, RM scores, 2 passes of policy steps',
    prepare: methodStep('grpo'),
  },
  // A DPO step at its defaults (16 pairs) on 50 labels. The reference log-probs are cached per pair
  // the first time it is drawn: 8 warm-up steps fill most of the cache, so this is a steady step.
  dpo_step: {
    what: 'Run.step("dpo"): one AdamW step on 16 of 50 labelled pairs (reference log-probs cached)',
    warmup: 8,
    prepare: async (ctx) => {
      const run = openRun(ctx, ['dpo']);
      await run.edit({ op: 'replace', labels: await simulatedLabels(run, ctx.small?.fitLabels ?? FIT_LABELS, 'fit') });
      return {
        run: async () => {
          await run.step('dpo');
        },
        dispose: () => run.dispose(),
      };
    },
  },
  // What one click costs the worker (controller.ts learn()): Run.learn of the new label (its
  // prediction, DEFAULT_REWARD.incrementalSteps steps of 8 pairs, the verdict; the renormalisation
  // on 256 base samples is lazy, paid by the next method step) and the fit report (Run.rewardFit).
  rm_update: {
    what: 'one click: Run.learn([label]) (its prediction, 2 incremental steps of 8 pairs, the verdict; renormalisation waits for the next normalised score) + Run.rewardFit()',
    prepare: async (ctx) => {
      const run = await runWithLearnedLabels(ctx);
      const pool = await simulatedLabels(run, CLICK_POOL, 'click');
      let clicks = 0;
      return {
        run: async () => {
          const label = pool[clicks % pool.length];
          await run.learn([{ ...label, id: `click-${clicks++}` }]);
          await run.rewardFit();
        },
        dispose: () => run.dispose(),
      };
    },
  },
  // A full refit (DEFAULT_REWARD: 200 steps of 16 pairs, one member) on 50 labels: the job the
  // worker runs in slices (Run.startRefit, RefitJob.run); adoption (a renormalisation) not included.
  rm_refit: {
    what: 'a full reward-model refit: RefitJob of DEFAULT_REWARD.refitSteps steps of batchSize pairs on 50 labels, from the base model',
    runs: 3,
    warmup: 1,
    prepare: async (ctx) => {
      const run = openRun(ctx);
      await run.edit({ op: 'replace', labels: await simulatedLabels(run, ctx.small?.fitLabels ?? FIT_LABELS, 'fit') });
      return {
        run: async () => {
          const job = run.startRefit();
          try {
            await job.run(Infinity);
          } finally {
            job.dispose();
          }
        },
        dispose: () => run.dispose(),
      };
    },
  },
  // The K candidates of one pair (DEFAULT_PAIRS.candidates), as the worker makes each pair it
  // buffers: Run.makePair samples K completions of one prompt from the current policy (the base
  // model, before any training) and picks the most different two (fewer than warmupLabels labels).
  sample_candidates: {
    what: 'Run.makePair(): K = DEFAULT_PAIRS.candidates completions of one prompt, the most different two picked',
    prepare: async (ctx) => {
      const run = openRun(ctx);
      return {
        run: async () => {
          await run.makePair(null);
        },
        dispose: () => run.dispose(),
      };
    },
  },
  // The gold judge's grammar check (pure JS, the same on every backend) on 10,000 completions:
  // half corpus reviews after their prompt, half the same with one word doubled (a reward hack,
  // which takes the slow path that explains the rejection).
  grammar_check_10k: {
    what: 'the grammar check of 10,000 completions (pure JS)',
    prepare: async ({ seed }) => {
      const rng = new Rng(seed);
      const items = generateCorpus(GRAMMAR_ITEMS, 6).map((review, i) => {
        const words = review.split(' ');
        if (i % 2 === 1) words.splice(1 + rng.int(words.length - 1), 0, words[1]);
        return { prompt: words.slice(0, 2).join(' '), completion: words.slice(2).join(' ') };
      });
      return {
        run: async () => {
          for (const { prompt, completion } of items) checkCompletion(prompt, completion);
        },
        dispose: () => {},
      };
    },
  },
} satisfies Record<string, BenchSpec>;

export type BenchName = keyof typeof BENCHES;
export const BENCH_NAMES = Object.keys(BENCHES) as BenchName[];

/** The measurements of the real page in Chromium (src/scripts/bench-browser.ts), not of this table; `--only` names them too. */
export const PAGE_BENCHES = ['cold_start', 'history_heap'] as const;
export type PageBench = (typeof PAGE_BENCHES)[number];

export function isBenchName(name: string): name is BenchName {
  return Object.hasOwn(BENCHES, name);
}

/** Names from a comma list (--only), each checked; throws naming the known ones. */
export function parseBenchNames(list: string | undefined, known: readonly string[] = BENCH_NAMES): BenchName[] {
  if (!list) return known.filter(isBenchName);
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!isBenchName(n) || !known.includes(n)) throw new Error(`unknown benchmark "${n}"; known: ${known.join(', ')}`);
  return names as BenchName[];
}

export interface Timing {
  /** Median of the timed runs, ms, one decimal. */
  ms: number;
  runs: number;
  /** Every timed run, ms. */
  times: number[];
}

/**
 * Prepares `name`, runs it `warmup` times untimed and `runs` times timed, and disposes it. The
 * caller's `ctx.model` is left for the caller to dispose.
 */
export async function timeBench(name: BenchName, ctx: BenchContext, options: { runs?: number; warmup?: number } = {}): Promise<Timing> {
  const spec: BenchSpec = BENCHES[name];
  const runs = options.runs ?? spec.runs ?? DEFAULT_RUNS;
  const warmup = options.warmup ?? spec.warmup ?? DEFAULT_WARMUP;
  const bench = await spec.prepare(ctx);
  try {
    for (let i = 0; i < warmup; i++) await bench.run();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await bench.run();
      times.push(performance.now() - t0);
    }
    return { ms: Math.round(median(times) * 10) / 10, runs, times };
  } finally {
    bench.dispose();
  }
}

/** One bench line, as both drivers print it: {"where","backend","what","ms","runs","threads"}. */
export interface BenchLine {
  where: 'node' | 'chromium';
  backend: string;
  what: string;
  ms: number;
  runs: number;
  /** Threads the backend reports (wasm: its thread pool; cpu, webgl, webgpu: 1 JS thread). */
  threads: number;
}
