// "Autopilot": a simulated annotator (src/lib/rl/annotators.ts, in the worker) labels the pair on
// screen at a visible pace so that a lecture runs hands-free, presses Train once enough labels
// exist (Train steps whichever online methods are ticked; ticked offline methods rerun on the new
// labels by themselves), and turns on the gold curves: every method's score under the annotator's
// hidden preference, its win rate against the base model, its KL, diversity, length and
// grammatical share, all on the same held-out prompts, which the reward model never sees; and the
// reward-hacking alarms the worker raised on the latest evaluation (RM up while grammar or gold fell).
import type { AutopilotSettings } from '../../lib/config/url';
import type { GoldKind } from '../../lib/config/run';
import type { AnnotatorSettings, GoldEvent, GoldResult, HackingAlarm } from '../../lib/protocol/messages';
import { errorText } from '../errors';
import type { AppLink } from './link';
import type { Preferences } from './preferences.svelte';
import { Series } from './series.svelte';
import type { Training } from './training.svelte';

/** The x column of the gold series: evaluations since the gold curves started. */
export const EVALUATION_COLUMN = 'evaluation';

/** What a gold series column holds: one number of one model's results. */
export type GoldMeasure = Exclude<keyof GoldResult, 'method'>;

/** The gold series' column for a measure of a model ('base' or a method name). */
export function goldColumn(measure: GoldMeasure, model: string): string {
  return `${measure}/${model}`;
}

const GOLD_MEASURES: readonly GoldMeasure[] = ['goldScore', 'winRate', 'blindWinRate', 'grammatical', 'repeats', 'rmScore', 'klPerSequence', 'distinct', 'length', 'steps'];

/** While no pair is on screen, look again this often. */
const WAIT_FOR_PAIR_MS = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Autopilot {
  on = $state(false);
  /** Labels autopilot has given since it was turned on. */
  given = $state(0);
  problem = $state<string | null>(null);
  /** Why autopilot paused itself: training stopped on its own (the KL guard, a rollback); null until then. */
  pausedBecause = $state<string | null>(null);
  latest = $state.raw<GoldEvent | null>(null);
  /** What the gold judge of the latest evaluation saw (the annotator setting when it arrived). */
  judge = $state<GoldKind | null>(null);
  /** The annotator whose hidden preference and judge the gold curves measured (null: none yet). */
  private judgedBy: Pick<AnnotatorSettings, 'preset' | 'word' | 'gold'> | null = null;
  /** Reward hacking the worker saw in the latest evaluation, one sentence each (none before one). */
  readonly alarms: readonly HackingAlarm[] = $derived(this.latest?.alarms ?? []);
  /** One row per gold evaluation, a column per measure and model (goldColumn). */
  readonly gold = new Series([EVALUATION_COLUMN]);
  /** The models the gold series has results for ('base' first), in order of first appearance. */
  goldModels = $state.raw<string[]>([]);
  /** Each start gets a new token; a loop whose token is old stops. */
  private token = 0;
  private trained = false;

  constructor(
    private readonly app: AppLink,
    private readonly prefs: Preferences,
    private readonly training: Training,
    private readonly annotator: () => AnnotatorSettings,
    private readonly pacing: () => AutopilotSettings,
  ) {}

  async toggle(): Promise<void> {
    if (this.on) await this.stop();
    else await this.start();
  }

  async start(): Promise<void> {
    const client = this.app.client;
    if (!client || !this.app.ready || this.on) return;
    try {
      await client.request('setAnnotator', { annotator: this.annotator() });
    } catch (e) {
      this.problem = `Autopilot cannot start: ${errorText(e)}`;
      return;
    }
    this.problem = null;
    this.pausedBecause = null;
    this.on = true;
    this.given = 0;
    this.trained = false;
    void this.loop(++this.token);
  }

  async stop(): Promise<void> {
    if (!this.on) return;
    this.on = false;
    this.token += 1;
    try {
      await this.app.client?.request('setAnnotator', { annotator: null });
    } catch {
      // the worker is gone: nothing to turn off
    }
  }

  /**
   * Training stopped on its own (`reason`: the KL guard fired, a step was rolled back): labelling
   * on would only pile up labels for a policy that no longer trains, so autopilot pauses and says
   * why; a new start presses Train again after its next label.
   */
  async trainingStopped(reason: string): Promise<void> {
    if (!this.on) return;
    const remedy = /KL guard/.test(reason) ? " Raise the method's KL guard limit or its beta (its settings), or Reset it;" : '';
    this.pausedBecause = `Autopilot paused because training stopped: ${reason}.${remedy} Start autopilot again to go on.`;
    await this.stop();
  }

  /**
   * A new annotator: gold values measured with another preference or judge go, on or off (off, the
   * next start would otherwise draw the new judge's points on the old judge's curves).
   */
  async annotatorChanged(): Promise<void> {
    if (!this.on) {
      const a = this.annotator();
      if (this.judgedBy !== null && (a.preset !== this.judgedBy.preset || a.word !== this.judgedBy.word || a.gold !== this.judgedBy.gold)) this.clearGold();
      return;
    }
    this.clearGold();
    try {
      await this.app.client?.request('setAnnotator', { annotator: this.annotator() });
      this.problem = null;
    } catch (e) {
      this.problem = `The annotator was not changed: ${errorText(e)}`;
    }
  }

  receiveGold(event: GoldEvent): void {
    this.latest = event;
    this.judge = this.annotator().gold;
    const { preset, word, gold } = this.annotator();
    this.judgedBy = { preset, word, gold };
    const row: Record<string, number> = { [EVALUATION_COLUMN]: this.gold.length + 1 };
    for (const r of event.results) for (const m of GOLD_MEASURES) row[goldColumn(m, r.method)] = r[m];
    this.gold.pushRecord(row);
    const fresh = event.results.map((r) => r.method).filter((m) => !this.goldModels.includes(m));
    if (fresh.length > 0) this.goldModels = [...this.goldModels, ...fresh];
  }

  /** After a reset of every method or a worker restart. */
  clearGold(): void {
    this.gold.clear();
    this.latest = null;
    this.judge = null;
    this.judgedBy = null;
    this.goldModels = [];
  }

  /** Forgets the run (the worker was restarted): autopilot is off. */
  halt(): void {
    this.on = false;
    this.token += 1;
  }

  private async loop(token: number): Promise<void> {
    while (this.on && token === this.token) {
      const pair = this.prefs.current;
      const client = this.app.client;
      if (!pair || !client || !this.app.ready) {
        await sleep(WAIT_FOR_PAIR_MS);
        continue;
      }
      await sleep(this.pacing().paceMs);
      if (token !== this.token || this.prefs.current?.id !== pair.id) continue; // stopped, or the user answered
      let answer: 'A' | 'B' | 'tie';
      try {
        answer = (await client.request('annotate', { prompt: pair.prompt, a: pair.a, b: pair.b })).choice;
      } catch (e) {
        if (token === this.token) this.problem = `Autopilot stopped: ${errorText(e)}`;
        this.halt();
        return;
      }
      if (token !== this.token || this.prefs.current?.id !== pair.id) continue;
      this.prefs.choose(answer, 'simulated', this.annotator().preset);
      this.given += 1;
      const after = this.pacing().trainAfter;
      if (!this.trained && after > 0 && this.prefs.count >= after) {
        this.trained = true; // once per start: a Pause by the user is respected
        this.training.setRunning(true);
      }
    }
  }
}
