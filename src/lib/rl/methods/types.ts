// The one interface every training method implements (DESIGN.md "A method registry"): a spec that
// declares the method's config (default, reason, range, URL key), its charts, and how to create a
// trainer from the base model, the reward model and that config. A trainer steps, returning its
// metrics under the field's names (TRL's where TRL has the method), completes prompts for the sample
// strip and the evaluations, and disposes every tensor it made. The run (../run.ts) holds trainers
// by name; the worker and the headless experiment drive that same run, so adding a method is its
// module plus one line in registry.ts.
import type { FieldSpec, FieldValue } from '../../config/fields';
import type { Tokenizer } from '../../data/tokenizer';
import type { Rng } from '../../math/rng';
import type { Gpt } from '../../model/gpt';
import type { TokenBreakdown } from '../per-token';
import type { Label } from '../preferences';
import type { Demonstration } from '../sft';
import type { StateValues, TrainerState } from '../trainer-state';

/** Scores completions of prompts: the reward model's normalised scores (mean 0, std 1 on base samples). */
export type Scorer = (prompts: string[], completions: string[]) => Promise<number[]>;

/**
 * online: an RL loop that samples from its own policy and is scored by the reward model (PPO, GRPO, RLOO).
 * offline: trains a policy on the labels themselves for a fixed number of steps (DPO, SFT).
 * rerank: no weights change; completions are the reward model's pick among base samples (best-of-N).
 */
export type MethodKind = 'online' | 'offline' | 'rerank';

/** A chart of some of a method's metrics against its step count. */
export interface ChartSpec {
  /** Plain words first ("Reward-model score"); the page shows the TRL names (keys) beside it. */
  title: string;
  /** Metric names, as the trainer's step returns them. */
  keys: readonly string[];
  /**
   * Where the y axes start for a quantity that cannot be negative (KL, beta, shares): 0, so a beta
   * going from 0.050 to 0.058 reads as the small change it is. A point below it (a k1 KL estimate
   * can dip under 0 on a few samples) still shows: the axis then starts at that point.
   * Absent: the axes fit the values.
   */
  floor?: number;
  /** One or two sentences: what the curves mean and what to look for. */
  explain: string;
}

/** What a trainer is built from. The base model is shared and must never be trained: copy it. */
export interface MethodContext {
  base: Gpt;
  tokenizer: Tokenizer;
  /** Normalised reward-model scores; follows the run's current reward model (a refit swaps it). */
  scorer: Scorer;
  /** The reward model's network (PPO's critic starts as a copy of it). */
  rewardModel: Gpt;
  /** The labels when the trainer was made (offline methods train on these). */
  labels: readonly Label[];
  /** Completions the user typed as demonstrations (SFT). */
  demonstrations: readonly Demonstration[];
  /** Prompts that online methods draw rollouts from. */
  prompts: readonly string[];
  /** This trainer's own random stream, forked from the run seed. */
  rng: Rng;
}

/** A completion with its prompt and its reward-model score, as the page shows rollouts. */
export interface RolloutSample {
  prompt: string;
  completion: string;
  score: number;
}

export interface StepResult {
  /** The step's metrics by name; every step of a method returns the same names. */
  metrics: Record<string, number>;
  /** A few of its completions, for display. */
  samples: RolloutSample[];
  /** Why training should stop now (a KL guard), if it should. */
  stopReason?: string;
}

export interface Trainer {
  /** Steps (iterations) done. */
  readonly steps: number;
  /** Steps an offline or rerank method makes in all (its progress bar); null: it runs until paused. */
  readonly totalSteps: number | null;
  /** The trained model whose samples are the method's completions; null for reranking. */
  readonly policy: Gpt | null;
  /** KL(method || base) per sequence when it is known in closed form (best-of-N), else null. */
  readonly analyticKl: number | null;
  step(): Promise<StepResult>;
  /** One completion per prompt, drawn with `rng` (text as completionText writes it). */
  complete(prompts: readonly string[], rng: Rng): Promise<string[]>;
  /**
   * The per-token view of one completion (../per-token.ts), measured by the same code as the
   * method's training step, with no weight change; absent for methods without per-token terms.
   */
  explain?(prompt: string, completion: string): Promise<TokenBreakdown>;
  /** New settings from the next step on (the page's live controls); the values were checked at the boundary. */
  configure(config: Record<string, FieldValue>): void;
  /** What a checkpoint keeps: the variables its next steps read, and its step counts and controller state. */
  saveState(): TrainerState;
  /** Sets the plain values of a saved state (the checkpoint writes the variables); throws on a malformed value. */
  loadValues(values: StateValues): void;
  dispose(): void;
}

export interface MethodSpec<C extends object = Record<string, FieldValue>> {
  /** Registry key, URL prefix and the experiment's method name. */
  name: string;
  /** What the page calls it ("GRPO"). */
  title: string;
  kind: MethodKind;
  /** One line: what the method does, for the methods control. */
  summary: string;
  /** The paper and the code it follows. */
  source: string;
  defaults: C;
  /** The settings a user may change; a field's URL key is `${name}.${key}`. */
  fields: readonly FieldSpec[];
  charts: readonly ChartSpec[];
  create(context: MethodContext, config: C): Trainer;
}

/** What the page learns of a method: the spec without `create` (it crosses the worker boundary). */
export type MethodDescriptor = Omit<MethodSpec, 'create'>;

/** The URL key of a method's field. */
export function fieldUrlKey(method: string, field: string): string {
  return `${method}.${field}`;
}

/** Thrown when a step produced NaN or Inf; the trainer rolled its models back to before the step. */
export class RolledBackError extends Error {
  constructor(method: string, cause: Error) {
    super(`${method} step rejected and rolled back: ${cause.message}`, { cause });
    this.name = 'RolledBackError';
  }
}
