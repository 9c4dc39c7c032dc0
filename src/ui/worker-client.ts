// The UI thread's side of the worker protocol: it starts the module worker, gives every request
// an id, resolves the promise of the request a reply names, and hands the worker's events (pairs,
// metrics, run state) to `onEvent`. A failure of the worker itself (its script does not load, it
// crashes, an error outside any request) goes to `onFailure`, and every pending request is
// rejected, so the page never waits for a reply that cannot come. A worker that posts nothing for
// STALL_MS while a request waits has hung (an endless loop, a tab starved of memory): it counts
// as a failure too, so the page can restart it.
import {
  assertNever,
  PROTOCOL_VERSION,
  REPLY_TYPE,
  type FireAndForget,
  type FromWorker,
  type InitRequest,
  type ReplyTo,
  type ToWorker,
  type WorkerEvent,
  type WorkerReply,
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

/** Silence that counts as a hang while a request waits: longer than the slowest job measured (a PPO iteration on a software WebGPU adapter took 103 s); a busy worker posts an event at least every iteration. */
export const STALL_MS = 180_000;
/** How often the silence is checked. */
const STALL_CHECK_MS = 5_000;

interface Pending {
  expects: WorkerReply['type'];
  /** When it was sent (the silence is counted from the later of this and the last message). */
  sentAt: number;
  resolve: (reply: WorkerReply) => void;
  reject: (error: Error) => void;
}

export function startWorker(): WorkerLike {
  return new Worker(new URL('../worker/main.ts', import.meta.url), { type: 'module', name: 'rlhf-worker' });
}

/** The body of a request of type K: everything but its type and id. */
export type RequestBody<K extends keyof ReplyTo> = Omit<Extract<ToWorker, { type: K }>, 'type' | 'requestId'>;

export class WorkerClient {
  /** Called once per failure that belongs to no request. */
  onFailure: (message: string) => void = () => {};
  /** Called for every event (a message that answers no request). */
  onEvent: (event: WorkerEvent) => void = () => {};
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stopped = false;
  /** When the worker last posted anything. */
  private heardAt: number;
  private readonly watchdog: ReturnType<typeof setInterval>;

  /** `now` and `stallMs`: the clock and the hang limit (tests shorten them). */
  constructor(
    private readonly worker: WorkerLike = startWorker(),
    private readonly stallMs = STALL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.heardAt = now();
    this.watchdog = setInterval(() => this.checkStall(), Math.min(STALL_CHECK_MS, stallMs));
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
      this.heardAt = this.now();
      this.receive(event.data);
    });
    worker.addEventListener('error', (event: Event) => {
      // A module worker whose script fails to load gives a bare Event with no message.
      const detail = event instanceof ErrorEvent && event.message ? `: ${event.message}` : ' (its script did not load or crashed)';
      this.fail(`The background worker failed${detail}`);
    });
    worker.addEventListener('messageerror', () => this.fail('A message from the background worker could not be read'));
  }

  init(options: Omit<InitRequest, 'type' | 'requestId' | 'version'>): Promise<ReplyTo['init']> {
    return this.request('init', { version: PROTOCOL_VERSION, ...options });
  }

  /** Sends a request with a fresh id; resolves with the reply of the type REPLY_TYPE names. */
  request<K extends keyof ReplyTo>(type: K, body: RequestBody<K>): Promise<ReplyTo[K]> {
    if (this.stopped) return Promise.reject(new WorkerError('the background worker is not running'));
    const requestId = this.nextId++;
    const message = { ...body, type, requestId } as unknown as ToWorker;
    return new Promise<ReplyTo[K]>((resolve, reject) => {
      // receive() resolves only with a reply whose type is REPLY_TYPE[type], i.e. a ReplyTo[K].
      this.pending.set(requestId, { expects: REPLY_TYPE[type], sentAt: this.now(), resolve: resolve as (reply: WorkerReply) => void, reject });
      this.worker.postMessage(message);
    });
  }

  /** A message that awaits no reply (its effect comes back as events). */
  send(message: FireAndForget): void {
    if (!this.stopped) this.worker.postMessage(message);
  }

  dispose(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    this.worker.terminate();
    this.rejectAll('the worker was stopped');
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'ready':
      case 'samples':
      case 'promptSet':
      case 'labelled':
      case 'labelsEdited':
      case 'exported':
      case 'imported':
      case 'trlExported':
      case 'stepped':
      case 'resetDone':
      case 'methodsSet':
      case 'demonstrationsSet':
      case 'annotatorSet':
      case 'annotation':
      case 'rewardStepped':
      case 'tokenBreakdown':
      case 'roundStarted':
      case 'blindPair':
      case 'checkpointSaved':
      case 'checkpointRestored':
      case 'checkpointExported': {
        const p = this.pending.get(message.requestId);
        if (!p) return; // a reply to a request nobody waits for any more
        this.pending.delete(message.requestId);
        if (p.expects === message.type) p.resolve(message);
        else p.reject(new WorkerError(`the worker answered "${message.type}" to a request expecting "${p.expects}"`));
        break;
      }
      case 'error': {
        const p = message.requestId === undefined ? undefined : this.pending.get(message.requestId);
        if (p && message.requestId !== undefined) {
          this.pending.delete(message.requestId);
          p.reject(new WorkerError(message.message));
        } else if (message.requestId === undefined) this.fail(message.message);
        break;
      }
      case 'pair':
      case 'pairsWithdrawn':
      case 'rewardModel':
      case 'refit':
      case 'iteration':
      case 'runState':
      case 'methodState':
      case 'methodConfig':
      case 'strip':
      case 'gold':
      case 'plane':
      case 'rolledBack':
      case 'hacking':
      case 'warning':
      case 'rounds':
      case 'checkpoint':
        this.onEvent(message);
        break;
      default:
        assertNever(message);
    }
  }

  /** A request has waited STALL_MS and the worker has posted nothing since it was sent: it hung. */
  private checkStall(): void {
    if (this.stopped || this.pending.size === 0) return;
    const oldest = Math.min(...[...this.pending.values()].map((p) => p.sentAt));
    const silent = this.now() - Math.max(oldest, this.heardAt);
    if (silent >= this.stallMs) this.fail(`The background worker stopped answering (nothing for ${Math.round(silent / 1000)} s)`);
  }

  private fail(message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watchdog);
    this.worker.terminate(); // whatever state it is in, the page starts a fresh one to go on
    this.rejectAll(message);
    this.onFailure(message);
  }

  private rejectAll(message: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new WorkerError(message));
  }
}
