// The worker's session: it owns every tensor of the run (today the base model; later the policy,
// the frozen reference and the reward model) and the run's random stream. The loop state lives in
// this one object, as minGPT's Trainer holds its own (CONVENTIONS.md habit 8), and `dispose`
// frees all of it.
import { Tokenizer } from '../lib/data/tokenizer';
import { Rng } from '../lib/math/rng';
import type { Gpt } from '../lib/model/gpt';
import { loadGpt, ModelLoadError, WEIGHTS_FILE } from '../lib/model/io';
import { countParams, disposeParams } from '../lib/model/params';
import { sampleCompletions } from '../lib/model/sample';
import type { BackendName, InitRequest, ModelInfo } from '../lib/protocol/messages';
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

export class Session {
  private constructor(
    readonly backend: BackendName,
    readonly reasons: Record<BackendName, string>,
    readonly modelInfo: ModelInfo,
    private readonly model: Gpt,
    private readonly tokenizer: Tokenizer,
    /** The stream for sampling from the base model, forked from the run seed. */
    private readonly sampleRng: Rng,
  ) {}

  /** Chooses the backend and loads the base model; throws a readable Error on any failure. */
  static async open(init: InitRequest): Promise<Session> {
    const seed = init.seed ?? DEFAULT_SEED;
    const rng = new Rng(seed); // throws a RangeError for a seed outside [0, 2^32)
    // The backend starts while the files download.
    const [choice, files] = await Promise.all([
      chooseBackend(init.backend),
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
    return new Session(choice.backend, choice.reasons, modelInfo, model, tokenizer, rng.fork('base-samples'));
  }

  /** One completion per prompt at `temperature`; throws for unknown words or a bad temperature. */
  async sample(prompts: readonly string[], temperature: number): Promise<string[]> {
    if (prompts.length === 0 || prompts.length > MAX_PROMPTS) throw new RangeError(`expected 1 to ${MAX_PROMPTS} prompts, got ${prompts.length}`);
    const ids = prompts.map((p) => this.tokenizer.encodePrompt(p));
    const samples = await sampleCompletions(this.model, ids, { rng: this.sampleRng, temperature });
    return samples.completions.map((c) => this.tokenizer.decode(c));
  }

  dispose(): void {
    disposeParams(this.model.params);
  }
}
