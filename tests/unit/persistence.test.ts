// What a tab saves (src/ui/state/runs.svelte.ts) on fake-indexeddb: a run is created and read
// back by the next page load, a full disk or a missing IndexedDB turns into the in-memory mode with
// a message (and every change held, none lost), a tab without the writer lock keeps its changes
// in a journal and writes them when it takes over, and the chart rows go through the store whole.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Label } from '../../src/lib/config/label';
import { RunStore, type SeriesSnapshot } from '../../src/ui/state/db';
import { Persistence, restoreSeries, snapshotSeries, type PersistHost } from '../../src/ui/state/runs.svelte';
import { Series } from '../../src/ui/state/series.svelte';

let dbCounter = 0;

function label(i: number): Label {
  return { id: `l${i}`, prompt: 'what a', completionA: `day ${i}.`, completionB: `mess ${i}.`, choice: 'B', source: 'human', time: 2_000 + i };
}

/** A page stand-in: its label list and what Persistence asked of it. */
class FakeHost implements PersistHost {
  list: Label[] = [];
  charted: Record<string, SeriesSnapshot> = {};
  reloads: string[] = [];
  labels(): readonly Label[] {
    return this.list;
  }
  adoptLabels(labels: Label[]): void {
    this.list = labels;
  }
  charts(): Record<string, SeriesSnapshot> {
    return this.charted;
  }
  checkpoint(): null {
    return null;
  }
  search(): string {
    return '?seed=7';
  }
  reload(search: string): void {
    this.reloads.push(search);
  }
}

/**
 * A LockManager with one lock: `request` with ifAvailable gets null while another holds it, a
 * waiting request queues, steal rejects the holder's request with AbortError (as the Web Locks spec says).
 */
class FakeLocks {
  private holder: { reject: (e: unknown) => void; release: () => void } | null = null;
  private queue: (() => void)[] = [];

  request(_name: string, options: LockOptions, callback: (lock: Lock | null) => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        const held = { reject, release: () => {} };
        this.holder = held;
        void Promise.resolve(callback({ name: _name, mode: 'exclusive' } as Lock)).then((v) => {
          if (this.holder === held) this.next();
          resolve(v);
        });
      };
      if (options.steal) {
        this.holder?.reject(new DOMException('stolen', 'AbortError'));
        grant();
      } else if (this.holder === null) grant();
      else if (options.ifAvailable) void Promise.resolve(callback(null)).then(resolve);
      else {
        this.queue.push(grant);
        options.signal?.addEventListener('abort', () => {
          this.queue = this.queue.filter((g) => g !== grant);
          reject(new DOMException('aborted', 'AbortError'));
        });
      }
    });
  }

  private next(): void {
    this.holder = null;
    this.queue.shift()?.();
  }
}

function persistence(host: FakeHost, name: string, locks: FakeLocks | null = null): Persistence {
  return new Persistence(host, locks as unknown as LockManager | null, () => RunStore.open(name));
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

describe('Persistence', () => {
  it('creates a run with the address\'s settings, stores each label, and the next load reads them back', async () => {
    const name = `persist-${++dbCounter}`;
    const host = new FakeHost();
    const first = persistence(host, name);
    expect((await first.open()).labels).toEqual([]);
    expect(first.mode).toBe('writer');
    await first.added([label(1), label(2)]);
    await first.changed({ ...label(1), choice: 'tie' });
    await first.removed('l2');
    expect(first.unsaved).toBe(false);

    const again = await persistence(new FakeHost(), name).open();
    expect(again.labels.map((l) => `${l.id}:${l.choice}`)).toEqual(['l1:tie']);
    expect(again.search).toBe('?seed=7');
  });

  it('a full disk turns into the in-memory mode: it says so, holds the label, and writes nothing more', async () => {
    const name = `persist-${++dbCounter}`;
    const host = new FakeHost();
    const p = persistence(host, name);
    await p.open();
    await p.added([label(1)]);
    const add = IDBObjectStore.prototype.add;
    IDBObjectStore.prototype.add = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>): IDBRequest<IDBValidKey> {
      if (this.name === 'labels') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return add.apply(this, args);
    };
    cleanups.push(() => (IDBObjectStore.prototype.add = add));
    await p.added([label(2)]); // resolves: the page keeps the label and says it is in memory only
    expect(p.mode).toBe('memory');
    expect(p.problem).toMatch(/^Could not save the labels: the browser storage is full\. Nothing is lost .* in memory only \(1 label change not saved\): export them as JSONL/);
    expect(p.unsaved).toBe(true);
    IDBObjectStore.prototype.add = add;
    await p.added([label(3)]); // memory mode: not written, even though the disk has room again
    expect(p.problem).toMatch(/\(2 label changes not saved\)/);
    expect((await persistence(new FakeHost(), name).open()).labels.map((l) => l.id)).toEqual(['l1']);
  });

  it('without IndexedDB the page goes on in memory and says why', async () => {
    const p = new Persistence(new FakeHost(), null, () => Promise.reject(new Error('this browser gives the page no IndexedDB')));
    expect((await p.open()).labels).toEqual([]);
    expect(p.mode).toBe('memory');
    expect(p.problem).toMatch(/^Could not save the labels: this browser gives the page no storage \(this browser gives the page no IndexedDB\)\./);
    await p.added([label(1)]);
    expect(p.unsaved).toBe(true);
  });

  it('a second tab is read-only, journals its labels, and on Take over writes them beside the first tab\'s', async () => {
    const name = `persist-${++dbCounter}`;
    const locks = new FakeLocks();
    const hostA = new FakeHost();
    const hostB = new FakeHost();
    const a = persistence(hostA, name, locks);
    const b = persistence(hostB, name, locks);
    await a.open();
    await b.open();
    expect([a.mode, b.mode]).toEqual(['writer', 'reader']);
    expect(b.readOnlyText).toMatch(/^This run is open in another tab, so this tab is read-only/);
    for (let i = 0; i < 5; i++) {
      await a.added([label(i)]);
      await b.added([label(10 + i)]);
    }
    expect(b.journalSize).toBe(5);
    expect(b.unsaved).toBe(true);
    await b.takeOver();
    expect([a.mode, b.mode]).toEqual(['reader', 'writer']);
    expect(a.readOnlyText).toMatch(/^Another tab took over this run, so this tab is read-only now/);
    expect(hostB.list).toHaveLength(10);
    expect(b.unsaved).toBe(false);
    // The displaced tab's new label waits in its journal and is written when it becomes the writer again.
    await a.added([label(99)]);
    await a.takeOver();
    expect(hostA.list.map((l) => l.id)).toContain('l99');
    expect((await persistence(new FakeHost(), name).open()).labels).toHaveLength(11);
  });

  it('chart rows survive the store as they were (NaN gaps included)', async () => {
    const name = `persist-${++dbCounter}`;
    const host = new FakeHost();
    const series = new Series(['step', 'loss']);
    series.pushRecord({ step: 1, loss: 0.5 });
    series.pushRecord({ step: 2, kl: 3 });
    host.charted = { ppo: snapshotSeries(series) };
    const p = persistence(host, name);
    await p.open();
    p.metricsChanged();
    await p.saveMetrics();
    const back = new Series(['step']);
    restoreSeries(back, (await persistence(new FakeHost(), name).open()).charts.ppo);
    expect(back.names).toEqual(['step', 'loss', 'kl']);
    expect(back.toCsv()).toBe(series.toCsv());
  });
});
