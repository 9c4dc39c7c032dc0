// The reward-hacking detectors (src/lib/rl/symptoms.ts): each fires on the pattern its rule names,
// with the live numbers in its sentence, and stays quiet on honest progress and on noise below
// its threshold; the rollout metrics of PPO and of the group methods read into one shape.
import { describe, expect, it } from 'vitest';
import { hackingPreset, HACKING_PRESETS } from '../../src/lib/config/hacking';
import {
  DISTINCT_KEEP,
  GOLD_FALL,
  goldSymptoms,
  methodSymptoms,
  partingPoint,
  PROXY_RISE,
  rolloutPoint,
  rolloutSymptoms,
  SymptomTracker,
  WINDOW,
  type GoldPoint,
  type RolloutPoint,
} from '../../src/lib/rl/symptoms';

const gold = (steps: number, rmScore: number, goldScore: number, over: Partial<GoldPoint> = {}): GoldPoint => ({
  method: 'ppo',
  steps,
  rmScore,
  goldScore,
  baseRmScore: 0,
  baseGoldScore: 0,
  grammatical: 0.95,
  baseGrammatical: 0.95,
  klPerSequence: steps / 4,
  ...over,
});

const rollout = (step: number, over: Partial<RolloutPoint> = {}): RolloutPoint => ({ step, length: 8, distinct: 0.95, eos: 0.98, zeroStd: NaN, kl: 1, ...over });

describe('partingPoint', () => {
  it('marks the gold peak once gold has fallen GOLD_FALL below it while the proxy rose PROXY_RISE above it', () => {
    const points = [gold(2, 0.2, 1), gold(4, 0.6, 3), gold(6, 1.0, 2.5), gold(8, 1.4, 1.2), gold(10, 1.8, -2)];
    const p = partingPoint(points);
    expect(p).toEqual({ index: 1, steps: 4, seenIndex: 3, seenSteps: 8, proxyFrom: 0.6, proxyTo: 1.4, goldFrom: 3, goldTo: 1.2 });
  });

  it('needs both: a gold fall with a flat proxy, or a proxy rise with gold a little down, is no parting', () => {
    expect(partingPoint([gold(2, 1, 3), gold(4, 1 + PROXY_RISE / 2, 3 - 2 * GOLD_FALL)])).toBeNull();
    expect(partingPoint([gold(2, 0, 3), gold(4, 2 * PROXY_RISE, 3 - GOLD_FALL / 2)])).toBeNull();
    // honest progress: both climb together
    expect(partingPoint([0, 1, 2, 3, 4].map((i) => gold(2 * i, 0.4 * i, i)))).toBeNull();
  });

  it('measures from the best gold so far, not from the first evaluation, and skips evaluations before the method existed', () => {
    const points = [gold(0, NaN, NaN), gold(2, 0, 0), gold(4, 0.5, 4), gold(6, 1.2, 4 - GOLD_FALL)];
    expect(partingPoint(points)?.steps).toBe(4);
    expect(partingPoint(points)?.seenSteps).toBe(6);
  });
});

describe('goldSymptoms', () => {
  it("reuses hackingAlarms on the latest evaluation and adds the parting with its numbers", () => {
    const points = [gold(2, 0.1, 2), gold(4, 0.9, 3), gold(6, 1.6, -1, { goldScore: -1, baseGoldScore: 0.5 })];
    const s = goldSymptoms('ppo', points);
    expect(s.map((x) => x.kind)).toEqual(['proxy-gold', 'parting']);
    expect(s[0].message).toBe('RM score 0.00 → 1.60 (+1.60 over the base model) while the gold score fell from 0.50 to -1.00');
    expect(s[1].message).toBe('proxy and gold parted at iteration 4: from there to iteration 6 the RM score rose from 0.90 to 1.60 while the gold score fell from 3.00 to -1.00');
    expect(s[1].steps).toBe(6);
  });

  it('stay quiet with no evaluation and on honest progress', () => {
    expect(goldSymptoms('ppo', [])).toEqual([]);
    expect(goldSymptoms('ppo', [gold(2, 0.5, 1), gold(4, 1.2, 2.5)])).toEqual([]);
  });
});

describe('rolloutSymptoms', () => {
  const steady = Array.from({ length: 2 * WINDOW }, (_, i) => rollout(i + 1));

  it('are silent on steady rollouts and before two full windows exist', () => {
    expect(rolloutSymptoms('ppo', steady)).toEqual([]);
    expect(rolloutSymptoms('ppo', [rollout(1), rollout(2, { distinct: 0.1, length: 12, eos: 0 })])).toEqual([]);
  });

  it('see the distinct ratio collapse, with the two stretches named', () => {
    const rs = [...steady.slice(0, WINDOW), ...[4, 5, 6].map((i) => rollout(i, { distinct: 0.4 }))];
    const [s, ...rest] = rolloutSymptoms('ppo', rs);
    expect(rest).toEqual([]);
    expect(s.kind).toBe('distinct');
    expect(s.steps).toBe(6);
    expect(s.message).toBe('the distinct share of its rollouts fell from 95 % (iterations 1–3) to 40 % (iterations 4–6): it is collapsing onto a few completions the reward model likes');
    // just above the threshold: quiet
    const near = [...steady.slice(0, WINDOW), ...[4, 5, 6].map((i) => rollout(i, { distinct: 0.95 * DISTINCT_KEEP + 0.02 }))];
    expect(rolloutSymptoms('ppo', near)).toEqual([]);
  });

  it('see length drifting either way, run-on sentences, and groups without signal', () => {
    const longer = [...steady.slice(0, WINDOW), ...[4, 5, 6].map((i) => rollout(i, { length: 11.5, eos: 0.6 }))];
    const kinds = rolloutSymptoms('grpo', longer);
    expect(kinds.map((s) => s.kind)).toEqual(['length', 'eos']);
    expect(kinds[0].message).toMatch(/^its rollouts' mean length went from 8\.0 tokens \(iterations 1–3\) to 11\.5 \(iterations 4–6\), \+44 %/);
    expect(kinds[1].message).toMatch(/fell from 98 % \(iterations 1–3\) to 60 %/);
    const shorter = [...steady.slice(0, WINDOW), ...[4, 5, 6].map((i) => rollout(i, { length: 4 }))];
    expect(rolloutSymptoms('ppo', shorter)[0].message).toMatch(/-50 %/);
    const flat = [...steady.slice(0, WINDOW), ...[4, 5, 6].map((i) => rollout(i, { zeroStd: 0.75 }))];
    expect(rolloutSymptoms('grpo', flat).map((s) => [s.kind, s.message.slice(0, 3)])).toEqual([['zero-std', '75 ']]);
  });
});

describe('rolloutPoint', () => {
  it("reads PPO's completion/finished as the EOS share", () => {
    const r = rolloutPoint(3, { 'completion/length': 7.5, 'completion/finished': 0.9, 'completion/distinct': 0.8, 'objective/kl': 2 });
    expect(r?.point).toEqual({ step: 3, length: 7.5, distinct: 0.8, eos: 0.9, zeroStd: NaN, kl: 2 });
    expect(r?.names).toEqual({ length: 'completion/length', distinct: 'completion/distinct', eos: 'completion/finished', zeroStd: null });
  });

  it("reads GRPO's and RLOO's clipped ratio as 1 - EOS share, and GRPO's frac_reward_zero_std", () => {
    const r = rolloutPoint(1, { 'completions/mean_length': 9, 'completions/clipped_ratio': 0.25, 'completions/distinct': 0.5, frac_reward_zero_std: 0.125, 'kl/sequence': 4 });
    expect(r?.point.eos).toBe(0.75);
    expect(r?.point.zeroStd).toBe(0.125);
    expect(r?.point.kl).toBe(4);
    expect(r?.names.eos).toBe('1 − completions/clipped_ratio');
  });

  it('is null for a method that reports no rollouts (DPO, SFT)', () => {
    expect(rolloutPoint(1, { 'rewards/margins': 1, loss: 0.5 })).toBeNull();
  });
});

describe('methodSymptoms', () => {
  it("lists the worker's stops for that method only, after the detected symptoms", () => {
    const stops = [
      { kind: 'kl-guard' as const, method: 'ppo', steps: 9, message: 'KL guard: mean KL of the last 3 iterations is 13.1 nats, above the limit of 12' },
      { kind: 'rolled-back' as const, method: 'grpo', steps: 2, message: 'GRPO step rejected' },
    ];
    const s = methodSymptoms('ppo', [gold(2, 0, 0), gold(4, 1, -1)], [], stops);
    expect(s.map((x) => x.kind)).toEqual(['proxy-gold', 'kl-guard']); // gold fell 1 < GOLD_FALL: no parting yet
    expect(s[1].message).toMatch(/13\.1 nats/);
  });
});

describe('hacking presets', () => {
  it('provoke: beta 0 and fixed, no truncation penalty, 10 labels before training, for every online method', () => {
    const p = hackingPreset('provoke');
    expect(p.methods.ppo).toEqual({ klControl: 'fixed', initKlCoef: '0', truncationPenalty: '0' });
    expect(p.methods.grpo).toEqual({ klControl: 'fixed', beta: '0', truncationPenalty: '0' });
    expect(p.trainAfter).toBe(10);
    expect(HACKING_PRESETS.filter((x) => x.kind === 'remedy').map((x) => x.id)).toEqual(['adaptive', 'labels', 'online']);
  });
});

describe('SymptomTracker', () => {
  const ppoMetrics = (distinct: number) => ({ 'completion/length': 8, 'completion/finished': 1, 'completion/distinct': distinct, 'objective/kl': 1 });

  it('reports each iteration with its rollout point, and the symptoms the history shows so far', () => {
    const t = new SymptomTracker();
    const first = [1, 2, 3].map((s) => t.receiveIteration('ppo', s, ppoMetrics(0.9)));
    expect(first[2]?.rollout?.distinct).toBe(0.9);
    expect(first[2]?.symptoms).toEqual([]);
    let last = null;
    for (const s of [4, 5, 6]) last = t.receiveIteration('ppo', s, ppoMetrics(0.3));
    expect(last?.symptoms.map((x) => x.kind)).toEqual(['distinct']);
    expect(t.receiveIteration('dpo', 1, { loss: 1 })).toBeNull();
  });

  it('starts a method over when its steps go back (a reset), and keeps the others', () => {
    const t = new SymptomTracker();
    for (const s of [1, 2, 3, 4, 5, 6]) t.receiveIteration('ppo', s, ppoMetrics(s <= 3 ? 0.9 : 0.3));
    t.receiveStop({ kind: 'kl-guard', method: 'ppo', steps: 6, message: 'training stopped' });
    expect(t.report('ppo').symptoms.map((x) => x.kind)).toEqual(['distinct', 'kl-guard']);
    expect(t.receiveIteration('ppo', 1, ppoMetrics(0.9))?.symptoms).toEqual([]);
  });

  it('reads gold evaluations per method (not the base model) and finds the parting', () => {
    const t = new SymptomTracker();
    t.receiveGold([gold(0, 0, 0, { method: 'base' }), gold(2, 0.2, 2)]);
    const [r] = t.receiveGold([gold(0, 0, 0, { method: 'base' }), gold(4, 1.5, -1, { baseGoldScore: 2 })]);
    expect(r.method).toBe('ppo');
    expect(r.parting?.steps).toBe(2);
    expect(r.symptoms.map((x) => x.kind)).toEqual(['proxy-gold', 'parting']);
  });
});
