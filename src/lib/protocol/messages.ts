// The typed message protocol between the UI thread and the worker that owns TensorFlow.js
// (after comlink's protocol.ts and svelte.dev's REPL workers): discriminated unions both ways,
// a protocol version checked at `init`, a request id on every request that awaits a reply (so that
// a stale reply can be matched and ignored: the latest request wins), and Float32Arrays sent as
// transferables for metric rows. Every switch over these unions ends in `assertNever`, so the
// compiler lists each place a new message must be handled.
//
// The whole InstructGPT loop travels through here:
//   step 2 (preferences):  pair events -> label / skip / editLabels -> labelled + rewardModel events
//   step 3 (methods):      setMethods / setTraining / step / reset / runMethod / setMethodConfig
//                          -> iteration (named metrics per method), methodState, runState, strip events
//   autopilot and gold:    setAnnotator / annotate -> gold events (every method on the same prompts)
//   pipeline step buttons: annotate with an annotator (one label), rewardStep -> rewardStepped + rewardModel
//   checkpoints:           checkpoint events (periodic, on Pause); saveCheckpoint / restoreCheckpoint /
//                          exportCheckpoint -> checkpointSaved / checkpointRestored / checkpointExported
// Types only plus a few constants: the UI may import this file, it never pulls in tfjs (the engine
// types below are `import type`, erased at build time). Domain settings live in config; the
// protocol imports config, never the reverse.
import type { FieldValue } from '../config/fields';
import type { ModelConfig } from '../config/model';
import type { AnnotatorSettings, BackendName, PairSettings, RewardSettings } from '../config/run';
import type { MethodName } from '../rl/methods/registry';
import type { MethodDescriptor, RolloutSample } from '../rl/methods/types';
import type { PresetSpec } from '../rl/annotators';
import type { Agreement, Label } from '../rl/preferences';
import type { Demonstration } from '../rl/sft';
import type { HackingAlarm } from '../rl/alarms';
import type { HackingReport } from '../rl/symptoms';
import type { TokenBreakdown } from '../rl/per-token';
import type { PairOrigin, RoundSummary } from '../rl/rounds';
import type { PlaneAxis, PlanePoint } from '../rl/plane';
import type { BlindDraft, Evaluation, LabelEdit, PairDraft, RewardFit, StripRow, Verdict } from '../rl/run';
import type { CheckpointMeta } from '../rl/checkpoint';

export type { Agreement, Choice, Label, LabelSource } from '../rl/preferences';
export type { Demonstration } from '../rl/sft';
export type { FieldSpec, FieldValue, NumberRule } from '../config/fields';
export type { AnnotatorSettings, BackendName, PairSettings, RewardSettings } from '../config/run';
export { ANNOTATOR_PRESET_NAMES, BACKEND_NAMES } from '../config/run';
export type { AnnotatorPreset, TieRule } from '../rl/annotators';
export type { MethodName } from '../rl/methods/registry';
export type { ChartSpec, MethodDescriptor, MethodKind, RolloutSample } from '../rl/methods/types';
export type { BlindDraft, LabelEdit, StripRow, Verdict } from '../rl/run';
export type { HackingAlarm } from '../rl/alarms';
export type { HackingReport, Parting, RolloutNames, RolloutPoint, Symptom, SymptomKind } from '../rl/symptoms';
export type { AdvantageKind, TokenBreakdown } from '../rl/per-token';
export type { GroupAccuracy, PairOrigin, RoundSummary } from '../rl/rounds';
export type { PlaneAxis, PlanePoint } from '../rl/plane';
export type { CheckpointMeta } from '../rl/checkpoint';

/** Bumped whenever a message changes shape; the worker refuses an `init` from another version. */
export const PROTOCOL_VERSION = 4;

/** How each backend is called on the page. */
export const BACKEND_LABELS: Record<BackendName, string> = {
  webgpu: 'WebGPU',
  wasm: 'WASM',
  webgl: 'WebGL',
  cpu: 'CPU',
};

/** What the page shows about the loaded model. */
export interface ModelInfo {
  /** Trainable numbers in the model. */
  parameters: number;
  vocabSize: number;
  config: ModelConfig;
  /** Pretraining's final validation loss in nats per token, when model.json records it. */
  validationLoss: number | null;
}

/** A preset of the simulated annotator, as the page lists it (its score function stays in the worker). */
export type PresetInfo = { name: AnnotatorSettings['preset'] } & Pick<PresetSpec, 'description' | 'needsWord'>;

/** A method as the page knows it: its descriptor (fields, charts) and the settings it runs with. */
export interface MethodInfo extends MethodDescriptor {
  name: MethodName;
  config: Record<string, FieldValue>;
}

/** Which methods train and with what settings: raw address values, checked by the worker against each field's rule. */
export interface MethodRequest {
  /** Method names in the order picked (unknown names are reported, not fatal). */
  enabled: string[];
  /** Address parameters `method.field` -> raw text. */
  params: Record<string, string>;
}

/** A pair of completions of one prompt, offered for a label: the run's draft (texts, the model that wrote it, how it was chosen) with its id. */
export interface PairOffer extends PairDraft {
  /** Unique within a worker session. */
  id: number;
  /** The prompt setting it was made for (see SetPromptRequest); older epochs are dropped. */
  epoch: number;
}

/** The reward model's state after an update, a refit or an edit of the labels. */
export interface RewardMetrics extends RewardFit {
  /** Sequence number of this report (x axis of the reward-model chart). */
  update: number;
  /** What produced this report. */
  cause: 'labels' | 'edit' | 'refit' | 'step' | 'restore';
}

export interface RefitProgress {
  step: number;
  total: number;
  /** Loss of the last refit step. */
  loss: number;
  /** Labels in the snapshot being fitted. */
  labels: number;
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
  /** WASM threads (?threads=N, 1 to the machine's cores); absent: the library's choice where the page is isolated. */
  threads?: number;
  /** The run seed: every random draw derives from it. Defaults to 1. */
  seed?: number;
  /** Absent: PPO alone, every method at its defaults. */
  methods?: MethodRequest;
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

export interface EditLabelsRequest {
  type: 'editLabels';
  requestId: number;
  edit: LabelEdit;
}

/** Labels as TRL preference JSON lines, ties in their own lines (src/lib/rl/preferences.ts). */
export interface ExportLabelsRequest {
  type: 'exportLabels';
  requestId: number;
  labels: Label[];
}

/** Parses label files (TRL's preference formats, src/lib/rl/preferences.ts); malformed lines are reported, not fatal. */
export interface ImportLabelsRequest {
  type: 'importLabels';
  requestId: number;
  /** One file per annotator (several students' files merge). */
  files: { name: string; text: string }[];
  /** The labels the page holds: the agreement counts them as one more annotator. */
  held: Label[];
}

/** The TRL hand-off: a zip of the labels, this run's models as Hugging Face folders, a README and a TRL script (src/lib/export). */
export interface ExportTrlRequest {
  type: 'exportTrl';
  requestId: number;
  labels: Label[];
}

/** Starts (true) or cancels (false) a full refit of the reward model in the background. */
export interface RefitMessage {
  type: 'refit';
  run: boolean;
}

/** Train (true) or Pause (false) the enabled online methods: takes effect before their next iteration. */
export interface SetTrainingMessage {
  type: 'setTraining';
  running: boolean;
}

/** One iteration of every enabled online method; the reply comes when all are done. */
export interface StepRequest {
  type: 'step';
  requestId: number;
}

/** Back to the base policy for every method (or one): their state and curves are dropped; labels and the RM are kept. */
export interface ResetRequest {
  type: 'reset';
  requestId: number;
  method?: MethodName;
}

/** Which methods train on the labels, in the order picked (the reply lists them as the worker holds them). */
export interface SetMethodsRequest {
  type: 'setMethods';
  requestId: number;
  enabled: MethodName[];
}

/** Runs an offline or rerank method (DPO, SFT, best-of-N) on the current labels, from the start; progress comes as methodState events. */
export interface RunMethodMessage {
  type: 'runMethod';
  method: MethodName;
}

/** Stops an offline or rerank method's run where it is (what it trained so far is kept). */
export interface CancelMethodMessage {
  type: 'cancelMethod';
  method: MethodName;
}

/** Completions the user typed for SFT to imitate (the whole list); a word outside the vocabulary is named in the error reply. */
export interface SetDemonstrationsRequest {
  type: 'setDemonstrations';
  requestId: number;
  demonstrations: Demonstration[];
}

/** Live settings of one method, already checked by the field rules: applied before its next step. */
export interface SetMethodConfigMessage {
  type: 'setMethodConfig';
  method: MethodName;
  patch: Record<string, FieldValue>;
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
  /**
   * Answer with this annotator once, without turning on the gold curves (the pipeline's "Label one
   * pair" while autopilot is off); absent: the annotator set by setAnnotator.
   */
  annotator?: AnnotatorSettings;
}

/** One incremental Bradley-Terry step of the reward model on all labels (Run.rewardStep); refused with no label. */
export interface RewardStepRequest {
  type: 'rewardStep';
  requestId: number;
}

/** A blind-evaluation pair: the base model and `method` complete one prompt, on seeded random sides (Run.blindPair). */
export interface DrawBlindPairRequest {
  type: 'drawBlindPair';
  requestId: number;
  method: MethodName;
}

/** The per-token view of one completion (a sample of the strip), measured by the method's own training code (Trainer.explain). */
export interface PerTokenRequest {
  type: 'perToken';
  requestId: number;
  method: MethodName;
  prompt: string;
  completion: string;
}

/** The next online round: training pauses and new pairs come from the current policy (refused while no policy has trained). */
export interface StartRoundRequest {
  type: 'startRound';
  requestId: number;
}

/** The whole trained state now, as one checkpoint file (the reply carries its bytes). */
export interface SaveCheckpointRequest {
  type: 'saveCheckpoint';
  requestId: number;
}

/**
 * Continues the run from a checkpoint (src/lib/rl/checkpoint.ts): the reward model, every method's
 * trainer, the step counts and the random streams. `labels`: the page's label log; those the
 * checkpoint lacks are learned after it (absent: the file's own label log, as an import wants).
 * A file that does not fit is refused with an error reply that names the problem, and the run
 * goes on untouched.
 */
export interface RestoreCheckpointRequest {
  type: 'restoreCheckpoint';
  requestId: number;
  bytes: ArrayBuffer;
  labels?: Label[];
}

/** A checkpoint file to download: the run's state with the page's label log (as exportLabels, the page sends it). */
export interface ExportCheckpointRequest {
  type: 'exportCheckpoint';
  requestId: number;
  labels: Label[];
}

export type ToWorker =
  | SaveCheckpointRequest
  | RestoreCheckpointRequest
  | ExportCheckpointRequest
  | PerTokenRequest
  | StartRoundRequest
  | DrawBlindPairRequest
  | InitRequest
  | SampleRequest
  | SetPromptRequest
  | LabelRequest
  | SkipMessage
  | EditLabelsRequest
  | ExportLabelsRequest
  | ImportLabelsRequest
  | ExportTrlRequest
  | RefitMessage
  | SetTrainingMessage
  | StepRequest
  | ResetRequest
  | SetMethodsRequest
  | RunMethodMessage
  | CancelMethodMessage
  | SetMethodConfigMessage
  | SetDemonstrationsRequest
  | SetAnnotatorRequest
  | AnnotateRequest
  | RewardStepRequest;

// ---- worker -> UI thread: replies (carry the request's id) ----

/** Why the backend that runs is slow on this device: the page warns at the top. */
export interface SlowBackend {
  /** A sentence: what runs where, and how much slower than WASM it is. */
  why: string;
  /** A faster backend that is worth a try (WASM, unless it failed here), or null. */
  faster: BackendName | null;
}

export interface ReadyReply {
  type: 'ready';
  requestId: number;
  backend: BackendName;
  /** For every backend, why it was or was not chosen. */
  reasons: Record<BackendName, string>;
  /** Set when the running backend is slow here (a software WebGPU adapter, say); null otherwise. */
  slow: SlowBackend | null;
  modelInfo: ModelInfo;
  /** Every method of the registry with the settings the run starts with. */
  methods: MethodInfo[];
  /** The enabled methods, in order. */
  enabled: MethodName[];
  /** Method settings or names in the request that were refused (the default was kept), one line each. */
  problems: string[];
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
  /** TRL preference lines (A and B answers). */
  jsonl: string;
  /** Lines written (ties and skips are not in it). */
  count: number;
  /** Ties left out of `jsonl` (the TRL hand-off writes them to ties.jsonl). */
  ties: number;
}

/** What one imported file gave. */
export interface ImportedFile {
  name: string;
  labels: Label[];
  /** One message per rejected line, each starting with "line N:". */
  errors: string[];
  /** Non-blank lines read. */
  lines: number;
  /** The formats read, in words ("40 lines in TRL's conversational format"). */
  formats: string;
}

export interface ImportedReply {
  type: 'imported';
  requestId: number;
  files: ImportedFile[];
  /** Between the annotators (each file, and the labels held when there are some) on the pairs they share. */
  agreement: Agreement;
}

/** The TRL hand-off zip (transferred), and what it holds. */
export interface TrlExportReply {
  type: 'trlExported';
  requestId: number;
  zip: ArrayBuffer;
  /** The model folders in it ("policy-ppo", "reward-model"). */
  models: string[];
  /** Preference lines and tie lines written. */
  preferences: number;
  ties: number;
}

export interface SteppedReply {
  type: 'stepped';
  requestId: number;
  /** Steps of each method that has a trainer. */
  steps: Partial<Record<MethodName, number>>;
}

export interface ResetDoneReply {
  type: 'resetDone';
  requestId: number;
}

export interface DemonstrationsSetReply {
  type: 'demonstrationsSet';
  requestId: number;
  count: number;
}

export interface MethodsSetReply {
  type: 'methodsSet';
  requestId: number;
  enabled: MethodName[];
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

/** The blind pair: both completions and, for the page's state only (never the DOM before an answer), which side is the method's. */
export interface BlindPairReply extends BlindDraft {
  type: 'blindPair';
  requestId: number;
}

/** The reward model after one step (the same metrics also come as a rewardModel event with cause 'step'). */
export interface RewardSteppedReply {
  type: 'rewardStepped';
  requestId: number;
  metrics: RewardMetrics;
}

/** A failure; `requestId` names the request that failed, absent for a failure of the worker itself. */
export interface ErrorReply {
  type: 'error';
  requestId?: number;
  message: string;
}

/** The per-token view of a method's completion, from its trainer's own tensors. */
export interface TokenBreakdownReply extends TokenBreakdown {
  type: 'tokenBreakdown';
  requestId: number;
  method: MethodName;
}

/** A new round began: its pairs come from `policy`. */
export interface RoundStartedReply {
  type: 'roundStarted';
  requestId: number;
  round: number;
  policy: PairOrigin;
}

/** The checkpoint asked for (bytes transferred). */
export interface CheckpointSavedReply {
  type: 'checkpointSaved';
  requestId: number;
  meta: CheckpointMeta;
  bytes: ArrayBuffer;
}

/** The run now continues the checkpoint. */
export interface CheckpointRestoredReply {
  type: 'checkpointRestored';
  requestId: number;
  meta: CheckpointMeta;
  /** The label log the run now holds (the checkpoint's, then those learned after it). */
  labels: Label[];
  /** The checkpoint's seed, methods and their settings (an imported file may differ from the address). */
  seed: number;
  enabled: MethodName[];
  methods: MethodInfo[];
  /** Steps of each method that has a trainer. */
  steps: Partial<Record<MethodName, number>>;
}

/** A checkpoint file for download (bytes transferred). */
export interface CheckpointExportedReply {
  type: 'checkpointExported';
  requestId: number;
  meta: CheckpointMeta;
  bytes: ArrayBuffer;
}

export type WorkerReply =
  | CheckpointSavedReply
  | CheckpointRestoredReply
  | CheckpointExportedReply
  | TokenBreakdownReply
  | RoundStartedReply
  | BlindPairReply
  | ReadyReply
  | SamplesReply
  | PromptSetReply
  | LabelledReply
  | LabelsEditedReply
  | ExportedReply
  | ImportedReply
  | TrlExportReply
  | SteppedReply
  | ResetDoneReply
  | MethodsSetReply
  | DemonstrationsSetReply
  | AnnotatorSetReply
  | AnnotationReply
  | RewardSteppedReply;

// ---- worker -> UI thread: events (no request id) ----

/** A new pair to label (the worker keeps PairSettings.buffer of them unanswered). */
export interface PairEvent {
  type: 'pair';
  pair: PairOffer;
}

/** Pairs sent earlier whose policy has trained since: the page drops them (the worker sends fresh ones). */
export interface PairsWithdrawnEvent {
  type: 'pairsWithdrawn';
  ids: number[];
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

/** One step of a method finished: its metrics by name (the names its spec's charts use). */
export interface IterationEvent {
  type: 'iteration';
  method: MethodName;
  /** The method's steps after this one. */
  step: number;
  metrics: Record<string, number>;
  samples: RolloutSample[];
}

/** Whether the online methods are training; `reason` says why they stopped on their own (KL guard, rollback, error). */
export interface RunStateEvent {
  type: 'runState';
  running: boolean;
  /** Steps of each method that has a trainer. */
  steps: Partial<Record<MethodName, number>>;
  reason?: string;
}

/** An offline or rerank method's run: its progress, and how it ended. */
export interface MethodStateEvent {
  type: 'methodState';
  method: MethodName;
  /** Steps done of `total`; running: a run is in progress. */
  step: number;
  total: number | null;
  running: boolean;
  /** Why the run ended, when it just ended. */
  outcome?: 'done' | 'cancelled' | 'failed';
  /** The labels it was trained on are older than the labels now held. */
  stale: boolean;
}

/** A method's settings now in force (after setMethodConfig), from its step `fromStep` + 1 on. */
export interface MethodConfigEvent {
  type: 'methodConfig';
  method: MethodName;
  config: Record<string, FieldValue>;
  fromStep: number;
}

/** The sample strip: fixed prompts, the base model and every method (same random stream), RM scores. */
export interface StripEvent {
  type: 'strip';
  rows: StripRow[];
}

/** One method judged on the held-out prompts (Evaluation without the completions). */
export type GoldResult = Omit<Evaluation, 'completions'>;

/** Gold evaluation on held-out prompts with the simulated annotator's hidden preference: every method that has a trainer, on the same prompts. */
export interface GoldEvent {
  type: 'gold';
  results: GoldResult[];
  prompts: number;
  /** Reward hacking seen in these results (src/lib/rl/alarms.ts), each a sentence with the numbers. */
  alarms: HackingAlarm[];
}

/**
 * The reward-KL plane ("Is RL necessary?"): every point so far, on the gold prompts. Online
 * methods keep a path (one point per measure), DPO and SFT their latest point, best-of-N its
 * latest sweep over N (PLANE_NS). The axis changes with autopilot; a new axis starts a new plane.
 */
export interface PlaneEvent {
  type: 'plane';
  axis: PlaneAxis;
  /** Held-out prompts every point was measured on. */
  prompts: number;
  points: PlanePoint[];
}

/** A step hit NaN/Inf and was rolled back; the models are as before it. Training pauses. */
export interface RolledBackEvent {
  type: 'rolledBack';
  method: MethodName;
  message: string;
}

/** Reward hacking of one method after an iteration, a gold evaluation or a stop (src/lib/rl/symptoms.ts): its symptoms now, where proxy and gold parted, and this iteration's rollouts. */
export interface HackingEvent {
  type: 'hacking';
  report: HackingReport;
}

/** Something failed but the run goes on (e.g. a reward-model update that went non-finite). */
export interface WarningEvent {
  type: 'warning';
  message: string;
}

/** The online rounds' tally after a label or an edit: the RM's predictions on base pairs against new-policy pairs (rounds.ts). */
export interface RoundsEvent {
  type: 'rounds';
  summary: RoundSummary;
}

/** A checkpoint of the whole trained state (bytes transferred): every CHECKPOINT_EVERY iterations and after a refit ('periodic'), on Pause ('pause'). */
export interface CheckpointEvent {
  type: 'checkpoint';
  reason: 'periodic' | 'pause' | 'requested';
  meta: CheckpointMeta;
  bytes: ArrayBuffer;
}

export type WorkerEvent =
  | CheckpointEvent
  | RoundsEvent
  | PairEvent
  | PairsWithdrawnEvent
  | RewardModelEvent
  | RefitEvent
  | IterationEvent
  | RunStateEvent
  | MethodStateEvent
  | MethodConfigEvent
  | StripEvent
  | GoldEvent
  | PlaneEvent
  | RolledBackEvent
  | HackingEvent
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
  exportTrl: TrlExportReply;
  step: SteppedReply;
  reset: ResetDoneReply;
  setMethods: MethodsSetReply;
  setDemonstrations: DemonstrationsSetReply;
  setAnnotator: AnnotatorSetReply;
  annotate: AnnotationReply;
  drawBlindPair: BlindPairReply;
  perToken: TokenBreakdownReply;
  startRound: RoundStartedReply;
  rewardStep: RewardSteppedReply;
  saveCheckpoint: CheckpointSavedReply;
  restoreCheckpoint: CheckpointRestoredReply;
  exportCheckpoint: CheckpointExportedReply;
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
  exportTrl: 'trlExported',
  step: 'stepped',
  reset: 'resetDone',
  setMethods: 'methodsSet',
  setDemonstrations: 'demonstrationsSet',
  setAnnotator: 'annotatorSet',
  annotate: 'annotation',
  drawBlindPair: 'blindPair',
  perToken: 'tokenBreakdown',
  startRound: 'roundStarted',
  rewardStep: 'rewardStepped',
  saveCheckpoint: 'checkpointSaved',
  restoreCheckpoint: 'checkpointRestored',
  exportCheckpoint: 'checkpointExported',
};

/** Compile-time exhaustiveness: a switch that handles every case leaves `value` with type never. */
export function assertNever(value: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(value)}`);
}
