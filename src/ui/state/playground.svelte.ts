// The page's state, in one class with Svelte 5 runes (svelte.dev's Workspace.svelte.ts): the
// components render it and call its methods; it talks to the worker only through WorkerClient.
import type { BackendName, ModelInfo } from '../../lib/protocol/messages';
import { BACKEND_LABELS } from '../../lib/protocol/messages';
import type { PageParams } from '../url';
import type { WorkerClient } from '../worker-client';

/** Prompts the base model continues on first load: each opens a typical review of the corpus. */
export const BUILTIN_PROMPTS = ['the pizza was', 'what a', 'the hotel was', 'we loved', 'the staff'];

/** Temperature 1 shows the model's own distribution, as PPO's rollouts will sample it. */
export const SAMPLE_TEMPERATURE = 1;

export type Phase = 'loading' | 'sampling' | 'ready' | 'error';

export interface Sample {
  prompt: string;
  completion: string;
}

export class Playground {
  phase = $state<Phase>('loading');
  backend = $state<BackendName | null>(null);
  reasons = $state.raw<Record<BackendName, string> | null>(null);
  modelInfo = $state.raw<ModelInfo | null>(null);
  samples = $state.raw<Sample[]>([]);
  /** Set when something failed; the page shows it until a reload. */
  error = $state<string | null>(null);
  /** Problems with the address's parameters (the page carries on with defaults). */
  readonly notices: readonly string[];
  readonly seed: number;
  readonly requestedBackend: BackendName | undefined;

  readonly backendLabel = $derived(this.backend ? BACKEND_LABELS[this.backend] : this.phase === 'error' ? 'unknown' : 'choosing…');

  readonly statusText = $derived.by(() => {
    switch (this.phase) {
      case 'loading':
        return 'Loading the base model…';
      case 'sampling':
        return `Sampling from the base model on ${this.backendLabel}…`;
      case 'ready':
        return `Ready: ${this.samples.length} samples from the base model on ${this.backendLabel}.`;
      case 'error':
        return `Error: ${this.error ?? 'unknown failure'}`;
    }
  });

  /** Latest sampling request: an older reply that arrives later is dropped. */
  private sampleRound = 0;

  constructor(
    private readonly client: WorkerClient,
    params: PageParams,
    private readonly modelUrl: string,
  ) {
    this.notices = params.problems;
    this.seed = params.seed;
    this.requestedBackend = params.backend;
    client.onFailure = (message) => this.fail(message);
  }

  /** Loads the model in the worker, then samples the built-in prompts. */
  async start(): Promise<void> {
    try {
      const ready = await this.client.init({ modelUrl: this.modelUrl, backend: this.requestedBackend, seed: this.seed });
      this.backend = ready.backend;
      this.reasons = ready.reasons;
      this.modelInfo = ready.modelInfo;
    } catch (e) {
      this.fail(e);
      return;
    }
    await this.sampleAgain();
  }

  /** New completions for the built-in prompts; ignored until the model is loaded. */
  async sampleAgain(): Promise<void> {
    if (this.modelInfo === null || this.phase === 'error') return;
    const round = ++this.sampleRound;
    this.phase = 'sampling';
    try {
      const reply = await this.client.sample(BUILTIN_PROMPTS, SAMPLE_TEMPERATURE);
      if (round !== this.sampleRound || this.error !== null) return;
      this.samples = reply.prompts.map((prompt, i) => ({ prompt, completion: reply.completions[i] ?? '' }));
      this.phase = 'ready';
    } catch (e) {
      this.fail(e);
    }
  }

  get canSample(): boolean {
    return this.phase === 'ready' || this.phase === 'sampling';
  }

  private fail(e: unknown): void {
    this.error = e instanceof Error ? e.message : String(e);
    this.phase = 'error';
  }
}
