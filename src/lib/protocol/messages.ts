// The typed message protocol between the UI thread and the worker that owns TensorFlow.js
// (after comlink's protocol.ts and svelte.dev's REPL workers): discriminated unions both ways,
// a protocol version checked at `init`, a request id on every request that awaits a reply (so that
// a stale reply can be matched and ignored: the latest request wins), and Float32Arrays sent as
// transferables for metric rows. Every switch over these unions ends in `assertNever`, so the
// compiler lists each place a new message must be handled.
//
// The whole InstructGPT loop travels through here:
//   step 2 (preferences):  pair events -> label / skip / editLabels -> labelled + rewardModel events
//   step 3 (PPO):          setTraining / step / reset / setPpoConfig -> iteration, runState, strip events
//   autopilot and gold:    setAnnotator / annotate -> gold events
// Types only plus a few constants: the UI may import this file, it never pulls in tfjs (the engine
// types below are `import type`, erased at build time).
import type { ModelConfig } from '../config/model';
import type { PpoConfig } from '../config/ppo';
import type { AnnotatorPreset, TieRule } from '../rl/annotators';
import type { PpoMetrics } from '../rl/ppo';
import type { Choice, Label } from '../rl/preferences';

export type { Choice, Label, LabelSource } from '../rl/preferences';
export type { KlControl, PpoConfig } from '../config/ppo';
export type { AnnotatorPreset, TieRule } from '../rl/annotators';

/** Bumped whenever a message changes shape; the worker refuses an `init` from another version. */
export const PROTOCOL_VERSION = 2;

/** TensorFlow.js backends in the order they are tried by default (fastest first on real hardware). */
export const BACKEND_NAMES = ['webgpu', 'wasm', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** How each backend is called on the page. */
export const BACKEND_LABELS: Record<BackendName, string> = {
  webgpu: 'WebGPU',
  wasm: 'WASM',
  webgl: 'WebGL',
  cpu: 'CPU',
};

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(value);
}

/** The simulated annotators' presets (src/lib/rl/annotators.ts), listed here so the UI and the URL
 *  table can name them without importing the lexicon. The type below fails to compile if the
 *  engine gains a preset this list lacks. */
export const ANNOTATOR_PRESET_NAMES = ['positive', 'negative', 'shorter', 'mentions', 'fewer-repeats'] as const satisfies readonly AnnotatorPreset[];
export type PresetListComplete = [Exclude<AnnotatorPreset, (typeof ANNOTATOR_PRESET_NAMES)[number]>] extends [never] ? true : never;
export const PRESET_LIST_COMPLETE: PresetListComplete = true;

/**
 * PPO metrics in the order of the Float32Array of an `iteration` event (TRL's names). The two
 * types below fail to compile if PpoMetrics gains or loses a field this list does not follow.
 */
export const PPO_METRIC_KEYS = [
  'iteration',
  'objective/scores',
  'objective/rlhf_reward',
  'objective/non_score_reward',
  'objective/kl',
  'objective/kl_k3',
  'objective/kl_coef',
  'objective/entropy',
  'policy/approxkl_avg',
  'policy/clipfrac_avg',
  'loss/policy_avg',
  'loss/value_avg',
  'val/clipfrac_avg',
  'val/ratio',
  'completion/length',
  'completion/finished',
  'completion/distinct',
  'seconds',
] as const satisfies readonly (keyof PpoMetrics)[];
export type PpoMetricKey = (typeof PPO_METRIC_KEYS)[number];
export type MetricListComplete = [Exclude<keyof PpoMetrics, PpoMetricKey>] extends [never] ? true : never;
export const METRIC_LIST_COMPLETE: MetricListComplete = true;

/** What the page shows about the loaded model. */
export interface ModelInfo {
  /** Trainable numbers in the model. */
  parameters: number;
  vocabSize: number;
  config: ModelConfig;
  /** Pretraining's final validation loss in nats per token, when model.json records it. */
  validationLoss: number | null;
}

/** Reward-model settings the page may change (the rest are DEFAULT_REWARD). */
export interface RewardSettings {
  /** Bradley-Terry steps after each batch of new labels. */
  incrementalSteps: number;
  /** Steps of a full background refit from the base model. */
  refitSteps: number;
  /** A background refit starts every this many labels; 0: only when asked (or after edits). */
  refitEvery: number;
  /** Members of the reward-model ensemble; 2 or more turns on disagreement-based pair selection. */
  ensembleSize: number;
}

/** How pairs to label are made. */
export interface PairSettings {
  /** Completions sampled per prompt; the pair shown is chosen among them (DESIGN.md: 4 to 6). */
  candidates: number;
  /** Pairs the worker keeps sent and unanswered: the one on screen plus the ones ready behind it. */
  buffer: number;
}

/** The simulated annotator behind autopilot and the gold curves. */
export interface AnnotatorSettings {
  preset: AnnotatorPreset;
  /** Target word of the 'mentions' preset; ignored by the others. */
  word: string;
  /** Probability that an A/B answer is flipped, in [0, 0.5]. */
  noise: number;
  tieRule: TieRule;
}

export interface PresetInfo {
  name: AnnotatorPreset;
  description: string;
  needsWord: boolean;
}

/** A pair of completions of one prompt, offered for a label. */
export interface PairOffer {
  /** Unique within a worker session. */
  id: number;
  /** The prompt setting it was made for (see SetPromptRequest); older epochs are dropped. */
  epoch: number;
  prompt: string;
  /** Completion texts; " …" ends one that hit the token budget. */
  a: string;
  b: string;
  /** The model that sampled it: the base model, or the PPO policy after `iteration` iterations. */
  from: 'base' | 'policy';
  iteration: number;
  /** How the pair was chosen among the candidates: most different words, or ensemble disagreement. */
  strategy: 'diverse' | 'disagree';
  candidates: number;
}

/** What the reward model thinks of a labelled pair, before and after learning from the label. */
export interface Verdict {
  labelId: string;
  choice: Choice;
  /** P(A > B) under Bradley-Terry before this label was learned (a prediction on an unseen pair). */
  pBefore: number;
  /** P(A > B) after the update. */
  pAfter: number;
  /** Raw RM scores r(x, A) and r(x, B) after the update: pAfter = sigmoid(scoreA - scoreB). */
  scoreA: number;
  scoreB: number;
  /** Whether the RM agreed with the label (a tie: P within 0.5 +- 0.1); null for a skip. */
  agreedBefore: boolean | null;
  agreedAfter: boolean | null;
}

/** The reward model's state after an update, a refit or an edit of the labels. */
export interface RewardMetrics {
  /** Sequence number of this report (x axis of the reward-model chart). */
  update: number;
  /** Labels it trains on (A, B and ties). */
  labels: number;
  /** Mean Bradley-Terry loss over all labels (NaN with no labels). */
  loss: number;
  /** Share of the labels it orders as labelled (NaN with no labels). */
  accuracy: number;
  /** Gradient steps since the last reset. */
  steps: number;
  /** What produced this report. */
  cause: 'labels' | 'edit' | 'refit';
}

export interface RefitProgress {
  step: number;
  total: number;
  /** Loss of the last refit step. */
  loss: number;
  /** Labels in the snapshot being fitted. */
  labels: number;
}

/** One row of the sample strip: the same prompt, the base model and the policy, with RM scores. */
export interface StripRow {
  prompt: string;
  base: string;
  policy: string;
  baseScore: number;
  policyScore: number;
}

/** A rollout shown beside an iteration's metrics. */
export interface RolloutSample {
  prompt: string;
  completion: string;
  score: number;
}

// ---- UI thread -> worker ----

/** Choose a backend, load the model from `modelUrl` (a folder URL ending in '/'), seed the run. */
export interface InitRequest {
  type: 'init';
  version: number;
  requestId: number;
  modelUrl: string;
  /** A user override (?backend=...); absent means the worker chooses. */
  backend?: BackendName;
  /** The run seed: every random draw derives from it. Defaults to 1. */
  seed?: number;
  /** Absent: DEFAULT_PPO and the defaults of the page's URL table. */
  ppo?: PpoConfig;
  reward?: RewardSettings;
  pairs?: PairSettings;
}

/** One completion per prompt from the base model. */
export interface SampleRequest {
  type: 'sample';
  requestId: number;
  prompts: string[];
  /** Softmax temperature, > 0. */
  temperature: number;
}

/**
 * Which prompt new pairs use: a fixed one (a list entry or typed), or null for varied prompts.
 * The worker forgets every pair it had sent; pairs of an older `epoch` still in flight are dropped
 * by the page. A prompt with words outside the vocabulary is refused (the reply names them).
 */
export interface SetPromptRequest {
  type: 'setPrompt';
  requestId: number;
  prompt: string | null;
  epoch: number;
}

/** A new label (A, B or tie) for a pair; the RM learns from it and its verdict is the reply. */
export interface LabelRequest {
  type: 'label';
  requestId: number;
  label: Label;
  /** The offered pair it answers (null for a label not made from an offer). */
  pairId: number | null;
}

/** The pair on screen was skipped: no label, the worker makes another. */
export interface SkipMessage {
  type: 'skip';
  pairId: number;
}

/** A label changed (a new choice), removed, or the whole list replaced (restore, import, clear). */
export type LabelEdit =
  | { op: 'change'; id: string; choice: Exclude<Choice, 'skip'> }
  | { op: 'remove'; id: string }
  | { op: 'replace'; labels: Label[] };

export interface EditLabelsRequest {
  type: 'editLabels';
  requestId: number;
  edit: LabelEdit;
}

/** Labels as TRL preference JSON lines (src/lib/rl/preferences.ts). */
export interface ExportLabelsRequest {
  type: 'exportLabels';
  requestId: number;
  labels: Label[];
}

/** Parses TRL preference JSON lines; malformed lines are reported, not fatal. */
export interface ImportLabelsRequest {
  type: 'importLabels';
  requestId: number;
  text: string;
}

/** Starts (true) or cancels (false) a full refit of the reward model in the background. */
export interface RefitMessage {
  type: 'refit';
  run: boolean;
}

/** Train (true) or Pause (false): takes effect before the next PPO iteration. */
export interface SetTrainingMessage {
  type: 'setTraining';
  running: boolean;
}

/** One PPO iteration; the reply comes when it is done. */
export interface StepRequest {
  type: 'step';
  requestId: number;
}

/** Back to the base policy: PPO state and its curves are dropped; labels and the RM are kept. */
export interface ResetRequest {
  type: 'reset';
  requestId: number;
}

/** Live hyperparameters: applied before the next PPO iteration. */
export interface SetPpoConfigMessage {
  type: 'setPpoConfig';
  patch: Partial<PpoConfig>;
}

/** The simulated annotator for autopilot and the gold curves (null: off, no gold evaluation). */
export interface SetAnnotatorRequest {
  type: 'setAnnotator';
  requestId: number;
  annotator: AnnotatorSettings | null;
}

/** The simulated annotator's answer for a pair (autopilot labels the pair on screen with it). */
export interface AnnotateRequest {
  type: 'annotate';
  requestId: number;
  prompt: string;
  a: string;
  b: string;
}

export type ToWorker =
  | InitRequest
  | SampleRequest
  | SetPromptRequest
  | LabelRequest
  | SkipMessage
  | EditLabelsRequest
  | ExportLabelsRequest
  | ImportLabelsRequest
  | RefitMessage
  | SetTrainingMessage
  | StepRequest
  | ResetRequest
  | SetPpoConfigMessage
  | SetAnnotatorRequest
  | AnnotateRequest;

// ---- worker -> UI thread: replies (carry the request's id) ----

export interface ReadyReply {
  type: 'ready';
  requestId: number;
  backend: BackendName;
  /** For every backend, why it was or was not chosen. */
  reasons: Record<BackendName, string>;
  modelInfo: ModelInfo;
  /** The PPO config the run starts with. */
  ppo: PpoConfig;
  presets: PresetInfo[];
}

export interface SamplesReply {
  type: 'samples';
  requestId: number;
  prompts: string[];
  /** completions[i] continues prompts[i]; '' when the model ended the review at once. */
  completions: string[];
}

export interface PromptSetReply {
  type: 'promptSet';
  requestId: number;
  prompt: string | null;
  epoch: number;
  /** Words outside the vocabulary, in order; non-empty means the prompt was refused. */
  unknown: string[];
  /** Another reason the prompt was refused (too long for the model's context), else null. */
  problem: string | null;
}

/** The RM's verdict on the labelled pair; the RM's new metrics come as a rewardModel event. */
export interface LabelledReply {
  type: 'labelled';
  requestId: number;
  verdict: Verdict;
}

/** The edit is applied; the worker now holds `labels` labels (metrics follow as events). */
export interface LabelsEditedReply {
  type: 'labelsEdited';
  requestId: number;
  labels: number;
}

export interface ExportedReply {
  type: 'exported';
  requestId: number;
  jsonl: string;
  /** Lines written (skips are not exported). */
  count: number;
}

export interface ImportedReply {
  type: 'imported';
  requestId: number;
  labels: Label[];
  /** One message per rejected line, each starting with "line N:". */
  errors: string[];
}

export interface SteppedReply {
  type: 'stepped';
  requestId: number;
  iteration: number;
}

export interface ResetDoneReply {
  type: 'resetDone';
  requestId: number;
}

export interface AnnotatorSetReply {
  type: 'annotatorSet';
  requestId: number;
  annotator: AnnotatorSettings | null;
}

export interface AnnotationReply {
  type: 'annotation';
  requestId: number;
  choice: 'A' | 'B' | 'tie';
}

/** A failure; `requestId` names the request that failed, absent for a failure of the worker itself. */
export interface ErrorReply {
  type: 'error';
  requestId?: number;
  message: string;
}

export type WorkerReply =
  | ReadyReply
  | SamplesReply
  | PromptSetReply
  | LabelledReply
  | LabelsEditedReply
  | ExportedReply
  | ImportedReply
  | SteppedReply
  | ResetDoneReply
  | AnnotatorSetReply
  | AnnotationReply;

// ---- worker -> UI thread: events (no request id) ----

/** A new pair to label (the worker keeps PairSettings.buffer of them unanswered). */
export interface PairEvent {
  type: 'pair';
  pair: PairOffer;
}

/** The reward model changed (labels, edits, refit). */
export interface RewardModelEvent {
  type: 'rewardModel';
  metrics: RewardMetrics;
}

/** Progress of the background refit; null when none runs (finished or cancelled). */
export interface RefitEvent {
  type: 'refit';
  progress: RefitProgress | null;
  /** Why it ended, when it just ended. */
  outcome?: 'done' | 'cancelled' | 'restarted';
}

/** One PPO iteration finished. `metrics[i]` is PPO_METRIC_KEYS[i]; its buffer is transferred. */
export interface IterationEvent {
  type: 'iteration';
  metrics: Float32Array;
  samples: RolloutSample[];
}

/** Whether PPO is training; `reason` says why it stopped on its own (KL guard, rollback, error). */
export interface RunStateEvent {
  type: 'runState';
  running: boolean;
  /** Iterations done since the last reset. */
  iteration: number;
  reason?: string;
}

/** The PPO config now in force (after setPpoConfig), from iteration `fromIteration` + 1 on. */
export interface PpoConfigEvent {
  type: 'ppoConfig';
  config: PpoConfig;
  fromIteration: number;
}

/** The sample strip: fixed prompts, base vs the current policy (same random stream), RM scores. */
export interface StripEvent {
  type: 'strip';
  iteration: number;
  rows: StripRow[];
}

/** Gold evaluation on held-out prompts with the simulated annotator's hidden preference. */
export interface GoldEvent {
  type: 'gold';
  iteration: number;
  /** Mean gold score of the policy's completions. */
  goldScore: number;
  /** Of the base model's completions of the same prompts (the reference line). */
  baseGoldScore: number;
  /** P(policy beats base) + P(tie)/2 under the gold score. */
  winRate: number;
  prompts: number;
}

/** An iteration hit NaN/Inf and was rolled back; the models are as before it. Training pauses. */
export interface RolledBackEvent {
  type: 'rolledBack';
  iteration: number;
  message: string;
}

/** Something failed but the run goes on (e.g. a reward-model update that went non-finite). */
export interface WarningEvent {
  type: 'warning';
  message: string;
}

export type WorkerEvent =
  | PairEvent
  | RewardModelEvent
  | RefitEvent
  | IterationEvent
  | RunStateEvent
  | PpoConfigEvent
  | StripEvent
  | GoldEvent
  | RolledBackEvent
  | WarningEvent;

export type FromWorker = WorkerReply | WorkerEvent | ErrorReply;

/** Requests that await a reply, and the reply each expects (an ErrorReply may come instead). */
export interface ReplyTo {
  init: ReadyReply;
  sample: SamplesReply;
  setPrompt: PromptSetReply;
  label: LabelledReply;
  editLabels: LabelsEditedReply;
  exportLabels: ExportedReply;
  importLabels: ImportedReply;
  step: SteppedReply;
  reset: ResetDoneReply;
  setAnnotator: AnnotatorSetReply;
  annotate: AnnotationReply;
}

export type AwaitedRequest = Extract<ToWorker, { type: keyof ReplyTo }>;
export type FireAndForget = Exclude<ToWorker, AwaitedRequest>;

/** The `type` of the reply each request expects: a new request type fails to compile until listed. */
export const REPLY_TYPE: { [K in keyof ReplyTo]: ReplyTo[K]['type'] } = {
  init: 'ready',
  sample: 'samples',
  setPrompt: 'promptSet',
  label: 'labelled',
  editLabels: 'labelsEdited',
  exportLabels: 'exported',
  importLabels: 'imported',
  step: 'stepped',
  reset: 'resetDone',
  setAnnotator: 'annotatorSet',
  annotate: 'annotation',
};

/** Compile-time exhaustiveness: a switch that handles every case leaves `value` with type never. */
export function assertNever(value: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(value)}`);
}
