// The UI thread's side of the worker protocol: it starts the module worker, gives every request
// an id, and resolves the promise of the request a reply names. A failure of the worker itself
// (its script does not load, an error outside any request) goes to `onFailure`, and every pending
// request is rejected, so the page never waits for a reply that cannot come.
import {
  assertNever,
  PROTOCOL_VERSION,
  REPLY_TYPE,
  type BackendName,
  type FromWorker,
  type ReadyReply,
  type ReplyTo,
  type SamplesReply,
  type ToWorker,
} from '../lib/protocol/messages';

/** A request the worker answered with an `error` reply. */
export class WorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerError';
  }
}

/** What the client needs of a Worker: a seam for tests and for a future SharedWorker. */
export interface WorkerLike {
  postMessage(message: ToWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<FromWorker>) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
  terminate(): void;
}

interface Pending {
  expects: FromWorker['type'];
  resolve: (reply: FromWorker) => void;
  reject: (error: Error) => void;
}

export function startWorker(): WorkerLike {
  return new Worker(new URL('../worker/main.ts', import.meta.url), { type: 'module', name: 'rlhf-worker' });
}

export class WorkerClient {
  /** Called once per failure that belongs to no request. */
  onFailure: (message: string) => void = () => {};
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly worker: WorkerLike = startWorker()) {
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => this.receive(event.data));
    worker.addEventListener('error', (event: Event) => {
      // A module worker whose script fails to load gives a bare Event with no message.
      const detail = event instanceof ErrorEvent && event.message ? `: ${event.message}` : ' (its script did not load or crashed)';
      this.fail(`The background worker failed${detail}`);
    });
    worker.addEventListener('messageerror', () => this.fail('A message from the background worker could not be read'));
  }

  init(options: { modelUrl: string; backend?: BackendName; seed: number }): Promise<ReadyReply> {
    return this.request((requestId) => ({ type: 'init', version: PROTOCOL_VERSION, requestId, ...options }));
  }

  sample(prompts: string[], temperature: number): Promise<SamplesReply> {
    return this.request((requestId) => ({ type: 'sample', requestId, prompts, temperature }));
  }

  dispose(): void {
    this.worker.terminate();
    this.rejectAll('the worker was stopped');
  }

  /** Sends a request with a fresh id; resolves with the reply of the type REPLY_TYPE names. */
  private request<K extends ToWorker['type']>(build: (requestId: number) => Extract<ToWorker, { type: K }>): Promise<ReplyTo[K]> {
    const requestId = this.nextId++;
    const message = build(requestId);
    const expects: FromWorker['type'] = REPLY_TYPE[message.type as K];
    return new Promise<ReplyTo[K]>((resolve, reject) => {
      // receive() resolves only with a reply whose type is `expects`, i.e. a ReplyTo[K].
      this.pending.set(requestId, { expects, resolve: resolve as (reply: FromWorker) => void, reject });
      this.worker.postMessage(message);
    });
  }

  private receive(reply: FromWorker): void {
    switch (reply.type) {
      case 'ready':
      case 'samples': {
        const p = this.pending.get(reply.requestId);
        if (!p) return; // a reply to a request nobody waits for any more
        this.pending.delete(reply.requestId);
        if (p.expects === reply.type) p.resolve(reply);
        else p.reject(new WorkerError(`the worker answered "${reply.type}" to a request expecting "${p.expects}"`));
        break;
      }
      case 'error': {
        const p = reply.requestId === undefined ? undefined : this.pending.get(reply.requestId);
        if (p && reply.requestId !== undefined) {
          this.pending.delete(reply.requestId);
          p.reject(new WorkerError(reply.message));
        } else this.onFailure(reply.message);
        break;
      }
      default:
        assertNever(reply);
    }
  }

  private fail(message: string): void {
    this.rejectAll(message);
    this.onFailure(message);
  }

  private rejectAll(message: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new WorkerError(message));
  }
}
