import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/lib/math/rng';
import { fitLinearBt, LinearBtEnsemble } from '../../src/lib/rl/linear-bt';

describe('linear Bradley-Terry ensemble', () => {
  const rng = new Rng(3);
  const truth = [2, -1, 0.5];
  const items = Array.from({ length: 120 }, () => truth.map(() => rng.normal()));
  const util = (x: number[]) => x.reduce((a, v, i) => a + v * truth[i], 0);
  const pairs = Array.from({ length: 60 }, (_, i) => [items[2 * i], items[2 * i + 1]]);
  const chosen = pairs.map(([a, b]) => (util(a) > util(b) ? a : b));
  const rejected = pairs.map(([a, b]) => (util(a) > util(b) ? b : a));

  it('Newton fit finds the direction of the true utility', () => {
    const theta = fitLinearBt(chosen.map((c, i) => c.map((v, j) => v - rejected[i][j])), chosen.map(() => 1), 0.1);
    const cos = theta.reduce((a, t, i) => a + t * truth[i], 0) / Math.hypot(...theta) / Math.hypot(...truth);
    expect(cos).toBeGreaterThan(0.95);
  });

  it('the gradient vanishes at the fit (L2-regularised optimum)', () => {
    const diffs = chosen.map((c, i) => c.map((v, j) => v - rejected[i][j]));
    const lambda = 1;
    const theta = fitLinearBt(diffs, diffs.map(() => 1), lambda);
    const grad = theta.map((t) => lambda * t);
    for (const x of diffs) {
      const p = 1 / (1 + Math.exp(-x.reduce((a, v, i) => a + v * theta[i], 0)));
      x.forEach((v, i) => (grad[i] -= (1 - p) * v));
    }
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-6);
  });

  it('members agree in sign on clear pairs and differ on bootstrap noise', () => {
    const ens = LinearBtEnsemble.fit(chosen, rejected, chosen.map(() => 1), new Rng(1));
    const scores = ens.scores([[3, -2, 0], [-3, 2, 0]]);
    expect(scores[0]).toHaveLength(5);
    for (let m = 0; m < 5; m++) expect(scores[0][m]).toBeGreaterThan(scores[1][m]);
    expect(new Set(scores[0]).size).toBeGreaterThan(1);
  });
});
