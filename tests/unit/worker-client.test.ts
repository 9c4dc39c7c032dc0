// The page's worker client (src/ui/worker-client.ts) on a fake worker: a worker that posts nothing
// while a request waits counts as hung after the stall limit (the page then restarts it), one
// that keeps posting events does not, and a crash rejects every pending request.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FromWorker, ToWorker } from '../../src/lib/protocol/messages';
import { WorkerClient, type WorkerLike } from '../../src/ui/worker-client';

class FakeWorker implements WorkerLike {
  sent: ToWorker[] = [];
  terminated = false;
  private readonly listeners = new Map<string, ((event: never) => void)[]>();
  postMessage(message: ToWorker): void {
    this.sent.push(message);
  }
  addEventListener(type: string, listener: (event: never) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  emit(type: 'message' | 'error', event: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l(event as never);
  }
  post(message: FromWorker): void {
    this.emit('message', { data: message });
  }
  terminate(): void {
    this.terminated = true;
  }
}

const STALL = 30_000;

describe('worker client', () => {
  let now = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });
  const advance = (ms: number) => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };

  it('a worker silent for the stall limit while a request waits has hung: the failure is reported and the request rejected', async () => {
    const worker = new FakeWorker();
    const client = new WorkerClient(worker, STALL, () => now);
    const failures: string[] = [];
    client.onFailure = (m) => failures.push(m);
    const step = client.request('step', {});
    const rejected = expect(step).rejects.toThrow(/stopped answering/);
    advance(STALL - 5_000);
    expect(failures).toEqual([]);
    advance(5_000);
    expect(failures).toEqual(['The background worker stopped answering (nothing for 30 s)']);
    expect(worker.terminated).toBe(true);
    await rejected;
  });

  it('a worker that keeps posting events while a long request waits is not hung; an idle one with nothing pending is not either', () => {
    const worker = new FakeWorker();
    const client = new WorkerClient(worker, STALL, () => now);
    const failures: string[] = [];
    client.onFailure = (m) => failures.push(m);
    advance(3 * STALL); // idle, nothing asked
    void client.request('step', {}).catch(() => {});
    for (let i = 0; i < 10; i++) {
      advance(STALL / 2);
      worker.post({ type: 'warning', message: 'still working' });
    }
    expect(failures).toEqual([]);
    const requestId = (worker.sent[0] as { requestId: number }).requestId;
    worker.post({ type: 'stepped', requestId, steps: { ppo: 1 } });
    client.dispose();
  });

  it('an error event from the worker is one failure, and every pending request is rejected', async () => {
    const worker = new FakeWorker();
    const client = new WorkerClient(worker, STALL, () => now);
    const failures: string[] = [];
    client.onFailure = (m) => failures.push(m);
    vi.stubGlobal('ErrorEvent', class extends Event {}); // Node has none; a browser's bare load failure is a plain Event
    const a = client.request('saveCheckpoint', {});
    worker.emit('error', new Event('error'));
    await expect(a).rejects.toThrow(/failed/);
    expect(failures).toEqual(['The background worker failed (its script did not load or crashed)']);
  });
});
