// Best-of-N reranking (rejection sampling), the "is RL necessary?" baseline of Stiennon et al. 2020
// ("Learning to summarize from human feedback") and Nakano et al. 2021 (WebGPT): sample N
// completions per prompt from a fixed policy, score them with the reward model, keep the best.
// No weights change. Its distance from the policy has a closed form,
//   KL(best-of-N || policy) = log N - (N - 1) / N,
// the formula of Stiennon et al. 2020 (appendix) and of Hilton & Gao's note "Measuring Goodhart's
// law" (2022); Beirami et al. 2024 show it is an upper bound, near the true KL when no single
// completion is likely.
// It puts best-of-N on the same reward-vs-KL chart as PPO and DPO (prototype 1 did this).
import type { Tokenizer } from '../data/tokenizer';
import type { Rng } from '../math/rng';
import type { Gpt } from '../model/gpt';
import { sampleCompletions } from '../model/sample';
import type { Scorer } from './methods/types';
import { completionText } from './sequences';

export type { Scorer };


export interface BestOfNOptions {
  /** Candidates per prompt. */
  n: number;
  rng: Rng;
  /** Softmax temperature of the candidates; the KL formula assumes 1 (the policy's own distribution). */
  temperature?: number;
  /** Defaults to the model's maxNewTokens. */
  maxNewTokens?: number;
  /** Rows (prompt x candidate) per sampling call, to bound memory. Part of the recipe: the rng
   *  stream is drawn chunk by chunk, so another value gives other (equally valid) samples. */
  maxBatchRows?: number;
}

/** Enough rows to keep a batched forward efficient without large attention tensors. */
export const DEFAULT_MAX_BATCH_ROWS = 256;

export interface BestOfNChoice {
  prompt: string;
  /** The N candidates, in sampling order. */
  candidates: string[];
  scores: number[];
  /** Index of the best candidate: the first one with the highest score. */
  bestIndex: number;
  best: string;
  bestScore: number;
}

export interface BestOfNResult {
  choices: BestOfNChoice[];
  /** Analytic KL(best-of-N || policy) per prompt, in nats: bestOfNKl(n). */
  kl: number;
}

/** KL of the best-of-n distribution from the sampling policy, in nats: log n - (n - 1) / n. */
export function bestOfNKl(n: number): number {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`best-of-n needs an integer n >= 1, got ${n}`);
  return Math.log(n) - (n - 1) / n;
}

/** Index of the first maximum; NaN scores never win. */
function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best] || Number.isNaN(xs[best])) best = i;
  return best;
}

/** Best of `opts.n` samples from `policy` for each prompt, by `scorer`. The same rng seed gives the same result. */
export async function bestOfN(
  policy: Gpt,
  tokenizer: Tokenizer,
  prompts: readonly string[],
  scorer: Scorer,
  opts: BestOfNOptions,
): Promise<BestOfNResult> {
  const { n, rng } = opts;
  const kl = bestOfNKl(n);
  const maxRows = opts.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS;

  // 1. Each prompt n times in a row: row p * n + k is candidate k of prompt p.
  const rowPrompts = prompts.flatMap((p) => Array<string>(n).fill(p));
  const rowIds = prompts.flatMap((p) => {
    const ids = tokenizer.encodePrompt(p);
    return Array.from({ length: n }, () => ids);
  });

  // 2. Sample, in chunks of at most maxRows rows, from one rng stream.
  const texts: string[] = [];
  for (let start = 0; start < rowIds.length; start += maxRows) {
    const s = await sampleCompletions(policy, rowIds.slice(start, start + maxRows), {
      rng,
      temperature: opts.temperature,
      maxNewTokens: opts.maxNewTokens,
    });
    texts.push(...s.completions.map((c) => completionText(tokenizer, c)));
  }

  // 3. Score every candidate in one call.
  const scores = rowPrompts.length === 0 ? [] : await scorer(rowPrompts, texts);
  if (scores.length !== texts.length) throw new RangeError(`the scorer returned ${scores.length} scores for ${texts.length} completions`);

  // 4. Keep the best per prompt.
  const choices = prompts.map((prompt, p) => {
    const candidates = texts.slice(p * n, (p + 1) * n);
    const own = scores.slice(p * n, (p + 1) * n);
    const bestIndex = argmax(own);
    return { prompt, candidates, scores: own, bestIndex, best: candidates[bestIndex], bestScore: own[bestIndex] };
  });
  return { choices, kl };
}
