// What this tab saves, and whether it may: the page's side of db.ts. One tab at a time is the
// writer, through a Web Lock (navigator.locks) on the database; a second tab opens read-only,
// says so, keeps whatever it is given in memory (a journal of label changes), and can take over:
// the lock is stolen, its journal is written, and the stored labels (the other tab's included)
// become its own, so two tabs labelling at once lose nothing. Where IndexedDB is missing (some
// private windows) or a write fails (the quota), the page goes on in memory and says so. A label
// write resolves only once committed, which is when the page counts the label.
import type { Label } from '../../lib/config/label';
import type { Training } from './training.svelte';
import { SvelteMap } from 'svelte/reactivity';
import { errorText } from '../errors';
import type { RunRecord, RunStore, RunSummary, SeriesSnapshot, StoredCheckpoint } from './db';
import type { RewardState } from './reward.svelte';
import type { Series } from './series.svelte';
import { migrateLegacyLabels } from './storage';

/** One lock for the whole database: a tab writes labels, metrics and checkpoints, or none of them. */
export const WRITER_LOCK = 'rlhf-playground/writer';

/** Metric rows are saved at most this often while training (a write per iteration would be ~1 a second). */
export const METRICS_SAVE_MS = 2000;

/** How often New run and Open look whether the writes in flight have finished. */
const SETTLE_POLL_MS = 20;

export type SaveMode = 'opening' | 'writer' | 'reader' | 'memory';

/** Why this tab keeps the run in memory only. */
type Failure = { kind: 'unavailable'; why: string } | { kind: 'full' } | { kind: 'failed'; why: string };

/** What the store gave back for this tab's run, before the worker starts. */
export interface Restored {
  labels: Label[];
  /** The run's stored settings (its address parameters); null for a fresh run. */
  search: string | null;
  /** Every chart's rows, by chart name (a method's name, or 'reward'). */
  charts: Record<string, SeriesSnapshot>;
  checkpoint: StoredCheckpoint | null;
  /** Why stored labels could not all be read (null when fine). */
  problem: string | null;
}

/** What Persistence needs of the page. */
export interface PersistHost {
  labels(): readonly Label[];
  /** After this tab became the writer: the stored labels (its own changes written first) are the page's list. */
  adoptLabels(labels: Label[]): void;
  charts(): Record<string, SeriesSnapshot>;
  checkpoint(): StoredCheckpoint | null;
  /** The run parameters of the address now. */
  search(): string;
  /** Loads the page again on these run parameters (New run, Open). */
  reload(search: string): void;
}

/** Where the label list's changes go: resolved once stored, or once kept in memory (never rejected). */
export interface LabelSink {
  added(labels: readonly Label[]): Promise<void>;
  changed(label: Label): Promise<void>;
  removed(id: string): Promise<void>;
  replaced(labels: readonly Label[], before: readonly Label[]): Promise<void>;
}

/** A chart's rows, copied out of its Series. */
export function snapshotSeries(series: Series): SeriesSnapshot {
  return { names: [...series.names], columns: series.names.map((n) => series.column(n).slice()) };
}

/** Puts stored rows back into an empty Series, row by row (columns it lacks are added). */
export function restoreSeries(series: Series, snapshot: SeriesSnapshot): void {
  const rows = snapshot.columns[0]?.length ?? 0;
  for (let r = 0; r < rows; r++) {
    series.pushRecord(Object.fromEntries(snapshot.names.map((n, c) => [n, snapshot.columns[c]?.[r] ?? NaN])));
  }
}

/** The reward model's chart among the stored ones (methods are stored under their names). */
export const REWARD_CHART = 'reward';

/** Every chart with rows: the reward model's and each method's. */
export function chartsOf(training: Training, reward: RewardState): Record<string, SeriesSnapshot> {
  const charts: Record<string, SeriesSnapshot> = {};
  if (reward.series.length > 0) charts[REWARD_CHART] = snapshotSeries(reward.series);
  for (const m of training.methods) if (m.series.length > 0) charts[m.name] = snapshotSeries(m.series);
  return charts;
}

/** Stored charts back into a fresh worker's methods (a method this page no longer has is skipped). */
export function restoreCharts(training: Training, reward: RewardState, charts: Readonly<Record<string, SeriesSnapshot>>): void {
  for (const [name, snapshot] of Object.entries(charts)) {
    const series = name === REWARD_CHART ? reward.series : training.find(name)?.series;
    if (series && series.length === 0) restoreSeries(series, snapshot);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The browser refused a write for lack of space (Chromium and Firefox name it so). */
export function isQuotaError(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'QuotaExceededError' || e.name === 'NS_ERROR_DOM_QUOTA_REACHED');
}

function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

export class Persistence implements LabelSink {
  mode = $state<SaveMode>('opening');
  /** This tab was the writer until another tab took over. */
  displaced = $state(false);
  runs = $state.raw<RunSummary[]>([]);
  run = $state.raw<RunRecord | null>(null);
  /** Label writes in flight. */
  writing = $state(0);
  /** Settings, chart and checkpoint writes in flight (New run and Open wait for them; closing the tab does not ask). */
  private background = 0;
  /** Label changes not stored (read-only or memory mode), by id: the label, or null when removed. */
  private readonly journal = new SvelteMap<string, Label | null>();
  readonly journalSize = $derived(this.journal.size);
  /** Something trained here that is not stored (charts or a checkpoint, read-only or memory mode). */
  unsavedTraining = $state(false);
  /** Why a run-list action failed, for its alert. */
  runsProblem = $state<string | null>(null);
  private failure = $state.raw<Failure | null>(null);
  private store: RunStore | null = null;
  private releaseLock: (() => void) | null = null;
  private waiting: AbortController | null = null;
  private metricsTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * Something would be lost if the tab closed now (the unload warning asks first): a label write
   * in flight, label changes held in memory, or training here that nothing stores. The writer's
   * chart and checkpoint saves are not counted: they repeat every few seconds while the worker
   * reports, and the chart rows are written again as the page hides (saveMetrics on pagehide).
   */
  readonly unsaved = $derived(this.writing > 0 || this.journalSize > 0 || this.unsavedTraining);

  /** The storage alert: what failed, that the run is in memory only, and what to do. */
  readonly problem = $derived.by(() => {
    const f = this.failure;
    if (f === null) return null;
    const why = f.kind === 'full' ? 'the browser storage is full' : f.kind === 'unavailable' ? `this browser gives the page no storage (${f.why})` : `saving failed (${f.why})`;
    const held = this.journalSize > 0 ? ` (${plural(this.journalSize, 'label change')} not saved)` : '';
    const remedy = f.kind === 'full' ? ', or delete old runs under "This run" and reload' : '';
    return `Could not save the labels: ${why}. Nothing is lost while this page stays open, but from now on this run is kept in memory only${held}: export them as JSONL to keep them${remedy}.`;
  });

  /** The read-only banner. */
  readonly readOnlyText = $derived.by(() => {
    if (this.mode !== 'reader') return null;
    const why = this.displaced ? 'Another tab took over this run, so this tab is read-only now' : 'This run is open in another tab, so this tab is read-only';
    const held = this.journalSize > 0
      ? `${plural(this.journalSize, 'label change')} made here ${this.journalSize === 1 ? 'is' : 'are'} kept in this tab only`
      : 'labels you give here are kept in this tab only';
    return `${why}: it saves nothing, and ${held}. Take over to save here (the other tab becomes read-only); the labels of both tabs are kept.`;
  });

  constructor(
    private readonly host: PersistHost,
    private readonly locks: LockManager | null = typeof navigator !== 'undefined' ? (navigator.locks ?? null) : null,
    // db.ts and idb load in a chunk of their own, beside the page's first paint (main-bundle budget)
    private readonly openStore: () => Promise<RunStore> = () => import('./db').then((db) => db.RunStore.open()),
  ) {}

  get canWrite(): boolean {
    return this.mode === 'writer';
  }

  /** Opens the database, asks for the writer lock, moves old localStorage labels, and reads the run back. */
  async open(): Promise<Restored> {
    const empty: Restored = { labels: [], search: null, charts: {}, checkpoint: null, problem: null };
    try {
      this.store = await this.openStore();
    } catch (e) {
      this.fail({ kind: 'unavailable', why: errorText(e) });
      return empty;
    }
    const store = this.store;
    const writer = this.locks === null || (await this.lock({ ifAvailable: true }));
    let problem: string | null = null;
    try {
      let run = await store.current();
      if (writer) {
        run ??= await store.createRun(this.host.search());
        problem = (await migrateLegacyLabels(store, run.id)).problem;
      }
      this.run = run ?? null;
      this.mode = writer ? 'writer' : 'reader';
      if (!writer) this.queueForLock();
      await this.refreshRuns();
      if (!run) return empty;
      const [{ labels, unreadable }, charts, checkpoint] = await Promise.all([store.labels(run.id), store.metrics(run.id), store.checkpoint(run.id)]);
      if (unreadable > 0) problem = `${plural(unreadable, 'stored label')} could not be read and ${unreadable === 1 ? 'was' : 'were'} left out (still stored).`;
      return { labels, search: run.search, charts, checkpoint, problem };
    } catch (e) {
      this.fail(isQuotaError(e) ? { kind: 'full' } : { kind: 'failed', why: errorText(e) });
      return empty;
    }
  }

  // ---- the label list (LabelSink) ----

  added(labels: readonly Label[]): Promise<void> {
    return this.write(labels, [], (store, run) => store.addLabels(run, labels));
  }

  changed(label: Label): Promise<void> {
    return this.write([label], [], (store, run) => store.changeLabels(run, [label]));
  }

  removed(id: string): Promise<void> {
    return this.write([], [id], (store, run) => store.changeLabels(run, [], [id]));
  }

  replaced(labels: readonly Label[], before: readonly Label[]): Promise<void> {
    const kept = Object.fromEntries(labels.map((l) => [l.id, true]));
    const gone = before.filter((l) => !Object.hasOwn(kept, l.id)).map((l) => l.id);
    return this.write(labels, gone, (store, run) => store.replaceLabels(run, labels));
  }

  /** Stores a change as the writer, or notes it in the journal (not the writer, or the write failed). */
  private async write(put: readonly Label[], remove: readonly string[], op: (store: RunStore, runId: string) => Promise<unknown>): Promise<void> {
    const store = this.store;
    const run = this.run;
    if (this.mode !== 'writer' || store === null || run === null) {
      this.note(put, remove);
      return;
    }
    this.writing += 1;
    try {
      await op(store, run.id);
    } catch (e) {
      this.note(put, remove);
      this.writeFailed(e);
    } finally {
      this.writing -= 1;
    }
  }

  private note(put: readonly Label[], remove: readonly string[]): void {
    for (const l of put) this.journal.set(l.id, l);
    for (const id of remove) this.journal.set(id, null);
  }

  // ---- settings, charts, checkpoints ----

  settingsChanged(search: string): void {
    const run = this.run;
    if (this.mode !== 'writer' || run === null || run.search === search) return;
    this.run = { ...run, search };
    void this.track(this.store?.saveSettings(run.id, search));
  }

  /** A chart moved: its rows are saved within METRICS_SAVE_MS. */
  metricsChanged(): void {
    if (this.mode !== 'writer') {
      if (this.mode !== 'opening') this.unsavedTraining = true;
      return;
    }
    if (this.metricsTimer !== null) return;
    this.metricsTimer = setTimeout(() => void this.saveMetrics(), METRICS_SAVE_MS);
  }

  /** Writes every chart's rows now (also as the page hides: a tab closing mid-training keeps its curves). */
  async saveMetrics(): Promise<void> {
    if (this.metricsTimer !== null) clearTimeout(this.metricsTimer);
    this.metricsTimer = null;
    const run = this.run;
    if (this.mode !== 'writer' || run === null) return;
    await this.track(this.store?.saveMetrics(run.id, this.host.charts()));
  }

  /** A new checkpoint of the run (periodic, on Pause, after a refit): stored in place of the last. */
  checkpointSaved(checkpoint: StoredCheckpoint): void {
    const run = this.run;
    if (this.mode !== 'writer' || run === null) {
      if (this.mode !== 'opening') this.unsavedTraining = true;
      return;
    }
    void this.track(this.store?.saveCheckpoint(run.id, checkpoint));
  }

  private async track(write: Promise<unknown> | undefined): Promise<void> {
    if (write === undefined) return;
    this.background += 1;
    try {
      await write;
    } catch (e) {
      this.unsavedTraining = true;
      this.writeFailed(e);
    } finally {
      this.background -= 1;
    }
  }

  private writeFailed(e: unknown): void {
    this.fail(isQuotaError(e) ? { kind: 'full' } : { kind: 'failed', why: errorText(e) });
  }

  /** Memory mode: nothing more is written in this page (a reload tries again). */
  private fail(failure: Failure): void {
    this.failure = failure;
    this.mode = 'memory';
    this.releaseLock?.();
    this.releaseLock = null;
    this.waiting?.abort();
    this.waiting = null;
  }

  // ---- one writer at a time ----

  /**
   * Asks for the writer lock; resolves true once held (it is kept until the tab closes, fails, or
   * another tab steals it), false when refused (ifAvailable) or aborted.
   */
  private lock(options: LockOptions): Promise<boolean> {
    const locks = this.locks;
    if (locks === null) return Promise.resolve(true);
    let held = false;
    return new Promise<boolean>((granted) => {
      locks
        .request(WRITER_LOCK, options, (lock) => {
          granted(lock !== null);
          if (lock === null) return undefined;
          held = true;
          return new Promise<void>((release) => (this.releaseLock = release));
        })
        .catch((e: unknown) => {
          granted(false); // a wait in line that was aborted (Take over) or refused
          // A held lock whose request rejects was stolen by a tab that took over.
          if (held && isAbort(e) && this.mode === 'writer') this.lostLock();
        });
    });
  }

  /** Waits in line for the lock: when the writer tab closes, this one becomes the writer. */
  private queueForLock(): void {
    const waiting = new AbortController();
    this.waiting = waiting;
    void this.lock({ signal: waiting.signal }).then((got) => {
      if (got && this.waiting === waiting) void this.becomeWriter();
    });
  }

  private lostLock(): void {
    this.releaseLock = null;
    this.mode = 'reader';
    this.displaced = true;
    this.queueForLock();
  }

  /** "Take over": this tab becomes the writer, the other one read-only. */
  async takeOver(): Promise<void> {
    if (this.mode !== 'reader') return;
    this.waiting?.abort();
    this.waiting = null;
    if (await this.lock({ steal: true })) await this.becomeWriter();
  }

  /** Writes what this tab holds (its journal, charts, checkpoint, settings), then adopts the stored labels. */
  private async becomeWriter(): Promise<void> {
    const store = this.store;
    if (store === null || this.mode === 'memory') return;
    this.mode = 'writer';
    this.displaced = false;
    this.waiting = null;
    try {
      const run = this.run ?? (await store.createRun(this.host.search()));
      this.run = run;
      const put = [...this.journal.values()].filter((l): l is Label => l !== null);
      const remove = [...this.journal].filter(([, l]) => l === null).map(([id]) => id);
      await store.changeLabels(run.id, put, remove);
      this.journal.clear();
      await store.markOpened(run.id);
      await store.saveSettings(run.id, this.host.search());
      if (this.unsavedTraining) {
        await store.saveMetrics(run.id, this.host.charts());
        const checkpoint = this.host.checkpoint();
        if (checkpoint) await store.saveCheckpoint(run.id, checkpoint);
        this.unsavedTraining = false;
      }
      this.host.adoptLabels((await store.labels(run.id)).labels);
      await this.refreshRuns();
    } catch (e) {
      this.writeFailed(e);
    }
  }

  // ---- the runs list ----

  async refreshRuns(): Promise<void> {
    if (this.store) this.runs = await this.store.runs();
  }

  /** Waits for the writes in flight and saves the charts, so a reload loses nothing. */
  private async settle(): Promise<void> {
    await this.saveMetrics();
    while (this.writing > 0 || this.background > 0) await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
  }

  /** "New run": this one stays in the list; the page loads again on a fresh run with the same settings. */
  async newRun(): Promise<void> {
    await this.listAction('start a new run', async (store) => {
      await this.settle();
      const search = this.host.search();
      await store.createRun(search);
      this.host.reload(search);
    });
  }

  /** Opens a stored run: the page loads again on its settings, labels, charts and models. */
  async openRun(id: string): Promise<void> {
    await this.listAction('open that run', async (store) => {
      await this.settle();
      await store.markOpened(id);
      this.host.reload((await store.run(id))?.search ?? '');
    });
  }

  async deleteRun(id: string): Promise<void> {
    if (id === this.run?.id) return;
    await this.listAction('delete that run', async (store) => {
      await store.deleteRun(id);
      await this.refreshRuns();
    });
  }

  /** The labels of a stored run (for its export). */
  async runLabels(id: string): Promise<Label[]> {
    return this.store ? (await this.store.labels(id)).labels : [];
  }

  private async listAction(what: string, act: (store: RunStore) => Promise<void>): Promise<void> {
    const store = this.store;
    if (store === null || this.mode !== 'writer') {
      this.runsProblem = `Could not ${what}: this tab is not saving (${this.mode === 'reader' ? 'take over first' : 'storage is unavailable'}).`;
      return;
    }
    this.runsProblem = null;
    try {
      await act(store);
    } catch (e) {
      this.runsProblem = `Could not ${what}: ${errorText(e)}`;
    }
  }
}
