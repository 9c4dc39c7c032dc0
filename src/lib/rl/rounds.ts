// Online rounds (issue 10, item 7). InstructGPT and Anthropic's HH work (Bai et al. 2022) collect
// comparisons in rounds: round 1 on the base model's outputs, later rounds on the outputs of the
// policy trained so far, where the reward model meets text unlike anything it was fitted on.
// Before the reward model learns a label it predicts it (Verdict.agreedBefore: the prediction on a
// pair it has never seen), so the share of right predictions, split by who wrote the pair, is its
// accuracy on base-model outputs against its accuracy on the new policy's outputs. This file keeps
// that tally; the worker's controller feeds it (it knows which model wrote each pair it sent).
import type { MethodName } from './methods/registry';
import type { LabelEdit, Verdict } from './run';

/** Who wrote a pair, and at which of its steps. */
export interface PairOrigin {
  from: 'base' | MethodName;
  steps: number;
}

/** One label's prediction, with where its pair came from. */
export interface RoundRecord extends PairOrigin {
  labelId: string;
  /** The round it was given in (1: before "Start round 2"). */
  round: number;
  /** Whether the reward model predicted it before learning it. */
  agreed: boolean;
}

/** Right predictions among a group of labels; accuracy is null with no labels (the page shows "–"). */
export interface GroupAccuracy {
  labels: number;
  agreed: number;
  accuracy: number | null;
}

export interface RoundSummary {
  /** The round labels go to now. */
  round: number;
  /** The policy round `round` collects pairs from (null in round 1). */
  policy: PairOrigin | null;
  /** Labels on pairs the base model wrote. */
  base: GroupAccuracy;
  /** Labels on pairs a trained policy wrote. */
  newPolicy: GroupAccuracy;
  /** Per round, every label of it (whoever wrote the pair). */
  rounds: ({ round: number } & GroupAccuracy)[];
}

/** Right predictions among `records`. */
export function groupAccuracy(records: readonly Pick<RoundRecord, 'agreed'>[]): GroupAccuracy {
  const agreed = records.filter((r) => r.agreed).length;
  return { labels: records.length, agreed, accuracy: records.length === 0 ? null : agreed / records.length };
}

/** The tally of one run's rounds. */
export class RoundLog {
  private current = 1;
  private policy: PairOrigin | null = null;
  private records: RoundRecord[] = [];
  /** Origins of labels sent and not yet learned, by label id. */
  private readonly pending = new Map<string, PairOrigin>();

  get round(): number {
    return this.current;
  }

  /** The next round: its pairs come from `policy`. Returns its number. */
  start(policy: PairOrigin): number {
    this.current += 1;
    this.policy = { ...policy };
    return this.current;
  }

  /** A label was sent for a pair that `origin` wrote (null: not from an offered pair, e.g. typed). */
  expect(labelId: string, origin: PairOrigin | null): void {
    if (origin) this.pending.set(labelId, { from: origin.from, steps: origin.steps });
  }

  /** The reward model's verdict on a label that was expected (others, and skips, are not tallied). */
  record(verdict: Verdict): void {
    const origin = this.pending.get(verdict.labelId);
    this.pending.delete(verdict.labelId);
    if (!origin || verdict.agreedBefore === null) return;
    this.records.push({ labelId: verdict.labelId, round: this.current, ...origin, agreed: verdict.agreedBefore });
  }

  /** A label that could not be learned. */
  forget(labelId: string): void {
    this.pending.delete(labelId);
  }

  /**
   * An edit of the labels: a removed label leaves the tally, and so does a changed one (its
   * prediction answered the first choice); a replaced list keeps the labels it still holds.
   */
  edit(edit: LabelEdit): void {
    switch (edit.op) {
      case 'change':
      case 'remove':
        this.records = this.records.filter((r) => r.labelId !== edit.id);
        break;
      case 'replace': {
        const ids = new Set(edit.labels.map((l) => l.id));
        this.records = this.records.filter((r) => ids.has(r.labelId));
        break;
      }
    }
  }

  summary(): RoundSummary {
    const rounds = Array.from({ length: this.current }, (_, i) => ({ round: i + 1, ...groupAccuracy(this.records.filter((r) => r.round === i + 1)) }));
    return {
      round: this.current,
      policy: this.policy,
      base: groupAccuracy(this.records.filter((r) => r.from === 'base')),
      newPolicy: groupAccuracy(this.records.filter((r) => r.from !== 'base')),
      rounds,
    };
  }
}
