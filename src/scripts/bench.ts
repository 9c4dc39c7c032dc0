// npm run bench: speed figures as JSON lines, one per measurement, for tools to parse:
//   {"where":"node","backend":"wasm","what":"train_step","ms":12.3,"runs":5}
// ms is the median over `runs` timed runs after warm-up. Options: --backend wasm|cpu, --runs N, --only NAME.
// Random-initialised weights are used where the work does not depend on them: such a model
// almost never emits EOS, so `sample` always produces the full 12 tokens.
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from '../lib/config/model';
import { DEFAULT_PRETRAIN } from '../lib/config/pretrain';
import { generateCorpus, generatePrompts } from '../lib/data/corpus';
import { Tokenizer } from '../lib/data/tokenizer';
import { Rng } from '../lib/math/rng';
import { createGpt, type Gpt } from '../lib/model/gpt';
import { lmLoss } from '../lib/model/lm';
import { AdamW } from '../lib/model/optim';
import { disposeParams } from '../lib/model/params';
import { makeWindows } from '../lib/model/pretrain';
import { sampleCompletions } from '../lib/model/sample';
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

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const args = parseArgs(process.argv.slice(2), { backend: 'string', runs: 'int', only: 'string', warmup: 'int' });
const runs = Math.max(5, args.runs ?? 5);
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
    for (let i = 0; i < warmup; i++) await run();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    dispose();
    disposeParams(model.params);
    console.log(JSON.stringify({ where: 'node', backend, what, ms: Math.round(median(times) * 10) / 10, runs }));
  }
}
