// npm run bench: speed figures as JSON lines, one per measurement, for tools to parse:
//   {"where":"node","backend":"wasm","what":"train_step","ms":12.3,"runs":5}
// ms is the median over `runs` timed runs after warm-up (rm_refit, ~30 s each: one run after one
// warm-up unless --runs is given). Options: --backend wasm|cpu, --runs N, --only NAME[,NAME].
// Random-initialised weights are used where the work does not depend on them: such a model
// almost never emits EOS, so `sample` always produces the full 12 tokens.
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from '../lib/config/model';
import { DEFAULT_PRETRAIN } from '../lib/config/pretrain';
import { generateCorpus, generatePrompts } from '../lib/data/corpus';
import { checkCompletion } from '../lib/data/grammar';
import { Tokenizer } from '../lib/data/tokenizer';
import { Rng } from '../lib/math/rng';
import { median } from '../lib/math/stats';
import { createGpt, type Gpt } from '../lib/model/gpt';
import { lmLoss } from '../lib/model/lm';
import { AdamW } from '../lib/model/optim';
import { disposeParams } from '../lib/model/params';
import { makeWindows } from '../lib/model/pretrain';
import { sampleCompletions } from '../lib/model/sample';
import { cloneGpt, ensureScalarHead } from '../lib/model/heads';
import { DEFAULT_PPO } from '../lib/config/ppo';
import { DEFAULT_REWARD } from '../lib/config/reward';
import { PpoTrainer, type Scorer } from '../lib/rl/ppo';
import { RewardModel } from '../lib/rl/reward-model';
import { parseArgs } from './args';
import { initNodeBackend, type NodeBackend } from './node-backend';

interface BenchContext {
  model: Gpt;
  tokenizer: Tokenizer;
  rng: Rng;
}

/** A benchmark prepares its state and returns the operation to time, plus a clean-up. */
type Bench = (ctx: BenchContext) => { run: () => Promise<void>; dispose: () => void };

const TRAIN_BATCH = 32; // the train_step: 32 windows of contextLength tokens
const SAMPLE_ROLLOUTS = 64; // a PPO iteration's rollouts
const GRAMMAR_ITEMS = 10_000; // the target: 10,000 completions a second, so ms <= 1000

export const BENCHES: Record<string, Bench> = {
  train_step: ({ model, tokenizer, rng }) => {
    const docs = generateCorpus(2000, 1).map((t) => tokenizer.encodeDocument(t));
    const width = model.config.contextLength + 1;
    const batch = tf.tensor2d(makeWindows(docs, TRAIN_BATCH, width, rng), [TRAIN_BATCH, width], 'int32');
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
  // A PPO iteration as the issue defines it: 64 rollouts, 2 epochs (DEFAULT_PPO), critic from a reward model.
  ppo_iteration: ({ model, tokenizer, rng }) => {
    const rm = cloneGpt(model, 'bench-rm');
    ensureScalarHead(rm, 'bench-rm');
    const scorer: Scorer = async (_p, completions) => completions.map((c) => c.length / 10);
    const ppo = new PpoTrainer(model, rm, scorer, tokenizer, DEFAULT_PPO, rng, generatePrompts(500, 3));
    return {
      run: async () => {
        await ppo.step();
      },
      dispose: () => {
        ppo.dispose();
        disposeParams(rm.params);
      },
    };
  },
  // A full reward-model refit (DEFAULT_REWARD: 200 steps of 16 pairs) on 50 labels.
  rm_refit: ({ model, tokenizer, rng }) => {
    const texts = generateCorpus(100, 4);
    const prompts = generatePrompts(50, 5);
    const pairs = prompts.map((prompt, i) => ({ prompt, chosen: afterPrompt(texts[2 * i]), rejected: afterPrompt(texts[2 * i + 1]), weight: 1 }));
    const rm = new RewardModel(model, tokenizer, DEFAULT_REWARD, rng);
    return {
      run: async () => {
        await rm.refit(pairs);
      },
      dispose: () => rm.dispose(),
    };
  },
  // The gold judge's grammar check (pure JS, the same on every backend) on 10,000 completions:
  // half corpus reviews after their prompt, half the same with one word doubled (a reward hack,
  // which takes the slow path that explains the rejection).
  grammar_check_10k: ({ rng }) => {
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
  sample: ({ model, tokenizer, rng }) => {
    const prompts = generatePrompts(SAMPLE_ROLLOUTS, 2).map((p) => tokenizer.encodePrompt(p));
    return {
      run: async () => {
        await sampleCompletions(model, prompts, { rng });
      },
      dispose: () => {},
    };
  },
};

/** A review's words after its first two, as a completion text. */
function afterPrompt(review: string): string {
  return review.split(' ').slice(2).join(' ') || 'great.';
}

/** Fewer timed runs for the slow benchmarks, so `npm run bench` stays within a few minutes. */
const RUNS: Record<string, number> = { rm_refit: 1 };

const args = parseArgs(process.argv.slice(2), { backend: 'string', runs: 'int', only: 'string', warmup: 'int' });
const runs = Math.max(5, args.runs ?? 5); // the default: median of at least 5 timed runs
const warmup = args.warmup ?? 2;
const backends: NodeBackend[] = args.backend ? [args.backend as NodeBackend] : ['wasm', 'cpu'];
const names = args.only ? args.only.split(',') : Object.keys(BENCHES);
for (const n of names) if (!BENCHES[n]) throw new Error(`unknown benchmark "${n}"; known: ${Object.keys(BENCHES).join(', ')}`);

const tokenizer = new Tokenizer();
const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, vocabSize: tokenizer.size };
for (const requested of backends) {
  const backend = await initNodeBackend(requested);
  for (const what of names) {
    const model = createGpt(config, new Rng(1), 'bench');
    const { run, dispose } = BENCHES[what]({ model, tokenizer, rng: new Rng(2) });
    const n = args.runs ?? RUNS[what] ?? runs;
    for (let i = 0; i < (RUNS[what] ? Math.min(1, warmup) : warmup); i++) await run();
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    dispose();
    disposeParams(model.params);
    console.log(JSON.stringify({ where: 'node', backend, what, ms: Math.round(median(times) * 10) / 10, runs: n }));
  }
}
