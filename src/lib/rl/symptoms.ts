// Symptoms of reward hacking, read from what the page already receives: the gold evaluations (the
// reward model's score, the proxy, beside the hidden gold score, as Gao et al. 2022 plot them
// against sqrt(KL)) and each online iteration's rollout metrics under TRL's names. Each detector
// states its rule in one sentence and returns a sentence with the live numbers; the latest
// evaluation's comparison with the base model is alarms.ts's hackingAlarms, reused, not redone.
// Thresholds, each with its reason, are in ../config/hacking.ts. No DOM, no tfjs: the worker's
// controller keeps a SymptomTracker per run and sends its reports to the page (HackingEvent).
import { DISTINCT_KEEP, EOS_FALL, GOLD_FALL, LENGTH_DRIFT, PROXY_RISE, WINDOW, ZERO_STD_SHARE } from '../config/hacking';
import { hackingAlarms, type Judged } from './alarms';

export { DISTINCT_KEEP, EOS_FALL, GOLD_FALL, LENGTH_DRIFT, PROXY_RISE, WINDOW, ZERO_STD_SHARE } from '../config/hacking';

/** One gold evaluation of one method, as the page receives it (GoldResult's numbers). */
export interface GoldPoint extends Judged {
  /** The method's steps when it was judged. */
  steps: number;
  /** KL(method || base) per sequence, nats. */
  klPerSequence: number;
}

/** One online iteration's rollouts, in the method-independent shape rolloutPoint reads. */
export interface RolloutPoint {
  step: number;
  /** Mean completion length in tokens (EOS included). */
  length: number;
  /** Distinct rollouts / rollouts. */
  distinct: number;
  /** Share of rollouts that ended with EOS. */
  eos: number;
  /** Share of rollouts in groups whose rewards were all equal (GRPO's frac_reward_zero_std); NaN without groups. */
  zeroStd: number;
  /** KL to the reference per sequence, nats. */
  kl: number;
}

/** Where each quantity of a RolloutPoint comes from in a method's metrics (TRL's names), first found wins. */
export const ROLLOUT_SOURCES = {
  length: ['completion/length', 'completions/mean_length'],
  distinct: ['completion/distinct', 'completions/distinct'],
  eos: ['completion/finished'], // PPO reports the share that finished
  clipped: ['completions/clipped_ratio'], // GRPO and RLOO report the share cut off: EOS = 1 - it
  zeroStd: ['frac_reward_zero_std'],
  kl: ['objective/kl', 'kl/sequence'],
} as const;

function pick(metrics: Readonly<Record<string, number>>, names: readonly string[]): { name: string; value: number } | null {
  for (const name of names) if (name in metrics) return { name, value: metrics[name] };
  return null;
}

/** The metric names a method's rollouts are read from (for chart titles: plain words first, TRL's name second). */
export interface RolloutNames {
  length: string;
  distinct: string;
  /** 'completion/finished', or '1 − completions/clipped_ratio'. */
  eos: string;
  zeroStd: string | null;
}

/** A method's iteration metrics as a RolloutPoint, and the names read; null when it reports no rollouts (offline methods). */
export function rolloutPoint(step: number, metrics: Readonly<Record<string, number>>): { point: RolloutPoint; names: RolloutNames } | null {
  const length = pick(metrics, ROLLOUT_SOURCES.length);
  const distinct = pick(metrics, ROLLOUT_SOURCES.distinct);
  const finished = pick(metrics, ROLLOUT_SOURCES.eos);
  const clipped = finished ? null : pick(metrics, ROLLOUT_SOURCES.clipped);
  if (!length || !distinct || (!finished && !clipped)) return null;
  const zeroStd = pick(metrics, ROLLOUT_SOURCES.zeroStd);
  const kl = pick(metrics, ROLLOUT_SOURCES.kl);
  return {
    point: {
      step,
      length: length.value,
      distinct: distinct.value,
      eos: finished ? finished.value : 1 - clipped!.value,
      zeroStd: zeroStd?.value ?? NaN,
      kl: kl?.value ?? NaN,
    },
    names: { length: length.name, distinct: distinct.name, eos: finished ? finished.name : `1 − ${clipped!.name}`, zeroStd: zeroStd?.name ?? null },
  };
}

// ---- where proxy and gold part ways ----


export interface Parting {
  /** Index of the evaluation where they parted: the gold score's best before it fell. */
  index: number;
  /** The method's steps there (the iteration the charts mark). */
  steps: number;
  /** Index and steps of the first evaluation that showed the parting. */
  seenIndex: number;
  seenSteps: number;
  proxyFrom: number;
  proxyTo: number;
  goldFrom: number;
  goldTo: number;
}

/**
 * The rule: walking the evaluations in order, keep the best gold score so far; the first
 * evaluation whose gold score is at least GOLD_FALL below that best while its RM score is at least
 * PROXY_RISE above the RM score at that best shows the parting, and the mark goes at the best (the
 * last evaluation where more proxy still meant more gold). null: they have not parted.
 */
export function partingPoint(points: readonly Pick<GoldPoint, 'steps' | 'rmScore' | 'goldScore'>[]): Parting | null {
  let best = -1;
  for (let j = 0; j < points.length; j++) {
    const p = points[j];
    if (!Number.isFinite(p.goldScore) || !Number.isFinite(p.rmScore)) continue;
    if (best < 0 || p.goldScore > points[best].goldScore) {
      best = j;
      continue;
    }
    const b = points[best];
    if (b.goldScore - p.goldScore >= GOLD_FALL && p.rmScore - b.rmScore >= PROXY_RISE) {
      return { index: best, steps: b.steps, seenIndex: j, seenSteps: p.steps, proxyFrom: b.rmScore, proxyTo: p.rmScore, goldFrom: b.goldScore, goldTo: p.goldScore };
    }
  }
  return null;
}

// ---- symptoms in the rollouts ----


export type SymptomKind = 'proxy-gold' | 'parting' | 'distinct' | 'length' | 'eos' | 'zero-std' | 'kl-guard' | 'rolled-back';

export interface Symptom {
  kind: SymptomKind;
  method: string;
  /** One sentence with the live numbers (no method name: the page puts it first). */
  message: string;
  /** The method's steps when it was seen. */
  steps: number;
}

/** A stop the worker reported for a method: the KL guard (runState's reason) or a rolled-back step. */
export interface Stop {
  kind: 'kl-guard' | 'rolled-back';
  method: string;
  message: string;
  steps: number;
}

const f2 = (x: number) => x.toFixed(2);
const pct = (x: number) => `${Math.round(x * 100)} %`;
const meanOf = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function span(points: readonly RolloutPoint[]): string {
  const a = points[0].step;
  const b = points[points.length - 1].step;
  return a === b ? `iteration ${a}` : `iterations ${a}–${b}`;
}

/** The first and the last WINDOW rollouts, or null before there are 2 x WINDOW (the stretches never overlap). */
function stretches(rollouts: readonly RolloutPoint[]): { first: RolloutPoint[]; last: RolloutPoint[] } | null {
  if (rollouts.length < 2 * WINDOW) return null;
  return { first: rollouts.slice(0, WINDOW), last: rollouts.slice(-WINDOW) };
}

/** Symptoms in a method's rollouts: distinct ratio collapsing, length drifting, EOS lost, groups without signal. */
export function rolloutSymptoms(method: string, rollouts: readonly RolloutPoint[]): Symptom[] {
  const out: Symptom[] = [];
  const s = stretches(rollouts);
  if (!s) return out;
  const steps = rollouts[rollouts.length - 1].step;
  const avg = (pts: readonly RolloutPoint[], k: keyof RolloutPoint) => meanOf(pts.map((p) => p[k]));
  const [d0, d1] = [avg(s.first, 'distinct'), avg(s.last, 'distinct')];
  if (d1 <= DISTINCT_KEEP * d0) {
    out.push({ kind: 'distinct', method, steps, message: `the distinct share of its rollouts fell from ${pct(d0)} (${span(s.first)}) to ${pct(d1)} (${span(s.last)}): it is collapsing onto a few completions the reward model likes` });
  }
  const [l0, l1] = [avg(s.first, 'length'), avg(s.last, 'length')];
  if (l0 > 0 && Math.abs(l1 - l0) >= LENGTH_DRIFT * l0) {
    const change = Math.round(((l1 - l0) / l0) * 100);
    out.push({ kind: 'length', method, steps, message: `its rollouts' mean length went from ${l0.toFixed(1)} tokens (${span(s.first)}) to ${l1.toFixed(1)} (${span(s.last)}), ${change > 0 ? '+' : ''}${change} %: the reward model may be paying for length, not content` });
  }
  const [e0, e1] = [avg(s.first, 'eos'), avg(s.last, 'eos')];
  if (e0 - e1 >= EOS_FALL) {
    out.push({ kind: 'eos', method, steps, message: `the share of rollouts that reach the end token fell from ${pct(e0)} (${span(s.first)}) to ${pct(e1)} (${span(s.last)}): its sentences run on until they are cut off` });
  }
  const z = s.last.map((p) => p.zeroStd);
  if (z.every(Number.isFinite) && meanOf(z) >= ZERO_STD_SHARE) {
    out.push({ kind: 'zero-std', method, steps, message: `${pct(meanOf(z))} of its rollouts (${span(s.last)}) were in groups whose rewards were all equal (frac_reward_zero_std): their advantage is 0, so they teach nothing` });
  }
  return out;
}

/** Symptoms in a method's gold evaluations: the latest one's RM up while gold or grammar fell (hackingAlarms), and the parting point. */
export function goldSymptoms(method: string, gold: readonly GoldPoint[]): Symptom[] {
  const out: Symptom[] = [];
  const latest = gold[gold.length - 1];
  if (!latest) return out;
  for (const alarm of hackingAlarms([latest])) out.push({ kind: 'proxy-gold', method, steps: latest.steps, message: alarm.message });
  const parting = partingPoint(gold);
  if (parting) {
    out.push({
      kind: 'parting',
      method,
      steps: parting.seenSteps,
      message: `proxy and gold parted at iteration ${parting.steps}: from there to iteration ${parting.seenSteps} the RM score rose from ${f2(parting.proxyFrom)} to ${f2(parting.proxyTo)} while the gold score fell from ${f2(parting.goldFrom)} to ${f2(parting.goldTo)}`,
    });
  }
  return out;
}

/** Every symptom of one method, in a fixed order (gold first, then rollouts, then the worker's stops). */
export function methodSymptoms(method: string, gold: readonly GoldPoint[], rollouts: readonly RolloutPoint[], stops: readonly Stop[]): Symptom[] {
  return [...goldSymptoms(method, gold), ...rolloutSymptoms(method, rollouts), ...stops.filter((s) => s.method === method).map((s): Symptom => ({ ...s }))];
}

// ---- the worker's tracker ----

/** What the page learns of one method after an iteration, a gold evaluation or a stop. */
export interface HackingReport {
  method: string;
  /** This iteration's rollouts read into one shape (absent for a gold evaluation or a stop). */
  rollout?: RolloutPoint;
  /** The metric names the rollouts were read from. */
  names?: RolloutNames;
  /** Every symptom of the method now. */
  symptoms: Symptom[];
  /** Where proxy and gold parted (null: not yet). */
  parting: Parting | null;
  /** The method was just reset: its curves start over (a report with nothing in it). */
  reset?: true;
}

/**
 * Each method's gold evaluations, rollouts and stops since its last reset, and the symptoms they
 * show (the worker's controller keeps one per run and sends a report after each event). A method
 * whose steps go back was reset: its history starts over.
 */
export class SymptomTracker {
  private readonly gold = new Map<string, GoldPoint[]>();
  private readonly rollouts = new Map<string, RolloutPoint[]>();
  private stops: Stop[] = [];

  report(method: string): HackingReport {
    const gold = this.gold.get(method) ?? [];
    return { method, symptoms: methodSymptoms(method, gold, this.rollouts.get(method) ?? [], this.stops), parting: partingPoint(gold) };
  }

  /** One gold evaluation of every method (the base model's row is skipped): a report per method. */
  receiveGold(results: readonly GoldPoint[]): HackingReport[] {
    const reports: HackingReport[] = [];
    for (const r of results) {
      if (r.method === 'base') continue;
      const points = this.gold.get(r.method) ?? [];
      if (points.length > 0 && r.steps < points[points.length - 1].steps) this.reset(r.method);
      const { method, steps, klPerSequence, rmScore, baseRmScore, goldScore, baseGoldScore, grammatical, baseGrammatical } = r;
      this.gold.set(method, [...(this.gold.get(method) ?? []), { method, steps, klPerSequence, rmScore, baseRmScore, goldScore, baseGoldScore, grammatical, baseGrammatical }]);
      reports.push(this.report(method));
    }
    return reports;
  }

  /** One iteration's metrics; null for a method without rollouts (offline ones). */
  receiveIteration(method: string, step: number, metrics: Readonly<Record<string, number>>): HackingReport | null {
    const read = rolloutPoint(step, metrics);
    if (!read) return null;
    const points = this.rollouts.get(method) ?? [];
    if (points.length > 0 && step <= points[points.length - 1].step) this.reset(method);
    this.rollouts.set(method, [...(this.rollouts.get(method) ?? []), read.point]);
    return { ...this.report(method), rollout: read.point, names: read.names };
  }

  receiveStop(stop: Stop): HackingReport {
    this.stops = [...this.stops.filter((s) => !(s.method === stop.method && s.kind === stop.kind)), stop];
    return this.report(stop.method);
  }

  /** Forgets one method (or every method). */
  reset(method?: string): void {
    if (method === undefined) {
      this.gold.clear();
      this.rollouts.clear();
      this.stops = [];
      return;
    }
    this.gold.delete(method);
    this.rollouts.delete(method);
    this.stops = this.stops.filter((s) => s.method !== method);
  }
}
