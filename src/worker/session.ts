// The worker's session: it loads the base model, chooses the backend and owns the run
// (src/lib/rl/run.ts), which owns every tensor: the base model, the reward model and a refit in
// progress, each method's policy, reference and critic. The run is the one `npm run experiment`
// measures; the session only opens it from the page's request and checks the method settings that
// came with it (the page address), and the controller schedules the run's work between messages.
// A checkpoint (src/lib/rl/checkpoint.ts) is taken from the run and restored into a new one that
// replaces it, on the same base model: a file that does not fit leaves the run as it was.
import { addressProblem, checkField, readField, type FieldValue } from '../lib/config/fields';
import { DEFAULT_PAIRS, DEFAULT_REWARD_SETTINGS, type BackendName } from '../lib/config/run';
import { DEFAULT_RUN_CONFIG } from '../lib/config/url';
import { Tokenizer } from '../lib/data/tokenizer';
import { Rng } from '../lib/math/rng';
import { loadGpt, ModelLoadError, WEIGHTS_FILE } from '../lib/model/io';
import { countParams, disposeParams } from '../lib/model/params';
import { describeMethod, isMethodName, METHOD_NAMES, METHODS, type MethodName } from '../lib/rl/methods/registry';
import { fieldUrlKey } from '../lib/rl/methods/types';
import { defaultMethodConfigs, Run, runSettings, type MethodConfigs } from '../lib/rl/run';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type CheckpointFile, type CheckpointMeta } from '../lib/rl/checkpoint';
import type { Label } from '../lib/rl/preferences';
import type { InitRequest, MethodInfo, MethodRequest, ModelInfo, SlowBackend } from '../lib/protocol/messages';
import { chooseBackend, errorText } from './backend';

export const MODEL_FILE = 'model.json';
export const VOCAB_FILE = 'vocab.json';
export const DEFAULT_SEED = 1;
/** More prompts than this in one request is a bug in the caller, not a wish. */
export const MAX_PROMPTS = 256;

/** Fetches one file of the model folder; throws a message naming the file, the URL and the status. */
async function fetchFile(folder: string, name: string): Promise<Response> {
  const url = new URL(name, folder).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new ModelLoadError(`could not fetch ${name} from ${url} (${errorText(e)})`);
  }
  if (!response.ok) throw new ModelLoadError(`could not fetch ${name} from ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  return response;
}

async function fetchJson(folder: string, name: string): Promise<unknown> {
  const text = await (await fetchFile(folder, name)).text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ModelLoadError(`${name} is not valid JSON (does the URL serve the model folder?)`);
  }
}

/**
 * The enabled methods and their settings from the page's raw request (the address), each value
 * read by its field's rule: a number out of range is pulled to the nearest bound, a refused value
 * (wrong type, hex, an unknown choice) keeps the default; either gives one line in `problems`.
 */
export function readMethodRequest(request: MethodRequest | undefined): { enabled: MethodName[]; configs: MethodConfigs; problems: string[] } {
  const configs = defaultMethodConfigs();
  const problems: string[] = [];
  const enabled: MethodName[] = [];
  for (const name of request?.enabled ?? DEFAULT_RUN_CONFIG.methods.enabled) {
    if (isMethodName(name)) enabled.push(name);
    else problems.push(`Unknown method "${name}" in the address (?methods=): known methods are ${METHOD_NAMES.join(', ')}.`);
  }
  for (const [key, raw] of Object.entries(request?.params ?? {})) {
    const [method, fieldKey] = key.split('.', 2);
    const field = isMethodName(method) ? METHODS[method].fields.find((f) => f.key === fieldKey) : undefined;
    if (!field) {
      problems.push(`Unknown setting "${key}" in the address: a method's settings are written method.field, e.g. ${fieldUrlKey('ppo', 'lr')}=0.0003.`);
      continue;
    }
    const config = configs[method as MethodName];
    const read = readField(field, raw);
    if (read.kind !== 'refused') config[field.key] = read.value;
    const problem = addressProblem(`${METHODS[method as MethodName].title} ${field.label}`, key, raw, read, String(config[field.key]));
    if (problem) problems.push(problem);
  }
  return { enabled, configs, problems };
}

export class Session {
  private constructor(
    readonly backend: BackendName,
    readonly reasons: Record<BackendName, string>,
    /** Why the chosen backend is slow here, or null. */
    readonly slow: SlowBackend | null,
    readonly modelInfo: ModelInfo,
    private current: Run,
    /** Method settings the request carried that were refused. */
    readonly problems: string[],
  ) {}

  /** The run (a restored checkpoint replaces it). */
  get run(): Run {
    return this.current;
  }

  /** The whole trained state as one file; `labels`: the label log it carries (the run's by default). */
  saveCheckpoint(options: { labels?: readonly Label[]; extra?: Record<string, number> } = {}): Promise<{ meta: CheckpointMeta; bytes: Uint8Array }> {
    return saveCheckpoint(this.current, options);
  }

  /** Replaces the run with the checkpoint's; throws a CheckpointError naming the problem, the run untouched. */
  restoreCheckpoint(bytes: Uint8Array): CheckpointFile {
    const { base, tokenizer } = this.current;
    const file = readCheckpoint(bytes, { config: base.config, vocab: tokenizer.vocab });
    const run = restoreCheckpoint(file, base, tokenizer);
    this.current.dispose(); // its own models; the base model is shared
    this.current = run;
    return file;
  }

  /** Chooses the backend and loads the base model; throws a readable Error on any failure. */
  static async open(init: InitRequest): Promise<Session> {
    const seed = init.seed ?? DEFAULT_SEED;
    const rng = new Rng(seed); // throws a RangeError for a seed outside [0, 2^32)
    const methods = readMethodRequest(init.methods);
    // The backend starts while the files download.
    const [choice, files] = await Promise.all([
      chooseBackend(init.backend, { threads: init.threads }),
      Promise.all([
        fetchJson(init.modelUrl, MODEL_FILE),
        fetchFile(init.modelUrl, WEIGHTS_FILE).then((r) => r.arrayBuffer()),
        fetchJson(init.modelUrl, VOCAB_FILE),
      ]).catch((e: unknown) => {
        throw new ModelLoadError(`Could not load the base model: ${errorText(e)}`);
      }),
    ]);
    const [manifest, weights, vocab] = files;
    let tokenizer: Tokenizer;
    let loaded: ReturnType<typeof loadGpt>;
    try {
      tokenizer = Tokenizer.fromVocab(vocab);
      // All checks run before a tensor is made: a failure here leaks nothing.
      loaded = loadGpt(manifest, weights, 'base');
    } catch (e) {
      throw new ModelLoadError(`Could not load the base model: ${errorText(e)}`);
    }
    const { model } = loaded;
    if (tokenizer.size !== model.config.vocabSize) {
      disposeParams(model.params);
      throw new ModelLoadError(`Could not load the base model: ${VOCAB_FILE} has ${tokenizer.size} tokens, ${MODEL_FILE} expects ${model.config.vocabSize}`);
    }
    const validationLoss = loaded.manifest.meta.validationLoss;
    const modelInfo: ModelInfo = {
      parameters: countParams(model.params),
      vocabSize: tokenizer.size,
      config: model.config,
      validationLoss: typeof validationLoss === 'number' && Number.isFinite(validationLoss) ? validationLoss : null,
    };
    try {
      const run = new Run(model, tokenizer, rng, runSettings(init.reward ?? DEFAULT_REWARD_SETTINGS, init.pairs ?? DEFAULT_PAIRS, methods.configs));
      run.setEnabled(methods.enabled);
      return new Session(choice.backend, choice.reasons, choice.slow, modelInfo, run, methods.problems);
    } catch (e) {
      disposeParams(model.params);
      throw e instanceof Error && !(e instanceof ModelLoadError) ? new ModelLoadError(e.message) : e;
    }
  }

  /** Every method with the settings it runs with now. */
  methodInfo(): MethodInfo[] {
    return METHOD_NAMES.map((name) => ({ ...describeMethod(name), name, config: { ...this.run.config(name) } }));
  }

  /** Checks a live settings patch from the page against the method's field rules. */
  checkPatch(method: MethodName, patch: Record<string, FieldValue>): string | null {
    for (const [key, value] of Object.entries(patch)) {
      const field = METHODS[method].fields.find((f) => f.key === key);
      if (!field) return `${METHODS[method].title} has no setting "${key}"`;
      const parsed = checkField(field, String(value));
      if (!parsed.ok) return `${METHODS[method].title} ${field.label}: ${parsed.why}`;
    }
    return null;
  }

  dispose(): void {
    this.run.disposeWithBase();
  }
}
