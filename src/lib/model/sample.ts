// Batched sampling with temperature and a KV cache. Probabilities are read back once per step and
// the token is drawn in JS from the run's seeded Rng, so the same seed gives the same samples on
// every backend (tf.multinomial's seeding differs between backends). PAD is never sampled; a row
// that has produced EOS is finished and is fed PAD from then on.
import * as tf from '@tensorflow/tfjs-core';
import { disposeCache, forward, forwardStep, type Gpt, type KvCache } from './gpt';
import { EOS_ID, PAD_ID } from '../data/tokenizer';
import type { Rng } from '../math/rng';

export interface SampleOptions {
  rng: Rng;
  /** Softmax temperature; 1 samples the model's own distribution (PPO's rollouts must). */
  temperature?: number;
  /** Defaults to the model's maxNewTokens. */
  maxNewTokens?: number;
  /** false recomputes the whole prefix every step: slower, used to test the cache. */
  useCache?: boolean;
}

export interface Samples {
  /** Each row's completion ids: EOS included when produced, no PAD. */
  completions: number[][];
  /** Whether each row produced EOS within the budget. */
  finished: boolean[];
  /** Prompts left-padded to this width precede the completions in `ids`. */
  promptWidth: number;
  /** [B, promptWidth + N] row-major: left-padded prompt, then completion right-padded with PAD. */
  ids: Int32Array;
  /** Sequence length of `ids` (promptWidth + the longest completion). */
  width: number;
  /**
   * [B, width - promptWidth] row-major: log p of each sampled token at the sampling temperature,
   * under the sampling model, as it was drawn (0 on PAD). PPO and GRPO start from these instead of
   * running the policy over the rollout again (issue 11: one forward fewer per iteration).
   */
  logProbs: Float32Array;
  /** [B, width - promptWidth]: entropy (nats) of each drawn token's distribution, 0 on PAD. */
  entropy: Float32Array;
}

/** Left-pads id lists with PAD to a common width: row-major Int32Array [B, width]. */
export function leftPad(rows: readonly number[][], width = Math.max(...rows.map((r) => r.length))): Int32Array {
  const out = new Int32Array(rows.length * width).fill(PAD_ID);
  rows.forEach((r, b) => {
    if (r.length > width) throw new RangeError(`row of ${r.length} tokens exceeds width ${width}`);
    out.set(r, b * width + width - r.length);
  });
  return out;
}

/** One token per row, with its log-probability and the entropy of the distribution it came from. */
interface Draw {
  tokens: Int32Array;
  logProbs: Float64Array;
  entropy: Float64Array;
}

/** Draws one token per row from logits [B, V] at `temperature`; PAD is never drawn. */
async function drawTokens(logits: tf.Tensor2D, temperature: number, rng: Rng): Promise<Draw> {
  const probs = tf.tidy(() => tf.softmax(tf.div(logits, temperature), -1));
  const [B, V] = probs.shape;
  const p = (await probs.data()) as Float32Array;
  probs.dispose();
  const draw: Draw = { tokens: new Int32Array(B), logProbs: new Float64Array(B), entropy: new Float64Array(B) };
  for (let b = 0; b < B; b++) {
    const row = p.subarray(b * V, (b + 1) * V);
    let h = 0;
    for (let v = 0; v < V; v++) if (row[v] > 0) h -= row[v] * Math.log(row[v]);
    const drawable = row.slice();
    drawable[PAD_ID] = 0;
    const token = rng.categorical(drawable);
    draw.tokens[b] = token;
    draw.logProbs[b] = Math.log(row[token]); // under the full softmax, as completionLogProbs scores it
    draw.entropy[b] = h;
  }
  return draw;
}

/** Samples one completion per prompt (prompts are id lists starting with EOS). */
export async function sampleCompletions(model: Gpt, prompts: readonly number[][], opts: SampleOptions): Promise<Samples> {
  const temperature = opts.temperature ?? 1;
  const maxNew = opts.maxNewTokens ?? model.config.maxNewTokens;
  const useCache = opts.useCache ?? true;
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  const B = prompts.length;
  const P = Math.max(...prompts.map((p) => p.length));
  if (P + maxNew > model.config.contextLength) {
    throw new RangeError(`prompt (${P}) + new tokens (${maxNew}) exceed the context of ${model.config.contextLength}`);
  }
  const promptIds = leftPad(prompts, P);
  const completions: number[][] = prompts.map(() => []);
  const logProbs: number[][] = prompts.map(() => []);
  const entropy: number[][] = prompts.map(() => []);
  const finished = new Array<boolean>(B).fill(false);
  // Full prefix (prompt + tokens so far) per row, for the no-cache path.
  const prefix: number[][] = prompts.map((_, b) => Array.from(promptIds.subarray(b * P, (b + 1) * P)));

  let cache: KvCache | undefined;
  let logits = tf.tidy(() => {
    const out = forward(model, tf.tensor2d(promptIds, [B, P], 'int32'), { withCache: useCache, logitsFrom: P - 1 });
    if (out.cache) cache = { keys: out.cache.keys.map((t) => tf.keep(t)), values: out.cache.values.map((t) => tf.keep(t)), real: tf.keep(out.cache.real) };
    return tf.squeeze(out.logits!, [1]) as tf.Tensor2D; // (B, V)
  });
  try {
    for (let t = 0; t < maxNew; t++) {
      const draw = await drawTokens(logits, temperature, opts.rng);
      const next = draw.tokens;
      logits.dispose();
      for (let b = 0; b < B; b++) {
        if (finished[b]) next[b] = PAD_ID;
        else {
          completions[b].push(next[b]);
          logProbs[b].push(draw.logProbs[b]);
          entropy[b].push(draw.entropy[b]);
          if (next[b] === EOS_ID) finished[b] = true;
        }
        prefix[b].push(next[b]);
      }
      if (finished.every(Boolean) || t === maxNew - 1) break;
      if (cache) {
        const old: KvCache = cache;
        const step = tf.tidy(() => {
          const r = forwardStep(model, tf.tensor2d(next, [B, 1], 'int32'), old);
          return { logits: r.logits, keys: r.cache.keys, values: r.cache.values, real: r.cache.real };
        });
        disposeCache(old);
        cache = { keys: step.keys, values: step.values, real: step.real };
        logits = step.logits;
      } else {
        const T = prefix[0].length;
        logits = tf.tidy(() => {
          const out = forward(model, tf.tensor2d(prefix.flat(), [B, T], 'int32'), { logitsFrom: T - 1 });
          return tf.squeeze(out.logits!, [1]) as tf.Tensor2D;
        });
      }
    }
  } finally {
    if (cache) disposeCache(cache);
    if (!logits.isDisposed) logits.dispose();
  }
  const N = Math.max(1, ...completions.map((c) => c.length));
  const width = P + N;
  const ids = new Int32Array(B * width).fill(PAD_ID);
  const [logProbGrid, entropyGrid] = [new Float32Array(B * N), new Float32Array(B * N)];
  for (let b = 0; b < B; b++) {
    ids.set(promptIds.subarray(b * P, (b + 1) * P), b * width);
    ids.set(completions[b], b * width + P);
    logProbGrid.set(logProbs[b], b * N);
    entropyGrid.set(entropy[b], b * N);
  }
  return { completions, finished, promptWidth: P, ids, width, logProbs: logProbGrid, entropy: entropyGrid };
}
