// The typed message protocol between the UI thread and the worker that owns TensorFlow.js
// (after comlink's protocol.ts and svelte.dev's REPL workers): discriminated unions both ways,
// a protocol version checked at `init`, and a request id on every request so that the reply can
// be matched to it (and a stale reply ignored: the latest request wins). Later messages (labels,
// train/pause, metrics as Float32Array transferables) extend these unions; every switch over them
// ends in `assertNever`, so the compiler lists each place a new message must be handled.
// Types only plus a few constants: the UI may import this file, it never pulls in tfjs.
import type { ModelConfig } from '../config/model';

/** Bumped whenever a message changes shape; the worker refuses an `init` from another version. */
export const PROTOCOL_VERSION = 1;

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

/** What the page shows about the loaded model. */
export interface ModelInfo {
  /** Trainable numbers in the model. */
  parameters: number;
  vocabSize: number;
  config: ModelConfig;
  /** Pretraining's final validation loss in nats per token, when model.json records it. */
  validationLoss: number | null;
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
}

/** One completion per prompt from the base model. */
export interface SampleRequest {
  type: 'sample';
  requestId: number;
  prompts: string[];
  /** Softmax temperature, > 0. */
  temperature: number;
}

export type ToWorker = InitRequest | SampleRequest;

// ---- worker -> UI thread ----

export interface ReadyReply {
  type: 'ready';
  requestId: number;
  backend: BackendName;
  /** For every backend, why it was or was not chosen. */
  reasons: Record<BackendName, string>;
  modelInfo: ModelInfo;
}

export interface SamplesReply {
  type: 'samples';
  requestId: number;
  prompts: string[];
  /** completions[i] continues prompts[i]; '' when the model ended the review at once. */
  completions: string[];
}

/** A failure; `requestId` names the request that failed, absent for an error outside any request. */
export interface ErrorReply {
  type: 'error';
  requestId?: number;
  message: string;
}

export type FromWorker = ReadyReply | SamplesReply | ErrorReply;

/** The reply each request is answered with (an ErrorReply may come instead). */
export interface ReplyTo {
  init: ReadyReply;
  sample: SamplesReply;
}

/** The `type` of the reply each request expects: a new request type fails to compile until listed. */
export const REPLY_TYPE: { [K in ToWorker['type']]: ReplyTo[K]['type'] } = {
  init: 'ready',
  sample: 'samples',
};

/** Compile-time exhaustiveness: a switch that handles every case leaves `value` with type never. */
export function assertNever(value: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(value)}`);
}
