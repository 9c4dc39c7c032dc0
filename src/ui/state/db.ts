// The page's IndexedDB database, through `idb`: a list of runs, and per run its labels (one record
// each, so two tabs that add labels at once both keep theirs: nothing is written as a whole list),
// its settings (the address's run parameters), the metric history of each chart and the latest
// checkpoint bytes. Every change is one transaction, and its promise resolves once it committed.
// Durability is the browser's default, not 'strict': a committed transaction is in the browser's
// own storage and survives the tab closing or crashing; 'strict' adds an fsync that took 40-100 ms
// per label here (default: 1 ms), so a burst of clicks queued behind it and the "N labels" status
// lagged the presses (fast-labels: 10 of 12 counted 150 ms after the last press). Which tab may
// write is decided elsewhere (runs.svelte.ts, through Web Locks); this module keeps each write whole.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import * as v from 'valibot';
import { LabelSchema, type Label } from '../../lib/config/label';
import type { CheckpointMeta } from '../../lib/protocol/messages';

export const DB_NAME = 'rlhf-playground';
/** Bumped with every change of the stores below (upgrade() creates them). */
const DB_VERSION = 1;

export interface RunRecord {
  id: string;
  /** "Run 3": its number among the runs this browser made. */
  name: string;
  createdAt: number;
  /** When it was last opened; the newest is the one a plain reload continues. */
  openedAt: number;
  /** The run parameters of the address (runConfigSearch of its RunConfig, '' for the defaults). */
  search: string;
}

/** One run in the runs list: its record and how many labels it holds. */
export interface RunSummary extends RunRecord {
  labels: number;
}

interface LabelRecord {
  /** Insertion order across every tab (autoincrement), so a run's labels read back in the order given. */
  seq?: number;
  runId: string;
  id: string;
  label: Label;
}

/** One chart's rows as Series holds them: column names and one Float32Array per column. */
export interface SeriesSnapshot {
  names: string[];
  columns: Float32Array[];
}

interface MetricsRecord {
  runId: string;
  /** A method's name, or 'reward' for the reward model's chart. */
  chart: string;
  series: SeriesSnapshot;
}

export interface StoredCheckpoint {
  meta: CheckpointMeta;
  bytes: ArrayBuffer;
}

interface CheckpointRecord extends StoredCheckpoint {
  runId: string;
}

interface PlaygroundDb extends DBSchema {
  runs: { key: string; value: RunRecord; indexes: { byOpened: number } };
  labels: { key: number; value: LabelRecord; indexes: { byRun: string; byRunAndId: [string, string] } };
  metrics: { key: [string, string]; value: MetricsRecord; indexes: { byRun: string } };
  checkpoints: { key: string; value: CheckpointRecord };
}

/**
 * Runs `write` in `tx` and waits for the commit. A throw (a value that cannot be stored, a full
 * disk) aborts the transaction, so none of its writes happen, and is thrown again.
 */
async function whole<T>(tx: { abort(): void; done: Promise<void> }, write: () => Promise<T>): Promise<T> {
  try {
    const result = await write();
    await tx.done;
    return result;
  } catch (e) {
    try {
      tx.abort();
    } catch {
      // it has finished already (aborted by the browser)
    }
    await tx.done.catch(() => undefined);
    throw e;
  }
}

/** Requests issued together (the transaction runs them in order) and awaited together. */
async function together(requests: Iterable<Promise<unknown>>): Promise<void> {
  const pending: Promise<unknown>[] = [];
  // Each gets a handler as it is made: when one fails (or a request throws as it is made), the
  // others fail with the aborted transaction, and only the first failure is thrown.
  for (const p of requests) {
    p.catch(() => undefined);
    pending.push(p);
  }
  await Promise.all(pending);
}

let runCounter = 0;
/** A run id unique across tabs and reloads (crypto.randomUUID needs a secure context). */
function newRunId(): string {
  runCounter += 1;
  return `run-${Date.now().toString(36)}-${runCounter.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export class RunStore {
  private constructor(private readonly db: IDBPDatabase<PlaygroundDb>) {}

  /** Opens (or creates) the database; throws when the browser gives no IndexedDB. */
  static async open(name = DB_NAME): Promise<RunStore> {
    if (typeof indexedDB === 'undefined' || indexedDB === null) throw new Error('this browser gives the page no IndexedDB');
    const db = await openDB<PlaygroundDb>(name, DB_VERSION, {
      upgrade(db) {
        db.createObjectStore('runs', { keyPath: 'id' }).createIndex('byOpened', 'openedAt');
        const labels = db.createObjectStore('labels', { keyPath: 'seq', autoIncrement: true });
        labels.createIndex('byRun', 'runId');
        labels.createIndex('byRunAndId', ['runId', 'id'], { unique: true });
        db.createObjectStore('metrics', { keyPath: ['runId', 'chart'] }).createIndex('byRun', 'runId');
        db.createObjectStore('checkpoints', { keyPath: 'runId' });
      },
      // Another tab opens a newer version of the page: let it upgrade, this connection goes.
      blocking() {
        db.close();
      },
    });
    return new RunStore(db);
  }

  close(): void {
    this.db.close();
  }

  // ---- runs ----

  /** Every run, newest opened first, with its label count. */
  async runs(): Promise<RunSummary[]> {
    const tx = this.db.transaction(['runs', 'labels']);
    const records = await tx.objectStore('runs').getAll();
    const byRun = tx.objectStore('labels').index('byRun');
    const counts = await Promise.all(records.map((r) => byRun.count(r.id)));
    await tx.done;
    return records.map((r, i) => ({ ...r, labels: counts[i] })).sort((a, b) => b.openedAt - a.openedAt);
  }

  async run(id: string): Promise<RunRecord | undefined> {
    return this.db.get('runs', id);
  }

  /** The run a reload continues: the one opened last, or undefined before the first. */
  async current(): Promise<RunRecord | undefined> {
    const cursor = await this.db.transaction('runs').store.index('byOpened').openCursor(null, 'prev');
    return cursor?.value;
  }

  /** A new, empty run with these settings; it becomes the current one. */
  async createRun(search: string, now = Date.now()): Promise<RunRecord> {
    const tx = this.db.transaction('runs', 'readwrite');
    const number = (await tx.store.count()) + 1;
    const run: RunRecord = { id: newRunId(), name: `Run ${number}`, createdAt: now, openedAt: now, search };
    await tx.store.add(run);
    await tx.done;
    return run;
  }

  /** Makes `id` the run a reload continues. */
  async markOpened(id: string, now = Date.now()): Promise<void> {
    const tx = this.db.transaction('runs', 'readwrite');
    const run = await tx.store.get(id);
    if (!run) throw new Error('that run is no longer stored (another tab may have deleted it)');
    await tx.store.put({ ...run, openedAt: Math.max(now, run.openedAt) });
    await tx.done;
  }

  async saveSettings(id: string, search: string): Promise<void> {
    const tx = this.db.transaction('runs', 'readwrite');
    const run = await tx.store.get(id);
    if (run && run.search !== search) await tx.store.put({ ...run, search });
    await tx.done;
  }

  /** Deletes a run and everything stored with it, in one transaction. */
  async deleteRun(id: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'labels', 'metrics', 'checkpoints'], 'readwrite');
    await whole(tx, async () => {
      const labels = tx.objectStore('labels');
      const metrics = tx.objectStore('metrics');
      await together([
        tx.objectStore('runs').delete(id),
        tx.objectStore('checkpoints').delete(id),
        labels.index('byRun').getAllKeys(id).then((keys) => together(keys.map((k) => labels.delete(k)))),
        metrics.index('byRun').getAllKeys(id).then((keys) => together(keys.map((k) => metrics.delete(k)))),
      ]);
    });
  }

  // ---- labels ----

  /**
   * The run's labels in the order they were given. A record that fails LabelSchema (written by
   * another version, or damaged) is left in the store and counted in `unreadable`, not erased.
   */
  async labels(runId: string): Promise<{ labels: Label[]; unreadable: number }> {
    const records = await this.db.getAllFromIndex('labels', 'byRun', runId);
    records.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    const labels = records.map((r) => r.label).filter((l): l is Label => v.is(LabelSchema, l));
    return { labels, unreadable: records.length - labels.length };
  }

  /**
   * Adds labels (in order) in one transaction: all are stored when it resolves, or none if
   * it fails. A label whose id the run holds already is left as stored; returns how many were new.
   */
  async addLabels(runId: string, labels: readonly Label[]): Promise<number> {
    const tx = this.db.transaction('labels', 'readwrite');
    return whole(tx, async () => {
      const held = new Set((await tx.store.index('byRun').getAll(runId)).map((r) => r.id));
      const fresh = labels.filter((l) => !held.has(l.id) && held.add(l.id));
      await together(function* () {
        for (const label of fresh) yield tx.store.add({ runId, id: label.id, label });
      }());
      return fresh.length;
    });
  }

  /**
   * Label edits in one transaction: each of `put` replaces the stored label of its id in
   * place (its position stays) or is added at the end; each id of `remove` is deleted.
   */
  async changeLabels(runId: string, put: readonly Label[], remove: readonly string[] = []): Promise<void> {
    const tx = this.db.transaction('labels', 'readwrite');
    const byId = tx.store.index('byRunAndId');
    await whole(tx, async () => {
      for (const label of put) {
        const seq = await byId.getKey([runId, label.id]);
        await tx.store.put(seq === undefined ? { runId, id: label.id, label } : { seq, runId, id: label.id, label });
      }
      for (const id of remove) {
        const seq = await byId.getKey([runId, id]);
        if (seq !== undefined) await tx.store.delete(seq);
      }
    });
  }

  /** The run's labels become exactly `labels` (an import that replaces, or Clear), in one transaction. */
  async replaceLabels(runId: string, labels: readonly Label[]): Promise<void> {
    const tx = this.db.transaction('labels', 'readwrite');
    await whole(tx, async () => {
      await tx.store.index('byRun').getAllKeys(runId).then((keys) => together(keys.map((k) => tx.store.delete(k))));
      const seen = new Set<string>();
      await together(function* () {
        for (const label of labels) if (!seen.has(label.id) && seen.add(label.id)) yield tx.store.add({ runId, id: label.id, label });
      }());
    });
  }

  // ---- metrics and checkpoints ----

  /** Every chart's rows of the run (all in one transaction, so they belong to the same moment). */
  async saveMetrics(runId: string, charts: Readonly<Record<string, SeriesSnapshot>>): Promise<void> {
    const tx = this.db.transaction('metrics', 'readwrite');
    await whole(tx, async () => {
      await tx.store.index('byRun').getAllKeys(runId).then((keys) => together(keys.map((k) => tx.store.delete(k))));
      await together(Object.entries(charts).map(([chart, series]) => tx.store.put({ runId, chart, series })));
    });
  }

  async metrics(runId: string): Promise<Record<string, SeriesSnapshot>> {
    const records = await this.db.getAllFromIndex('metrics', 'byRun', runId);
    return Object.fromEntries(records.map((r) => [r.chart, r.series]));
  }

  async saveCheckpoint(runId: string, checkpoint: StoredCheckpoint): Promise<void> {
    await this.db.put('checkpoints', { runId, meta: checkpoint.meta, bytes: checkpoint.bytes });
  }

  async checkpoint(runId: string): Promise<StoredCheckpoint | null> {
    const record = await this.db.get('checkpoints', runId);
    return record ? { meta: record.meta, bytes: record.bytes } : null;
  }
}
