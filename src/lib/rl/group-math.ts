// Per-group arithmetic of the group-baseline methods (GRPO, RLOO) on flat arrays: B = groups * G
// rewards, row g * G + i being completion i of group g (TRL's RepeatSampler order).
// - groupAdvantages follows TRL's GRPOTrainer._generate_and_score_completions: A = r - group mean,
//   divided by (std + 1e-4) with std per group ('group', Shao et al. 2024), over the whole batch
//   ('batch', PPO Lite) or not at all ('none', Dr. GRPO); std is Bessel-corrected, as TRL's nanstd.
// - leaveOneOutAdvantages follows TRL's RLOOTrainer (Ahmadian et al. 2024): A_i = r_i - mean of the
//   other G - 1 rewards of its group, optionally normalised over the batch.
// - Both report the share of rows whose scaling std is zero (TRL's frac_reward_zero_std): such a
//   group carries no learning signal.
// tests/unit/group-math.test.ts checks these against plain nested-array loops.
import { mean, std } from '../math/stats';

/** Added to the std before dividing, as TRL does (1e-4, not the whitening 1e-8: std can be 0). */
export const ADVANTAGE_STD_EPS = 1e-4;
/** A std at most this is zero (torch.isclose's default atol, as TRL's is_std_zero). */
export const ZERO_STD_ATOL = 1e-8;

/** What GRPO divides r - group mean by (TRL's scale_rewards). */
export type ScaleRewards = 'group' | 'batch' | 'none';

export interface GroupAdvantages {
  /** One per row. */
  advantages: number[];
  /** Share of rows whose std (the one scale_rewards names; per group under 'none') is zero. */
  fracZeroStd: number;
}

/** The G rewards of each group, in row order. */
export function groupsOf(rewards: readonly number[], groupSize: number): number[][] {
  if (groupSize < 2 || rewards.length % groupSize !== 0) {
    throw new RangeError(`${rewards.length} rewards do not split into groups of ${groupSize} (at least 2)`);
  }
  return Array.from({ length: rewards.length / groupSize }, (_, g) => rewards.slice(g * groupSize, (g + 1) * groupSize));
}

function zeroStdShare(stds: readonly number[]): number {
  return mean(stds.map((s) => (Math.abs(s) <= ZERO_STD_ATOL ? 1 : 0)));
}

/** GRPO's advantages: (r - group mean) / (std + eps), std as `scale` says. */
export function groupAdvantages(rewards: readonly number[], groupSize: number, scale: ScaleRewards): GroupAdvantages {
  const groups = groupsOf(rewards, groupSize);
  const groupStd = groups.map((g) => std(g, 1));
  const batchStd = std(rewards, 1);
  const rowStd = groups.flatMap((_, g) => Array<number>(groupSize).fill(scale === 'batch' ? batchStd : groupStd[g]));
  const centred = groups.flatMap((g) => {
    const m = mean(g);
    return g.map((r) => r - m);
  });
  const advantages = scale === 'none' ? centred : centred.map((a, i) => a / (rowStd[i] + ADVANTAGE_STD_EPS));
  return { advantages, fracZeroStd: zeroStdShare(rowStd) };
}

/** RLOO's advantages: r_i minus the mean of the other rewards of its group; with `normalize`,
 *  then (A - mean) / (std + eps) over the batch (TRL's normalize_advantages). */
export function leaveOneOutAdvantages(rewards: readonly number[], groupSize: number, normalize: boolean): GroupAdvantages {
  const groups = groupsOf(rewards, groupSize);
  const loo = groups.flatMap((g) => {
    const total = g.reduce((a, r) => a + r, 0);
    return g.map((r) => r - (total - r) / (groupSize - 1));
  });
  const fracZeroStd = zeroStdShare(groups.map((g) => std(g, 1)));
  if (!normalize) return { advantages: loo, fracZeroStd };
  const m = mean(loo);
  const s = std(loo, 1);
  return { advantages: loo.map((a) => (a - m) / (s + ADVANTAGE_STD_EPS)), fracZeroStd };
}
