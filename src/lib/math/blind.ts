// Blind evaluation, as InstructGPT judged its models (Ouyang et al. 2022, section 4): a person sees
// a completion of the base model and one of a trained method for the same prompt, in random order
// and unlabelled, and picks the better one; the method's human win rate over the base model is
// reported with a 95 % Wilson interval. Some earlier pairs come back unannounced (sides swapped or
// not), and the share of those the person answers as before is their self-agreement, to set beside
// InstructGPT's 73-77 % agreement between labellers ("the signal from annotators may be unstable").
// Pure functions on plain data: the page's state (src/ui/state/blind.svelte.ts) keeps the answers,
// the worker draws the pairs (Run.blindPair). Every draw is seeded from the run seed.
import { hashSeed, Rng } from './rng';
import { wilsonInterval, type Interval } from './stats';

/** One repeat in every block of this many pairs, from the second block on (about 1 pair in 5 comes back). */
export const REPEAT_BLOCK = 5;

/** InstructGPT's agreement between labellers (training labellers 72.6 +- 1.5 %, held-out 77.3 +- 1.3 %). */
export const INSTRUCTGPT_AGREEMENT = { low: 0.73, high: 0.77 } as const;

/** Which side the user preferred. */
export type BlindChoice = 'left' | 'right' | 'tie';

/** What a repeat brings back: which earlier pair (an index into the candidates) and whether the sides swap. */
export interface RepeatPlan {
  pick: number;
  swap: boolean;
}

/** The position inside block `block` (>= 1) that is a repeat: a seeded draw, so the repeats are not every 5th. */
export function repeatSlot(seed: number, block: number): number {
  return new Rng(hashSeed(seed, `blind-repeat-slot-${block}`)).int(REPEAT_BLOCK);
}

/** Whether pair number `n` (1-based, counting every pair shown) is a repeat of an earlier one. */
export function isRepeatSlot(seed: number, n: number): boolean {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`pair numbers start at 1, got ${n}`);
  const block = Math.floor((n - 1) / REPEAT_BLOCK);
  return block >= 1 && (n - 1) % REPEAT_BLOCK === repeatSlot(seed, block);
}

/**
 * The plan of pair number `n`: null for a fresh pair (not a repeat slot, or no earlier pair left to
 * bring back), else which of `candidates` earlier pairs returns and whether its sides are swapped.
 */
export function repeatPlan(seed: number, n: number, candidates: number): RepeatPlan | null {
  if (!isRepeatSlot(seed, n) || candidates <= 0) return null;
  const rng = new Rng(hashSeed(seed, `blind-repeat-${n}`));
  return { pick: rng.int(candidates), swap: rng.next() < 0.5 };
}

/** The last this many answers are never brought back: the last one's reveal is still on screen, and memory is fresh. */
export const REPEAT_MIN_GAP = 2;

/**
 * The answers a repeat may bring back, oldest first: first showings of `method` not repeated yet
 * and not among the last REPEAT_MIN_GAP answers.
 */
export function repeatCandidates<T extends BlindOutcome>(answers: readonly T[], method: string): T[] {
  const repeated = new Set(answers.map((a) => a.repeatOf));
  return answers.filter((a, i) => a.method === method && a.repeatOf === null && !repeated.has(a.id) && i < answers.length - REPEAT_MIN_GAP);
}

/** One answer, reduced to what the tallies need: the model on each side and the choice. */
export interface BlindOutcome {
  /** The method judged; the other side is the base model. */
  method: string;
  /** Which side the method's completion was on. */
  methodSide: 'left' | 'right';
  choice: BlindChoice;
  /** Set for a repeat: the id of the answer it repeats. */
  repeatOf: string | null;
  id: string;
}

/** How the method fared: 'win' when its side was picked, 'loss' when the base model's was. */
export function verdictFor(o: Pick<BlindOutcome, 'methodSide' | 'choice'>): 'win' | 'loss' | 'tie' {
  if (o.choice === 'tie') return 'tie';
  return o.choice === o.methodSide ? 'win' : 'loss';
}

export interface WinTally {
  wins: number;
  losses: number;
  ties: number;
  /** wins + losses + ties. */
  n: number;
  /** (wins + ties / 2) / n; null with no answers. */
  rate: number | null;
  /** 95 % Wilson interval of the rate (ties as half a win); null with no answers. */
  interval: Interval | null;
}

/** The method's human win rate over the base model on first showings (repeats measure the judge, not the model). */
export function winTally(outcomes: readonly BlindOutcome[], method: string): WinTally {
  let wins = 0;
  let losses = 0;
  let ties = 0;
  for (const o of outcomes) {
    if (o.method !== method || o.repeatOf !== null) continue;
    const v = verdictFor(o);
    if (v === 'win') wins += 1;
    else if (v === 'loss') losses += 1;
    else ties += 1;
  }
  const n = wins + losses + ties;
  const successes = wins + ties / 2;
  return { wins, losses, ties, n, rate: n > 0 ? successes / n : null, interval: n > 0 ? wilsonInterval(successes, n) : null };
}

export interface AgreementTally {
  /** Repeats answered whose original answer is known. */
  repeats: number;
  /** Of those, answered as before (the same model preferred, or a tie both times). */
  agreed: number;
  rate: number | null;
  interval: Interval | null;
}

/** How often the user agreed with themselves on pairs that came back (any method). */
export function selfAgreement(outcomes: readonly BlindOutcome[]): AgreementTally {
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  let repeats = 0;
  let agreed = 0;
  for (const o of outcomes) {
    if (o.repeatOf === null) continue;
    const original = byId.get(o.repeatOf);
    if (!original) continue;
    repeats += 1;
    if (verdictFor(o) === verdictFor(original)) agreed += 1;
  }
  return { repeats, agreed, rate: repeats > 0 ? agreed / repeats : null, interval: repeats > 0 ? wilsonInterval(agreed, repeats) : null };
}
