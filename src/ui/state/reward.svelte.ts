// "Reward model" (InstructGPT step 2): its fit to the labels after every update (loss and accuracy
// on the labels), and the background refit from the base model with its progress.
import type { RefitEvent, RefitProgress, RewardMetrics } from '../../lib/protocol/messages';
import type { AppLink } from './link';
import { Series } from './series.svelte';

export const REWARD_COLUMNS = ['update', 'labels', 'loss', 'accuracy'] as const;

const OUTCOME_TEXT: Record<NonNullable<RefitEvent['outcome']>, string> = {
  done: 'The refit finished: the reward model was trained again from the base model on all labels.',
  cancelled: 'The refit was cancelled; the reward model keeps its incremental updates.',
  restarted: 'The labels changed, so the refit started again.',
};

export class RewardState {
  latest = $state.raw<RewardMetrics | null>(null);
  refit = $state.raw<RefitProgress | null>(null);
  /** A refit was asked for and has not reported yet. */
  refitAsked = $state(false);
  refitNote = $state<string | null>(null);
  readonly series = new Series(REWARD_COLUMNS);

  constructor(private readonly app: AppLink) {}

  receive(metrics: RewardMetrics): void {
    this.latest = metrics;
    this.series.pushRecord({ update: metrics.update, labels: metrics.labels, loss: metrics.loss, accuracy: metrics.accuracy });
  }

  receiveRefit(event: RefitEvent): void {
    this.refit = event.progress;
    this.refitAsked = false;
    if (event.outcome) this.refitNote = OUTCOME_TEXT[event.outcome];
    else if (event.progress) this.refitNote = null;
  }

  startRefit(): void {
    if (!this.app.ready || this.refit !== null) return;
    this.refitAsked = true;
    this.refitNote = null;
    this.app.client?.send({ type: 'refit', run: true });
  }

  cancelRefit(): void {
    this.refitAsked = false;
    this.app.client?.send({ type: 'refit', run: false });
  }

  clear(): void {
    this.latest = null;
    this.refit = null;
    this.refitAsked = false;
    this.series.clear();
  }
}
