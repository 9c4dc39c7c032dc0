// "Reward hacking": for each method, the proxy (the reward model's score) beside the gold score at
// every gold evaluation, against sqrt(KL) as Gao et al. 2022 plot it and over iterations, and its
// rollouts' length, distinct share and share that reach EOS at every iteration. The worker reads
// the symptoms from the same numbers (src/lib/rl/symptoms.ts, in the controller) and sends them
// with each iteration, gold evaluation or stop as a hacking event; the page keeps the latest per
// method. The one-click presets (src/lib/config/hacking.ts) go through the settings the page
// already has (a method's fields, autopilot's trainAfter), so every change reaches the address.
import { DEFAULT, ONLINE_ROUND_LABELS, type HackingPreset } from '../../lib/config/hacking';
import type { FieldValue, GoldEvent, HackingEvent, Parting, RolloutNames, RolloutPoint, Symptom } from '../../lib/protocol/messages';
import type { Autopilot } from './autopilot.svelte';
import type { AppLink } from './link';
import type { Preferences } from './preferences.svelte';
import type { RewardState } from './reward.svelte';
import { Series } from './series.svelte';
import type { MethodState, Training } from './training.svelte';

/** Columns of a method's gold series: its steps, sqrt(KL), the proxy and the gold score. */
export const GOLD_COLUMNS = ['steps', 'sqrtKl', 'klPerSequence', 'rmScore', 'goldScore'] as const;
/** Columns of a method's rollout series, one row per iteration. */
export const ROLLOUT_COLUMNS = ['step', 'length', 'distinct', 'eos', 'zeroStd', 'kl'] as const;

/** How often the online round looks at its progress. */
const ROUND_POLL_MS = 200;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One gold evaluation of a method, as the page explains it. */
export interface GoldNumbers {
  steps: number;
  klPerSequence: number;
  rmScore: number;
  baseRmScore: number;
  goldScore: number;
  baseGoldScore: number;
  grammatical: number;
  baseGrammatical: number;
}

/** One method's curves and what the worker last said of it. */
export class MethodHacking {
  readonly gold = new Series(GOLD_COLUMNS);
  readonly rollouts = new Series(ROLLOUT_COLUMNS);
  lastGold = $state.raw<GoldNumbers | null>(null);
  lastRollout = $state.raw<RolloutPoint | null>(null);
  /** The metric names its rollouts were read from (null before its first iteration). */
  names = $state.raw<RolloutNames | null>(null);
  symptoms = $state.raw<Symptom[]>([]);
  parting = $state.raw<Parting | null>(null);

  constructor(readonly method: string) {}

  receiveGold(r: GoldNumbers): void {
    if (this.lastGold && r.steps < this.lastGold.steps) this.gold.clear(); // it was reset: a new run
    this.lastGold = r;
    this.gold.pushRecord({ steps: r.steps, sqrtKl: Math.sqrt(Math.max(0, r.klPerSequence)), klPerSequence: r.klPerSequence, rmScore: r.rmScore, goldScore: r.goldScore });
  }

  receiveReport(report: HackingEvent['report']): void {
    if (report.reset) {
      this.gold.clear();
      this.rollouts.clear();
      this.lastGold = null;
      this.lastRollout = null;
      this.names = null;
    }
    this.symptoms = report.symptoms;
    this.parting = report.parting;
    if (!report.rollout) return;
    if (this.lastRollout && report.rollout.step <= this.lastRollout.step) this.rollouts.clear();
    this.lastRollout = report.rollout;
    this.names = report.names ?? this.names;
    this.rollouts.pushRecord({ ...report.rollout });
  }
}

/** The online round's progress, for the page. */
export interface OnlineRound {
  phase: 'labelling' | 'refitting' | 'done' | 'stopped';
  /** Labels held when it started, and how many it waits for. */
  from: number;
  target: number;
  /** Who writes the pairs it labels (the current policy). */
  policy: string;
  note: string;
}

export class Hacking {
  methods = $state.raw<MethodHacking[]>([]);
  /** The method whose curves are shown (null: the first ticked one that has curves). */
  chosen = $state<string | null>(null);
  round = $state.raw<OnlineRound | null>(null);
  /** What the last preset changed, or why it could not, one line each. */
  applied = $state.raw<string[]>([]);
  private roundToken = 0;

  /** Every method's symptoms as the worker last reported them. */
  readonly symptoms: Symptom[] = $derived(this.methods.flatMap((m) => m.symptoms));
  /** Methods with curves, ticked ones first. */
  readonly shown = $derived([...this.methods].sort((a, b) => this.rank(a.method) - this.rank(b.method)));
  readonly selected: MethodHacking | null = $derived(this.methods.find((m) => m.method === this.chosen) ?? this.shown[0] ?? null);

  constructor(
    private readonly app: AppLink,
    private readonly training: Training,
    private readonly autopilot: Autopilot,
    private readonly prefs: Preferences,
    private readonly reward: RewardState,
  ) {}

  private rank(method: string): number {
    const i = this.training.enabled.indexOf(method as MethodState['name']);
    return i < 0 ? 1000 + this.training.methods.findIndex((m) => m.name === method) : i;
  }

  private entry(method: string): MethodHacking {
    let m = this.methods.find((x) => x.method === method);
    if (!m) {
      m = new MethodHacking(method);
      this.methods = [...this.methods, m];
    }
    return m;
  }

  /** The gold curves: every method's proxy and gold score at this evaluation (the base model's row is the reference, not a curve). */
  receiveGold(event: GoldEvent): void {
    for (const r of event.results) {
      if (r.method === 'base') continue;
      const { steps, klPerSequence, rmScore, baseRmScore, goldScore, baseGoldScore, grammatical, baseGrammatical } = r;
      this.entry(r.method).receiveGold({ steps, klPerSequence, rmScore, baseRmScore, goldScore, baseGoldScore, grammatical, baseGrammatical });
    }
  }

  /** What the worker read from an iteration, a gold evaluation or a stop. */
  receive(event: HackingEvent): void {
    this.entry(event.report.method).receiveReport(event.report);
  }

  /** Every method back to the base model, or a worker restart. */
  clear(): void {
    this.methods = [];
    this.stopRound();
  }

  // ---- presets ----

  /** The online methods a preset changes: the ticked ones (all online ones when none is ticked). */
  private targets(): MethodState[] {
    const online = this.training.methods.filter((m) => m.kind === 'online');
    const ticked = online.filter((m) => this.training.enabled.includes(m.name));
    return ticked.length > 0 ? ticked : online;
  }

  /** What a preset changes, in words, for the methods it would change now. */
  describe(preset: HackingPreset): string[] {
    const lines: string[] = [];
    for (const m of this.targets()) {
      const patch = preset.methods[m.name];
      if (!patch) continue;
      const parts = Object.entries(patch).map(([key, raw]) => {
        const field = m.info.fields.find((f) => f.key === key);
        const value = raw === DEFAULT ? `${m.info.defaults[key]} (its default)` : raw;
        return `${field?.label ?? key} ${value}`;
      });
      lines.push(`${m.title}: ${parts.join(', ')}`);
    }
    if (preset.trainAfter !== undefined) lines.push(`autopilot trains after ${preset.trainAfter} labels`);
    if (preset.action === 'reset') lines.push('every method starts again from the base model');
    if (preset.action === 'online-round') lines.push(`training pauses, ${ONLINE_ROUND_LABELS} new pairs from the current policy are labelled, the reward model is refitted on all labels, then training goes on`);
    return lines;
  }

  /** Applies a preset: each method setting through its field's rule (so it reaches the worker and the address), then autopilot's, then its action. */
  async apply(preset: HackingPreset): Promise<void> {
    const done: string[] = [];
    for (const m of this.targets()) {
      const patch = preset.methods[m.name];
      if (!patch) continue;
      for (const [key, raw] of Object.entries(patch)) {
        const field = m.info.fields.find((f) => f.key === key);
        if (!field) {
          done.push(`${m.title} has no setting “${key}”: left as it is`);
          continue;
        }
        const value: FieldValue = raw === DEFAULT ? m.info.defaults[key] : raw;
        const why = this.training.configure(m, field, String(value));
        done.push(why ? `${m.title} ${why}` : `${m.title} ${field.label}: ${value}`);
      }
    }
    if (preset.trainAfter !== undefined) {
      const trainAfter = preset.trainAfter;
      this.app.updateConfig((c) => ({ ...c, autopilot: { ...c.autopilot, trainAfter } }));
      done.push(`autopilot trains after ${trainAfter} labels`);
    }
    this.applied = done;
    if (preset.action === 'reset') await this.restartTraining();
    if (preset.action === 'online-round') void this.onlineRound();
  }

  /** "More labels": back to the base model; autopilot, if on, starts again and trains at the new label count. */
  private async restartTraining(): Promise<void> {
    await this.training.reset();
    if (this.autopilot.on) {
      await this.autopilot.stop();
      await this.autopilot.start();
    }
    this.applied = [...this.applied, this.autopilot.on ? `reset; autopilot presses Train at ${this.app.config.autopilot.trainAfter} labels` : 'reset; press Train once there are enough labels'];
  }

  /** An online round: pause, label ONLINE_ROUND_LABELS pairs written by the current policy (autopilot or by hand), refit, train again. */
  private async onlineRound(): Promise<void> {
    const token = ++this.roundToken;
    const trained = this.training.online.find((m) => m.steps > 0);
    if (!trained) {
      this.round = { phase: 'stopped', from: this.prefs.count, target: this.prefs.count, policy: '', note: 'Nothing has trained yet: an online round labels the trained policy’s outputs. Train first.' };
      return;
    }
    const wasRunning = this.training.running;
    this.training.setRunning(false);
    const from = this.prefs.count;
    const target = from + ONLINE_ROUND_LABELS;
    const labelling = (n: number) => `Label ${target - n} more pair${target - n === 1 ? '' : 's'}: they are written by ${trained.title} after ${trained.steps} iterations${this.autopilot.on ? ' (autopilot labels them)' : ''}.`;
    this.round = { phase: 'labelling', from, target, policy: trained.title, note: labelling(from) };
    while (token === this.roundToken && this.prefs.count < target) {
      await sleep(ROUND_POLL_MS);
      if (token === this.roundToken && this.round?.phase === 'labelling') this.round = { ...this.round, note: labelling(this.prefs.count) };
    }
    if (token !== this.roundToken) return;
    this.round = { ...this.round!, phase: 'refitting', note: `Refitting the reward model on all ${this.prefs.count} labels…` };
    // A refit under way restarts on the new labels by itself; otherwise ask for one.
    while (token === this.roundToken && this.reward.refit !== null) await sleep(ROUND_POLL_MS);
    const before = this.reward.latest?.update ?? 0;
    this.reward.startRefit();
    while (token === this.roundToken && !(this.reward.latest && this.reward.latest.update > before && this.reward.latest.cause === 'refit' && this.reward.refit === null)) await sleep(ROUND_POLL_MS);
    if (token !== this.roundToken) return;
    if (wasRunning || this.autopilot.on) this.training.setRunning(true);
    this.round = { ...this.round!, phase: 'done', note: `Done: the reward model learned from ${this.prefs.count - from} labels of ${trained.title}'s outputs and was refitted${wasRunning || this.autopilot.on ? '; training goes on' : '; press Train to go on'}.` };
  }

  stopRound(): void {
    this.roundToken += 1;
    if (this.round && (this.round.phase === 'labelling' || this.round.phase === 'refitting')) this.round = { ...this.round, phase: 'stopped', note: 'The online round was stopped.' };
  }
}
