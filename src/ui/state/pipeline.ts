// The plain parts of the "Pipeline" overview (issue 10, item 1; the reactive state is in
// pipeline.svelte.ts): which worker event is data flowing along which arrow, which of a method's
// metrics are its RM score, its KL and its beta (the names its charts use, TRL's), and how the
// boxes' numbers are written. Kept free of runes so the unit tests can check them in Node.
import type { MethodName, WorkerEvent } from '../../lib/protocol/messages';

/**
 * The arrows of the pipeline, in the order data moves along them:
 *   pair:   base model (or the current policy) -> pairs     a new pair to label was drawn
 *   label:  your labels -> reward model                     the reward model learned a label (or an edit)
 *   reward: reward model -> policy                          the reward model changed by a refit or a single step
 *   kl:     policy <-> frozen reference                     an iteration of the chosen method (its KL term)
 */
export const FLOWS = ['pair', 'label', 'reward', 'kl'] as const;
export type Flow = (typeof FLOWS)[number];

/** How long an arrow stays lit after data flowed along it: long enough to see, short enough that the next flow shows. */
export const FLOW_LIT_MS = 1200;

/** The metrics of an RL method that its policy and reference boxes show: the columns of its charts. */
export interface PolicyKeys {
  /** Mean reward-model score of its rollouts (TRL's objective/scores for PPO). */
  score: string;
  /** KL to the frozen reference in nats per sequence. */
  kl: string;
  /** The KL coefficient beta. */
  beta: string;
}

/** The online methods' names for the three numbers (src/lib/rl/methods/*.ts; a unit test checks each is a chart column). */
export const POLICY_KEYS: Partial<Record<MethodName, PolicyKeys>> = {
  ppo: { score: 'objective/scores', kl: 'objective/kl', beta: 'objective/kl_coef' },
  grpo: { score: 'reward', kl: 'kl/sequence', beta: 'beta' },
  rloo: { score: 'reward', kl: 'kl/sequence', beta: 'beta' },
};

/** The methods a pipeline can show as its policy (those with a policy, a KL term and a beta). */
export function hasPolicyKeys(name: string): name is MethodName {
  return Object.hasOwn(POLICY_KEYS, name);
}

/** The arrow a worker event lights, or null; `chosen` is the method whose policy the pipeline shows. */
export function flowOf(event: WorkerEvent, chosen: MethodName | null): Flow | null {
  switch (event.type) {
    case 'pair':
      return 'pair';
    case 'rewardModel':
      return event.metrics.cause === 'labels' || event.metrics.cause === 'edit' ? 'label' : 'reward';
    case 'iteration':
      return event.method === chosen ? 'kl' : null;
    default:
      return null;
  }
}

/** A number for a box: 3 significant digits, '–' when there is none yet. */
export function boxNumber(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return groupDigits(Math.round(x));
  if (a < 1e-3) return x.toExponential(1);
  return String(Number(x.toPrecision(3)));
}

/** A share as a whole percentage, '–' when there is none. */
export function boxPercent(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)} %` : '–';
}

/**
 * A whole number with commas between thousands ("2,370,432"), as en-US writes it. Not
 * toLocaleString: its first call loads ICU's number formats, a 50 ms task on the first screen
 * (issue 11).
 */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A local date and time as "3 Dec 2026, 18:34". Not Intl.DateTimeFormat: its first construction
 * loads ICU's date formats, a 60 ms task while the first screen mounts (issue 11), for the same
 * words the page writes in English anyway.
 */
export function shortDate(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}, ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** "1 label", "3 labels". */
export function plural(n: number, word: string, words = `${word}s`): string {
  return `${groupDigits(n)} ${n === 1 ? word : words}`;
}
