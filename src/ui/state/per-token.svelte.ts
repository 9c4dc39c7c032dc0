// The per-token view's state (issue 10, "Per-token view"): which strip sample is shown and the
// worker's breakdown of it (src/lib/rl/per-token.ts, measured by the method's own training code).
// Nothing here computes a number the view shows: the reply is shown as it came.
import type { MethodName, TokenBreakdown } from '../../lib/protocol/messages';
import { errorText } from '../errors';
import type { AppLink } from './link';

/** A strip sample: the method that wrote it and its text. */
export interface PerTokenTarget {
  method: MethodName;
  prompt: string;
  completion: string;
}

/** The worker's reply for the target (its method with it). */
export type PerTokenResult = TokenBreakdown & { method: MethodName };

export class PerTokenState {
  target = $state.raw<PerTokenTarget | null>(null);
  result = $state.raw<PerTokenResult | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  /** Bumped by each request: only the latest request's reply is shown. */
  private asked = 0;

  constructor(private readonly app: AppLink) {}

  /** Measures `target` in the worker (again, when it is the one shown: the policy has trained since). */
  async open(target: PerTokenTarget): Promise<void> {
    const client = this.app.client;
    if (!client) return;
    const ask = ++this.asked;
    this.target = target;
    this.busy = true;
    this.error = null;
    try {
      const { type: _t, requestId: _r, ...result } = await client.request('perToken', { ...target });
      if (ask === this.asked) this.result = result;
    } catch (e) {
      if (ask === this.asked) {
        this.error = errorText(e);
        this.result = null;
      }
    } finally {
      if (ask === this.asked) this.busy = false;
    }
  }

  /** The same sample again, with the policy as it is now. */
  refresh(): Promise<void> {
    return this.target ? this.open(this.target) : Promise.resolve();
  }

  clear(): void {
    this.asked += 1;
    this.target = null;
    this.result = null;
    this.busy = false;
    this.error = null;
  }
}
