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
  /**
   * The reward model has learned: it has taken at least one Bradley-Terry step on the labels
   * since it was made (a label's incremental steps, or a finished refit). Before that it gives
   * every completion the same score (0 after normalisation), so its accuracy and every RM score
   * mean nothing yet. After a reload the restored labels are held but not learned until the refit
   * the worker starts on them finishes.
   */
  readonly learned = $derived((this.latest?.steps ?? 0) > 0);

  constructor(private readonly app: AppLink) {}

  receive(metrics: RewardMetrics): void {
    if (metrics.cause === 'restore') this.series.keepUpTo('update', metrics.update - 1); // a checkpoint's model: the reports after it are gone
    this.latest = metrics;
    // An untrained model answers 50/50 on every pair, which counts as 0 % right: no accuracy point until it has learned.
    const accuracy = metrics.steps > 0 ? metrics.accuracy : NaN;
    this.series.pushRecord({ update: metrics.update, labels: metrics.labels, loss: metrics.loss, accuracy });
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
