// The reward-KL plane ("Is RL necessary?"): best-of-N for every N from one set of candidates
// (against a brute-force best-of-N per N), the plane's bookkeeping as evaluations arrive, the
// sentence written from the numbers (leads, ties, one method, none), the run's best-of-N sweep and
// measure on a small model, and the controller's plane job (one chunk per turn, then a plane event).
import { afterAll, describe, expect, it } from 'vitest';
import { PLANE_NS, firstBest, mergePlane, nestedBestOfN, type PlanePoint } from '../../src/lib/rl/plane';
import { leadSentence, planeNumber, standings } from '../../src/ui/state/plane-text';
import { SimulatedAnnotator } from '../../src/lib/rl/annotators';
import { bestOfNKl } from '../../src/lib/rl/best-of-n';
import { Rng } from '../../src/lib/math/rng';
import { disposeParams } from '../../src/lib/model/params';
import { smallRun, smallSettings, tok } from '../support/run';
import { smallWordGpt } from '../support/tiny';

const TITLES = { ppo: 'PPO', grpo: 'GRPO', rloo: 'RLOO', dpo: 'DPO', sft: 'SFT', 'best-of-n': 'Best-of-N' };

function pt(method: PlanePoint['method'], kind: PlanePoint['kind'], steps: number, kl: number, y: number, n: number | null = null): PlanePoint {
  return { method, kind, n, steps, kl, y };
}

describe('best-of-N from nested candidates', () => {
  it('firstBest is the first maximum of the first n scores, NaN never wins', () => {
    expect(firstBest([1, 3, 3, 5], 3)).toBe(1);
    expect(firstBest([1, 3, 3, 5], 4)).toBe(3);
    expect(firstBest([NaN, 2, 1], 3)).toBe(1);
    expect(firstBest([4], 1)).toBe(0);
    expect(() => firstBest([1, 2], 3)).toThrow(RangeError);
  });

  it('equals a brute-force best-of-N per N on random scores, and its RM score never falls as N grows', () => {
    const rng = new Rng(11);
    const prompts = 9;
    const maxN = 16;
    const scores = Array.from({ length: prompts }, () => Array.from({ length: maxN }, () => Math.round(rng.next() * 20) / 4)); // ties on purpose
    const values = Array.from({ length: prompts }, () => Array.from({ length: maxN }, () => rng.next() * 10 - 5));
    const ns = [1, 2, 4, 8, 16];
    const got = nestedBestOfN(scores, values, ns);
    ns.forEach((n, i) => {
      // the reference: for each prompt, scan the first n candidates for the highest score, keep the first
      let total = 0;
      for (let p = 0; p < prompts; p++) {
        let best = -Infinity;
        let value = NaN;
        for (let k = 0; k < n; k++) {
          if (scores[p][k] > best) {
            best = scores[p][k];
            value = values[p][k];
          }
        }
        total += value;
      }
      expect(got[i]).toBeCloseTo(total / prompts, 12);
    });
    // N = 1 is the plain first sample
    expect(got[0]).toBeCloseTo(values.reduce((a, row) => a + row[0], 0) / prompts, 12);
    const rm = nestedBestOfN(scores, scores, ns);
    for (let i = 1; i < rm.length; i++) expect(rm[i]).toBeGreaterThanOrEqual(rm[i - 1]);
  });

  it('refuses mismatched rows', () => {
    expect(() => nestedBestOfN([], [], [1])).toThrow(RangeError);
    expect(() => nestedBestOfN([[1, 2]], [[1]], [1])).toThrow(RangeError);
  });
});

describe('the plane as evaluations arrive', () => {
  it('extends an online path, replaces a re-measured step, and replaces the points of the other methods', () => {
    let plane = mergePlane([], [pt('best-of-n', 'rerank', 0, 0, 0, 1), pt('best-of-n', 'rerank', 0, 0.31, 0.2, 2), pt('ppo', 'online', 2, 0.4, 0.1)]);
    plane = mergePlane(plane, [pt('best-of-n', 'rerank', 0, 0, 0.05, 1), pt('ppo', 'online', 4, 0.9, 0.3), pt('dpo', 'offline', 60, 1.2, -0.5)]);
    plane = mergePlane(plane, [pt('ppo', 'online', 4, 1.0, 0.35), pt('dpo', 'offline', 60, 1.1, -0.4)]);
    expect(plane).toEqual([
      pt('best-of-n', 'rerank', 0, 0, 0.05, 1), // the whole sweep was replaced
      pt('ppo', 'online', 2, 0.4, 0.1),
      pt('ppo', 'online', 4, 1.0, 0.35), // re-measured at step 4: one point there
      pt('dpo', 'offline', 60, 1.1, -0.4),
    ]);
  });

  it('keeps a path in step order whatever order its points come in', () => {
    const plane = mergePlane([pt('grpo', 'online', 6, 2, 1)], [pt('grpo', 'online', 2, 1, 0.5), pt('rloo', 'online', 2, 1, 0.4)]);
    expect(plane.map((p) => `${p.method}@${p.steps}`)).toEqual(['grpo@2', 'grpo@6', 'rloo@2']);
  });
});

describe('the sentence, from the numbers', () => {
  it('names the leader, its KL, the runner-up and the gap, as the table rounds them', () => {
    const points = [
      pt('best-of-n', 'rerank', 0, bestOfNKl(16), 0.561, 16),
      pt('best-of-n', 'rerank', 0, bestOfNKl(64), 1.336, 64),
      pt('ppo', 'online', 2, 1.0, 0.2),
      pt('ppo', 'online', 10, 4.53, 1.774), // PPO's latest point stands for PPO
      pt('sft', 'offline', 60, 0.25, -3.4),
    ];
    const s = leadSentence(points, 'gold', TITLES);
    expect(s).toBe('PPO is ahead: gold score 1.77 at KL 4.53 nats, 0.43 above best-of-64 (1.34 at KL 3.17 nats), spending 1.36 nats more KL.');
    expect(planeNumber(bestOfNKl(64))).toBe('3.17');
  });

  it('says when the leader needs less KL, on the RM axis', () => {
    const s = leadSentence([pt('best-of-n', 'rerank', 0, bestOfNKl(4), 0.9, 4), pt('grpo', 'online', 8, 5.2, 0.4)], 'rm', TITLES);
    expect(s).toBe('Best-of-4 is ahead: RM score 0.90 at KL 0.64 nats, 0.50 above GRPO (0.40 at KL 5.20 nats), with 4.56 nats less KL.');
  });

  it('calls methods level when they are equal as shown, and says how far the rest are behind', () => {
    const s = leadSentence([pt('ppo', 'online', 4, 4.5, 1.401), pt('rloo', 'online', 4, 4.6, 1.399), pt('dpo', 'offline', 60, 1.5, 0.9)], 'gold', TITLES);
    expect(s).toBe('PPO and RLOO are level at gold score 1.40 (PPO at KL 4.50 nats, RLOO at KL 4.60 nats), 0.50 above DPO.');
    const all = leadSentence([pt('ppo', 'online', 4, 4.5, 1), pt('sft', 'offline', 60, 0.3, 1)], 'rm', TITLES);
    expect(all).toBe('SFT and PPO are level at RM score 1.00 (SFT at KL 0.30 nats, PPO at KL 4.50 nats).'); // the one with less KL first
  });

  it('never prints -0.00 (a sampled KL estimate can be a hair below 0)', () => {
    expect(planeNumber(-0.001)).toBe('0.00');
    expect(planeNumber(-0.005)).toBe('-0.01');
    const s = leadSentence([pt('best-of-n', 'rerank', 0, bestOfNKl(32), 0.72, 32), pt('sft', 'offline', 4, -0.002, -2.77)], 'gold', TITLES);
    expect(s).toBe('Best-of-32 is ahead: gold score 0.72 at KL 2.50 nats, 3.49 above SFT (-2.77 at KL 0.00 nats), spending 2.50 nats more KL.');
  });

  it('calls best-of-1 the base model it is, and starts the sentence with a capital', () => {
    const s = leadSentence([pt('best-of-n', 'rerank', 0, 0, 0.27, 1), pt('best-of-n', 'rerank', 0, bestOfNKl(2), -2.19, 2), pt('grpo', 'online', 24, 0.28, -2.06)], 'gold', TITLES);
    expect(s).toBe('The base model (best-of-1) is ahead: gold score 0.27 at KL 0.00 nats, 2.33 above GRPO (-2.06 at KL 0.28 nats), with 0.28 nats less KL.');
  });

  it('speaks of a single method, and of none', () => {
    expect(leadSentence([pt('dpo', 'offline', 60, 1.52, -0.3)], 'rm', TITLES)).toBe('Only DPO has been measured so far: RM score -0.30 at KL 1.52 nats; tick another method to compare.');
    expect(leadSentence([], 'gold', TITLES)).toMatch(/^No method has been measured yet/);
  });

  it("best-of-N stands by its best N, the fewest candidates among equals", () => {
    const [bon] = standings([pt('best-of-n', 'rerank', 0, bestOfNKl(8), 0.7, 8), pt('best-of-n', 'rerank', 0, bestOfNKl(32), 0.7, 32), pt('best-of-n', 'rerank', 0, bestOfNKl(64), 0.6, 64)]);
    expect(bon.n).toBe(8);
  });
});

describe('the run measures the plane', () => {
  const base = smallWordGpt(tok.size, 7);
  afterAll(() => disposeParams(base.params));

  it('draws best-of-N candidates a chunk at a time, then sweeps N: KL in closed form, N = 1 the plain sample, RM score never falling', async () => {
    const run = smallRun(3, smallSettings(), base);
    const annotator = new SimulatedAnnotator({ preset: 'positive', noise: 0, tieRule: 'random' });
    const pair = await run.makePair('the pizza was');
    await run.learn([{ id: 'a', prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice: 'A', source: 'simulated', time: 0 }]);
    const prompts = run.promptPool.slice(0, 10); // 10 x 64 = 640 rows: three chunks of at most 256
    await expect(run.bestOfNSweep(PLANE_NS, null)).rejects.toThrow(/not drawn/);
    const chunks: boolean[] = [];
    for (let i = 0; i < 5 && !chunks.includes(true); i++) chunks.push(await run.bestOfNCandidates(prompts, 64));
    expect(chunks).toEqual([false, false, true]);
    // scoring comes in slices of whole prompts (4 x 64 rows): 640 rows take three slices, then the sweep
    const sweepAll = async (a: SimulatedAnnotator | null) => {
      let slices = 0;
      for (;;) {
        const r = await run.bestOfNSweep(PLANE_NS, a);
        if (r) return { r, slices };
        slices += 1;
      }
    };
    const { r: sweep, slices } = await sweepAll(annotator);
    expect(slices).toBe(3);
    expect(sweep.map((s) => s.n)).toEqual([...PLANE_NS]);
    sweep.forEach((s) => expect(s.kl).toBeCloseTo(Math.log(s.n) - (s.n - 1) / s.n, 12));
    for (let i = 1; i < sweep.length; i++) expect(sweep[i].rmScore).toBeGreaterThanOrEqual(sweep[i - 1].rmScore - 1e-6);
    expect(sweep.every((s) => s.goldScore !== null && Number.isFinite(s.goldScore))).toBe(true);
    // the same candidates are re-scored, not re-drawn: a second sweep agrees; without an annotator there is no gold
    const { r: again } = await sweepAll(null);
    expect(again.map((s) => s.rmScore)).toEqual(sweep.map((s) => s.rmScore));
    expect(again.every((s) => s.goldScore === null)).toBe(true);
    expect(await run.bestOfNCandidates(prompts, 64)).toBe(true);
    run.dispose();
  });

  it("measure gives a trained method's KL and RM score exactly as evaluate does (same prompts, same stream)", async () => {
    const run = smallRun(4, smallSettings(), base);
    const annotator = new SimulatedAnnotator({ preset: 'positive', noise: 0, tieRule: 'random' });
    const pair = await run.makePair(null);
    await run.learn([{ id: 'a', prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice: 'B', source: 'simulated', time: 0 }]);
    run.setEnabled(['ppo']);
    await run.step('ppo');
    const prompts = run.promptPool.slice(0, 6);
    const m = await run.measure('ppo', prompts);
    const e = await run.evaluate('ppo', annotator, prompts);
    expect(m.steps).toBe(1);
    expect(m.rmScore).toBeCloseTo(e.rmScore, 6);
    expect(m.kl).toBeCloseTo(e.klPerSequence, 6);
    await expect(run.measure('dpo', prompts)).rejects.toThrow(/no trainer/);
    run.dispose();
  });
});
