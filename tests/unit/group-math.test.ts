import { describe, expect, it } from 'vitest';
import { ADVANTAGE_STD_EPS, groupAdvantages, groupsOf, leaveOneOutAdvantages, type ScaleRewards } from '../../src/lib/rl/group-math';

// Plain nested-array references, written as loops straight from the papers' formulas.

function meanOf(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Bessel-corrected std, as torch.std and TRL's nanstd. */
function sampleStd(xs: readonly number[]): number {
  const m = meanOf(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

/** GRPO (Shao et al. 2024, TRL): (r_i - mean(group)) / (std + 1e-4), std from the group, the batch or none. */
function grpoReference(groups: number[][], scale: ScaleRewards): number[][] {
  const batchStd = sampleStd(groups.flat());
  return groups.map((g) => {
    const m = meanOf(g);
    const s = scale === 'group' ? sampleStd(g) : batchStd;
    return g.map((r) => (scale === 'none' ? r - m : (r - m) / (s + 1e-4)));
  });
}

/** RLOO (Ahmadian et al. 2024): A_i = r_i - (1 / (K - 1)) sum_{j != i} r_j. */
function rlooReference(groups: number[][]): number[][] {
  return groups.map((g) =>
    g.map((r, i) => {
      let others = 0;
      for (let j = 0; j < g.length; j++) if (j !== i) others += g[j];
      return r - others / (g.length - 1);
    }),
  );
}

const GROUPS = [
  [0.5, -1.2, 2.0, 0.1],
  [3, 3, 3, 3], // equal rewards: no signal
  [-0.4, 0.9, 0.9, -2.5],
];
const FLAT = GROUPS.flat();

function expectClose(actual: readonly number[], expected: readonly number[], digits = 10) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a, `row ${i}`).toBeCloseTo(expected[i], digits));
}

describe('GRPO group advantages', () => {
  for (const scale of ['group', 'batch', 'none'] as const) {
    it(`match the plain reference with scale_rewards '${scale}'`, () => {
      expectClose(groupAdvantages(FLAT, 4, scale).advantages, grpoReference(GROUPS, scale).flat());
    });
  }

  it('a group of equal rewards has advantage 0 and frac_reward_zero_std counts it', () => {
    for (const scale of ['group', 'none'] as const) {
      const { advantages, fracZeroStd } = groupAdvantages(FLAT, 4, scale);
      expectClose(advantages.slice(4, 8), [0, 0, 0, 0]);
      expect(fracZeroStd).toBeCloseTo(1 / 3, 12);
    }
    // 'batch' scales by the batch's std, so (as TRL's is_std_zero) only an all-equal batch counts
    expect(groupAdvantages(FLAT, 4, 'batch').fracZeroStd).toBe(0);
    expectClose(groupAdvantages(FLAT, 4, 'batch').advantages.slice(4, 8), [0, 0, 0, 0]);
    expect(groupAdvantages([1, 1, 1, 1], 2, 'batch').fracZeroStd).toBe(1);
  });

  it("'group' gives each group of distinct rewards mean 0 and std 1 (up to the 1e-4)", () => {
    const { advantages } = groupAdvantages(FLAT, 4, 'group');
    for (const g of [0, 2]) {
      const a = advantages.slice(g * 4, g * 4 + 4);
      expect(meanOf(a)).toBeCloseTo(0, 12);
      const s = sampleStd(GROUPS[g]);
      expect(sampleStd(a)).toBeCloseTo(s / (s + ADVANTAGE_STD_EPS), 12);
    }
  });

  it('groups must be whole and of at least 2', () => {
    expect(() => groupsOf([1, 2, 3], 2)).toThrow(RangeError);
    expect(() => groupsOf([1, 2], 1)).toThrow(RangeError);
    expect(groupsOf([1, 2, 3, 4], 2)).toEqual([[1, 2], [3, 4]]);
  });
});

describe('RLOO leave-one-out advantages', () => {
  it('match the plain reference: the baseline excludes the sample itself', () => {
    const { advantages } = leaveOneOutAdvantages(FLAT, 4, false);
    expectClose(advantages, rlooReference(GROUPS).flat());
    // by hand, first row: 0.5 - (-1.2 + 2.0 + 0.1) / 3 = 0.2
    expect(advantages[0]).toBeCloseTo(0.2, 12);
    // with K = 2 each advantage is the difference to the other sample
    expectClose(leaveOneOutAdvantages([1, 4], 2, false).advantages, [-3, 3]);
  });

  it('is K / (K - 1) times the centred reward, so each group sums to 0', () => {
    const { advantages } = leaveOneOutAdvantages(FLAT, 4, false);
    GROUPS.forEach((g, k) => {
      const m = meanOf(g);
      g.forEach((r, i) => expect(advantages[k * 4 + i]).toBeCloseTo((4 / 3) * (r - m), 12));
    });
  });

  it('a group of equal rewards has advantage 0 and frac_reward_zero_std counts it', () => {
    const { advantages, fracZeroStd } = leaveOneOutAdvantages(FLAT, 4, false);
    expectClose(advantages.slice(4, 8), [0, 0, 0, 0]);
    expect(fracZeroStd).toBeCloseTo(1 / 3, 12);
  });

  it("normalize_advantages: (A - batch mean) / (batch std + 1e-4), as TRL's", () => {
    const loo = rlooReference(GROUPS).flat();
    const m = meanOf(loo);
    const s = sampleStd(loo);
    expectClose(leaveOneOutAdvantages(FLAT, 4, true).advantages, loo.map((a) => (a - m) / (s + 1e-4)));
  });
});
