// The domain settings of a run that the page, the worker and the experiment share: how the reward
// model learns on the page, how pairs are chosen, who the simulated annotator is, which backends
// exist. The protocol imports these; config never imports the protocol.
import type { AnnotatorPreset, TieRule } from '../rl/annotators';
import { int, type NumberRule, type Rule } from './fields';
import { DEFAULT_REWARD } from './reward';

/** TensorFlow.js backends in the order they are tried by default (fastest first on real hardware). */
export const BACKEND_NAMES = ['webgpu', 'wasm', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * The most WASM threads a run may ask for: the machine's logical cores
 * (navigator.hardwareConcurrency; 1 where it is unknown, as in Node 20). More threads than cores
 * only time-slice them.
 */
export function maxThreads(): number {
  const cores = typeof navigator === 'undefined' ? undefined : navigator.hardwareConcurrency;
  return typeof cores === 'number' && Number.isInteger(cores) && cores > 0 ? cores : 1;
}

/** The simulated annotators' presets (src/lib/rl/annotators.ts), listed here so the UI and the URL
 *  table can name them without importing the lexicon. The type below fails to compile if the
 *  engine gains a preset this list lacks. */
export const ANNOTATOR_PRESET_NAMES = ['positive', 'negative', 'shorter', 'mentions', 'fewer-repeats'] as const satisfies readonly AnnotatorPreset[];
export type PresetListComplete = [Exclude<AnnotatorPreset, (typeof ANNOTATOR_PRESET_NAMES)[number]>] extends [never] ? true : never;
export const PRESET_LIST_COMPLETE: PresetListComplete = true;

/** Reward-model settings the page may change (the rest are DEFAULT_REWARD). */
export interface RewardSettings {
  /** Bradley-Terry steps after each new label. */
  incrementalSteps: number;
  /** Steps of a full refit from the base model. */
  refitSteps: number;
  /** A refit starts every this many labels; 0: only when asked (or after edits). */
  refitEvery: number;
  /** Members of the reward-model ensemble (bootstrap resamples). */
  ensembleSize: number;
}

/** How the two completions of a pair are chosen among `candidates` samples of one prompt. */
export type PairSelection = 'most-different' | 'disagreement';

/** How pairs to label are made. */
export interface PairSettings {
  /** Completions sampled per prompt; the pair shown is chosen among them (DESIGN.md: 4 to 6). */
  candidates: number;
  /** Pairs the worker keeps sent and unanswered: the one on screen plus the ones ready behind it. */
  buffer: number;
  selection: PairSelection;
  /** Labels chosen by "most different" before the disagreement ensemble takes over. */
  warmupLabels: number;
  /** The disagreement ensemble is refitted every this many labels. */
  selectionRound: number;
}

/** The ways a pair can be chosen. */
export const PAIR_SELECTIONS = ['most-different', 'disagreement'] as const satisfies readonly PairSelection[];

/** What a user may set each pair setting to (the page's address, the experiment's --pairs). */
export const PAIR_RULES: { [K in keyof PairSettings]: PairSettings[K] extends number ? NumberRule : Rule } = {
  candidates: int(2, 8), // 2 is one pair; 8 samples per prompt is what one sampling call keeps fast
  buffer: int(1, 8),
  selection: PAIR_SELECTIONS,
  warmupLabels: int(0, 10_000),
  selectionRound: int(1, 1000),
};

/** What the gold judge sees: the preference plus the grammar term, or the preference alone. */
export const GOLD_KINDS = ['grammar', 'blind'] as const;
export type GoldKind = (typeof GOLD_KINDS)[number];

/** The simulated annotator behind autopilot and the gold curves. */
export interface AnnotatorSettings {
  preset: AnnotatorPreset;
  /** Target word of the 'mentions' preset; ignored by the others. */
  word: string;
  /** Probability that an A/B answer is flipped, in [0, 0.5]. */
  noise: number;
  tieRule: TieRule;
  /** 'blind' switches the grammar term off, to show a gold that broken text can fool. */
  gold: GoldKind;
}

/** The reward-model settings the page and the experiment start with. */
export const DEFAULT_REWARD_SETTINGS: RewardSettings = {
  incrementalSteps: DEFAULT_REWARD.incrementalSteps,
  refitSteps: DEFAULT_REWARD.refitSteps,
  refitEvery: 25, // a refit (~20 s on WASM, in the background) lifts held-out RM accuracy at 50 labels from 0.755 (incremental steps only) to 0.814, 3 seeds
  ensembleSize: DEFAULT_REWARD.ensembleSize,
};

/** How the page and the experiment choose pairs (one rule for both). */
export const DEFAULT_PAIRS: PairSettings = {
  candidates: 6, // prototype2 used K=6 for disagreement, 4 for most-different
  buffer: 3, // the pair on screen and two ready behind it: a click never waits for sampling
  selection: 'disagreement', // the shared run, 50 labels, 10 % noise, positive: held-out RM accuracy 0.871 / 0.669 (seeds 1, 2) against 0.847 / 0.663 / 0.782 for most-different alone (seeds 1-3)
  warmupLabels: 25, // the experiment's own loop before the run was shared: 0.768 after 10 warm-up labels, 0.817 after 25, 0.813 after 40, 0.814 all most-different
  selectionRound: 5, // prototype2's rounds of 5
};
