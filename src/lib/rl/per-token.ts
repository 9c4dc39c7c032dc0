// The per-token view of one completion (issue 10, "Per-token view"): for each token of a sample,
// the log-ratio log pi(y_t) - log pi_ref(y_t) against the frozen reference, the KL penalty the
// method charges for it (beta times its own estimator: PPO's penalty estimator in its per-token
// reward, k3 in GRPO's loss, k1 folded into RLOO's sequence reward) and the advantage the method's
// loss weighs the token with (PPO: GAE from the critic; GRPO: the group-normalised sequence
// advantage; RLOO: the leave-one-out advantage). The numbers are read from the trainer's own
// tensors by the very functions its training step calls (PpoTrainer.explain, GroupTrainer.explain
// reuse the step's measuring code); this file only shapes row 0 of those grids for the page.
import type { KlEstimator } from '../math/stats';
import { EOS_ID, type Tokenizer } from '../data/tokenizer';
import type { Grid } from './ppo-math';

/** How a method's advantage was measured. */
export type AdvantageKind = 'gae' | 'group' | 'leave-one-out';

/** The sample's group (GRPO, RLOO): its score first, then the other completions the policy wrote for the same prompt. */
export interface AdvantageGroup {
  /** Penalised scores (RLOO: minus beta x sequence KL as well), the sample's first. */
  rewards: number[];
  /** The other completions of the group, in order. */
  completions: string[];
  /** What the sample's reward is compared with: GRPO the group mean, RLOO the mean of the other rewards. */
  baseline: number;
  /** What the difference is divided by (GRPO's group std), or null when it is not divided. */
  spread: number | null;
}

/** Everything the per-token view shows of one completion, from the method's own tensors. */
export interface TokenBreakdown {
  prompt: string;
  completion: string;
  /** The method's steps when it was measured. */
  steps: number;
  /** The completion's tokens, as the tokenizer spells them ("<eos>" for the end). */
  tokens: string[];
  /** log pi(y_t | x, y_<t) - log pi_ref(y_t | x, y_<t) per token, at the method's sampling temperature. */
  logRatio: number[];
  /** The KL penalty the method charges per token: beta x estimator(t). */
  klPenalty: number[];
  /** The sum of logRatio: the sample's KL (k1) to the reference, in nats. */
  sequenceKl: number;
  /** The sum of klPenalty: what the method charges this sample for leaving the reference. */
  penaltyTotal: number;
  /** The per-token estimator the penalty uses (Schulman's k1, k2 or k3). */
  estimator: KlEstimator;
  /** The KL coefficient in force. */
  beta: number;
  /** The advantage each token is weighed with in the method's loss (before PPO's batch whitening). */
  advantage: number[];
  advantageKind: AdvantageKind;
  /** The reward model's score of the completion (normalised), and that less the truncation penalty. */
  score: number;
  penalisedScore: number;
  /** PPO's critic value before each token; null for methods without a critic. */
  values: number[] | null;
  /** GRPO's and RLOO's group; null for PPO. */
  group: AdvantageGroup | null;
}

/** Row `b` of a grid, its first `n` entries. */
export function gridRow(g: Grid, b: number, n: number): number[] {
  return Array.from(g.data.subarray(b * g.cols, b * g.cols + n));
}

/** The tokens of completion row 0 (mask > 0), spelled by the tokenizer. */
export function completionTokens(tokenizer: Tokenizer, ids: Int32Array, promptWidth: number, width: number, mask: Grid): string[] {
  const out: string[] = [];
  for (let t = 0; t < mask.cols; t++) {
    if (!mask.data[t]) break;
    const id = ids[promptWidth + t];
    out.push(id === EOS_ID ? '<eos>' : tokenizer.vocab[id]);
  }
  if (promptWidth + out.length > width) throw new RangeError('completion longer than its row');
  return out;
}

/** Sum of a list (the page's "in all" lines; the tests' sequence totals). */
export function total(xs: readonly number[]): number {
  return xs.reduce((a, x) => a + x, 0);
}

/** The rows every method's breakdown shares: the tokens, their log-ratios and penalties, and the two sums. */
export function tokenRows(
  prompt: string,
  completion: string,
  steps: number,
  tokens: string[],
  logRatio: number[],
  klPenalty: number[],
): Pick<TokenBreakdown, 'prompt' | 'completion' | 'steps' | 'tokens' | 'logRatio' | 'klPenalty' | 'sequenceKl' | 'penaltyTotal'> {
  return { prompt, completion, steps, tokens, logRatio, klPenalty, sequenceKl: total(logRatio), penaltyTotal: total(klPenalty) };
}
