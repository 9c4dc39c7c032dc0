// The IndexedDB store (src/ui/state/db.ts) and the move of localStorage labels into it
// (src/ui/state/storage.ts), on fake-indexeddb: labels keep their order and are never doubled, two
// connections writing at once keep every label, a run's deletion takes everything of it and
// nothing else, and the legacy key goes only once its labels are committed.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { Label } from '../../src/lib/config/label';
import { RunStore } from '../../src/ui/state/db';
import { LABELS_KEY, migrateLegacyLabels, UNREADABLE_KEY } from '../../src/ui/state/storage';

let dbCounter = 0;
/** A store over a database of its own (tests do not share one). */
function freshStore(): Promise<RunStore> {
  dbCounter += 1;
  return RunStore.open(`test-${dbCounter}`);
}

function label(i: number, choice: Label['choice'] = 'A'): Label {
  return { id: `l${i}`, prompt: 'the pizza was', completionA: `good ${i}.`, completionB: `bad ${i}.`, choice, source: 'human', time: 1_000 + i };
}

/** A localStorage stand-in (Node has none). */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  failWrites = false;
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    if (this.failWrites) throw new DOMException('blocked', 'SecurityError');
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    if (this.failWrites) throw new DOMException('blocked', 'SecurityError');
    this.items.set(key, value);
  }
}

describe('RunStore', () => {
  it('keeps labels in the order given, skips ids it holds, and edits in place', async () => {
    const store = await freshStore();
    const run = await store.createRun('?seed=3');
    expect(await store.addLabels(run.id, [label(1), label(2)])).toBe(2);
    expect(await store.addLabels(run.id, [label(2), label(3), label(3)])).toBe(1);
    await store.changeLabels(run.id, [label(1, 'B'), label(4)], ['l2']);
    const { labels, unreadable } = await store.labels(run.id);
    expect(labels.map((l) => `${l.id}:${l.choice}`)).toEqual(['l1:B', 'l3:A', 'l4:A']);
    expect(unreadable).toBe(0);
    await store.replaceLabels(run.id, [label(9), label(8)]);
    expect((await store.labels(run.id)).labels.map((l) => l.id)).toEqual(['l9', 'l8']);
    store.close();
  });

  it('two connections adding labels at once keep all of them (5 + 5 = 10)', async () => {
    dbCounter += 1;
    const name = `test-${dbCounter}`;
    const [a, b] = await Promise.all([RunStore.open(name), RunStore.open(name)]);
    const run = await a.createRun('');
    const writes = [];
    for (let i = 0; i < 5; i++) {
      writes.push(a.addLabels(run.id, [label(i)]));
      writes.push(b.addLabels(run.id, [label(100 + i)]));
    }
    await Promise.all(writes);
    const { labels } = await b.labels(run.id);
    expect(labels).toHaveLength(10);
    expect(new Set(labels.map((l) => l.id)).size).toBe(10);
    a.close();
    b.close();
  });

  it('lists runs newest opened first with their label counts; deleting one leaves the others whole', async () => {
    const store = await freshStore();
    const first = await store.createRun('', 1000);
    const second = await store.createRun('?seed=2', 2000);
    expect(second.name).toBe('Run 2');
    await store.addLabels(first.id, [label(1), label(2)]);
    await store.addLabels(second.id, [label(3)]);
    await store.saveMetrics(first.id, { ppo: { names: ['step', 'loss'], columns: [Float32Array.of(1, 2), Float32Array.of(0.5, 0.25)] } });
    await store.saveCheckpoint(first.id, { meta: { createdAt: 5, labels: 2, steps: { ppo: 2 }, bytes: 4, format: 'test/1' }, bytes: new Uint8Array([1, 2, 3, 4]).buffer });
    expect((await store.current())?.id).toBe(second.id);
    await store.markOpened(first.id, 3000);
    expect((await store.current())?.id).toBe(first.id);
    expect((await store.runs()).map((r) => [r.name, r.labels])).toEqual([['Run 1', 2], ['Run 2', 1]]);

    const metrics = await store.metrics(first.id);
    expect([...metrics.ppo.columns[1]]).toEqual([0.5, 0.25]);
    const checkpoint = await store.checkpoint(first.id);
    expect([...new Uint8Array(checkpoint?.bytes ?? new ArrayBuffer(0))]).toEqual([1, 2, 3, 4]);

    await store.deleteRun(first.id);
    expect((await store.runs()).map((r) => r.id)).toEqual([second.id]);
    expect((await store.labels(first.id)).labels).toEqual([]);
    expect(await store.metrics(first.id)).toEqual({});
    expect(await store.checkpoint(first.id)).toBeNull();
    expect((await store.labels(second.id)).labels.map((l) => l.id)).toEqual(['l3']);
    store.close();
  });

  it('saved metrics replace the run\'s earlier ones (a chart that is gone is dropped)', async () => {
    const store = await freshStore();
    const run = await store.createRun('');
    await store.saveMetrics(run.id, { ppo: { names: ['step'], columns: [Float32Array.of(1)] }, grpo: { names: ['step'], columns: [Float32Array.of(1)] } });
    await store.saveMetrics(run.id, { ppo: { names: ['step'], columns: [Float32Array.of(1, 2)] } });
    const metrics = await store.metrics(run.id);
    expect(Object.keys(metrics)).toEqual(['ppo']);
    expect([...metrics.ppo.columns[0]]).toEqual([1, 2]);
    store.close();
  });

  it('a failed transaction writes none of its labels', async () => {
    const store = await freshStore();
    const run = await store.createRun('');
    await store.addLabels(run.id, [label(1)]);
    const broken = { ...label(2), prompt: Symbol('not cloneable') } as unknown as Label;
    await expect(store.addLabels(run.id, [label(3), broken])).rejects.toThrow();
    expect((await store.labels(run.id)).labels.map((l) => l.id)).toEqual(['l1']);
    store.close();
  });
});

describe('migrateLegacyLabels', () => {
  it('moves every stored label into the run, then removes the key; a second load adds nothing', async () => {
    const store = await freshStore();
    const run = await store.createRun('');
    const local = new MemoryStorage();
    const old = Array.from({ length: 25 }, (_, i) => label(i, i % 3 === 0 ? 'tie' : 'B'));
    local.setItem(LABELS_KEY, JSON.stringify(old));
    expect(await migrateLegacyLabels(store, run.id, local)).toEqual({ moved: 25, problem: null });
    expect((await store.labels(run.id)).labels).toEqual(old);
    expect(local.getItem(LABELS_KEY)).toBeNull();
    expect(await migrateLegacyLabels(store, run.id, local)).toEqual({ moved: 0, problem: null });
    store.close();
  });

  it('keeps unreadable entries aside and says how many', async () => {
    const store = await freshStore();
    const run = await store.createRun('');
    const local = new MemoryStorage();
    const raw = JSON.stringify([label(1), { id: 'x', choice: 'maybe' }, label(2)]);
    local.setItem(LABELS_KEY, raw);
    const result = await migrateLegacyLabels(store, run.id, local);
    expect(result.moved).toBe(2);
    expect(result.problem).toMatch(/^1 label saved by an earlier version of the page could not be read and was set aside\.$/);
    expect(local.getItem(UNREADABLE_KEY)).toBe(raw);
    expect(local.getItem(LABELS_KEY)).toBeNull();
    store.close();
  });

  it('a key localStorage will not remove is moved once: the next load finds its labels held', async () => {
    const store = await freshStore();
    const run = await store.createRun('');
    const local = new MemoryStorage();
    local.setItem(LABELS_KEY, JSON.stringify([label(1), label(2)]));
    local.failWrites = true;
    expect((await migrateLegacyLabels(store, run.id, local)).moved).toBe(2);
    expect(local.getItem(LABELS_KEY)).not.toBeNull();
    expect((await migrateLegacyLabels(store, run.id, local)).moved).toBe(0);
    expect((await store.labels(run.id)).labels).toHaveLength(2);
    store.close();
  });

  it('leaves the key in place when the IndexedDB write fails', async () => {
    const store = await freshStore();
    const run = await store.createRun('');
    const local = new MemoryStorage();
    const raw = JSON.stringify([label(1)]);
    local.setItem(LABELS_KEY, raw);
    store.close(); // every transaction on a closed connection throws
    await expect(migrateLegacyLabels(store, run.id, local)).rejects.toThrow();
    expect(local.getItem(LABELS_KEY)).toBe(raw);
  });
});
