// The page's side of checkpoints (src/lib/rl/checkpoint.ts): the worker posts one of the whole
// trained state every few iterations, after a refit and on Pause; the page keeps the latest (its
// bytes are the worker's file, opaque here), hands each new one to `onSaved` (persistence stores
// it), restores it into a fresh worker after a crash, and exports or imports one as a file.
import type { CheckpointEvent, CheckpointMeta, CheckpointRestoredReply, Label } from '../../lib/protocol/messages';
import type { WorkerClient } from '../worker-client';

/** A checkpoint held by the page. */
export interface HeldCheckpoint {
  meta: CheckpointMeta;
  bytes: ArrayBuffer;
}

/** The name of an exported checkpoint file (a zip: its parts open with any unzip tool). */
export const CHECKPOINT_FILE_NAME = 'rlhf-playground-checkpoint.zip';

/** "12 labels, PPO 40 iterations, DPO 60 steps": what a checkpoint holds, in words. */
export function describeCheckpoint(meta: CheckpointMeta, titles: Readonly<Record<string, string>> = {}): string {
  const labels = `${meta.labels} label${meta.labels === 1 ? '' : 's'}`;
  const steps = Object.entries(meta.steps)
    .filter(([name, n]) => name !== 'reward' && n > 0)
    .map(([name, n]) => `${titles[name] ?? name} ${n} step${n === 1 ? '' : 's'}`);
  return [labels, ...steps].join(', ');
}

export class CheckpointState {
  /** The newest checkpoint (the worker's, or one loaded from storage); null before the first. */
  latest = $state.raw<HeldCheckpoint | null>(null);
  /** Called with every checkpoint the worker posts (persistence stores it). */
  onSaved: ((checkpoint: HeldCheckpoint) => void) | null = null;

  /** `labels`: the page's label log, sent with a restore so that labels given after the checkpoint are learned too. */
  constructor(private readonly labels: () => Label[]) {}

  receive(event: CheckpointEvent): void {
    this.keep({ meta: event.meta, bytes: event.bytes });
  }

  /** A checkpoint the run now continues (the worker's, or an imported file's). */
  keep(held: HeldCheckpoint): void {
    this.latest = held;
    this.onSaved?.(held);
  }

  /**
   * Continues the latest checkpoint in `client`'s worker, with the page's labels (those the
   * checkpoint lacks are learned after it). Null when there is none; rejects with the worker's
   * message when the checkpoint does not fit (the worker's run is left as it was).
   */
  async restoreInto(client: WorkerClient): Promise<CheckpointRestoredReply | null> {
    const held = this.latest;
    if (!held) return null;
    // Not transferred: the page keeps its copy for the next restart.
    return client.request('restoreCheckpoint', { bytes: held.bytes, labels: this.labels() });
  }
}
