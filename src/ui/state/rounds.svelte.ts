// Online rounds (issue 10, item 7): the worker's tally of the reward model's predictions on pairs
// the base model wrote against pairs a trained policy wrote (src/lib/rl/rounds.ts), and the
// "Start round N" request, which pauses training and draws new pairs from the current policy.
import type { PairOrigin, RoundSummary } from '../../lib/protocol/messages';
import { errorText } from '../errors';
import type { AppLink } from './link';

export class RoundsState {
  summary = $state.raw<RoundSummary | null>(null);
  starting = $state(false);
  /** Why the last "Start round" was refused, or null. */
  problem = $state<string | null>(null);
  /** The policy the latest round collects from, as the worker said when it started. */
  started = $state.raw<PairOrigin | null>(null);

  /** The round labels go to now (1 before any round was started). */
  readonly round = $derived(this.summary?.round ?? 1);

  /** `dropPairs`: the page's pairs go when a round starts (they were written by an older model). */
  constructor(
    private readonly app: AppLink,
    private readonly dropPairs: () => void,
  ) {}

  receive(summary: RoundSummary): void {
    this.summary = summary;
  }

  async start(): Promise<void> {
    const client = this.app.client;
    if (!client || this.starting) return;
    this.starting = true;
    this.problem = null;
    try {
      const reply = await client.request('startRound', {});
      this.started = reply.policy;
      this.dropPairs();
    } catch (e) {
      this.problem = errorText(e);
    } finally {
      this.starting = false;
    }
  }

  clear(): void {
    this.summary = null;
    this.started = null;
    this.problem = null;
  }
}
