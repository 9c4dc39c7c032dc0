// The page's state, in one class with Svelte 5 runes (svelte.dev's Workspace.svelte.ts): it owns
// the worker client, the run config (the address reproduces it), and one state object per panel;
// components render them and call their methods. Worker events are routed here by an exhaustive
// switch. If the worker crashes or stops answering, the page starts a fresh one, restores the
// latest checkpoint and the labels given since, resumes training and says so; after
// MAX_AUTO_RESTARTS within CRASH_WINDOW_MS it stops (a crash loop) and offers Restart instead,
// which starts over from the labels alone.
// Start-up order: the stored run is read first (labels, settings, charts), then the worker starts.
import { defaultRunConfig, methodsInForce, parseRunConfig, runConfigSearch, type RunConfig } from '../../lib/config/url';
import {
  assertNever,
  BACKEND_LABELS,
  type BackendName,
  type ModelInfo,
  type PresetInfo,
  type SlowBackend,
  type WorkerEvent,
} from '../../lib/protocol/messages';
import { errorText } from '../errors';
import type { WorkerClient } from '../worker-client';
import { Autopilot } from './autopilot.svelte';
import { Hacking } from './hacking.svelte';
import { PipelineState } from './pipeline.svelte';
import { PlaneState } from './plane.svelte';
import type { AppLink } from './link';
import { Preferences } from './preferences.svelte';
import { chartsOf, Persistence, restoreCharts, type Restored } from './runs.svelte';
import { RewardState } from './reward.svelte';
import { Training } from './training.svelte';
import { PerTokenState } from './per-token.svelte';
import { RoundsState } from './rounds.svelte';
import { CheckpointState, describeCheckpoint } from './checkpoints.svelte';

/** Prompts the base model continues on first load: each opens a typical review of the corpus. */
export const BUILTIN_PROMPTS = ['the pizza was', 'what a', 'the hotel was', 'we loved', 'the staff'];

/** Temperature 1 shows the model's own distribution, as the online methods' rollouts sample it. */
export const SAMPLE_TEMPERATURE = 1;

/** A crashed worker is restarted from the checkpoint by itself at most this often within CRASH_WINDOW_MS: more is a crash loop, left to the user's Restart. */
export const MAX_AUTO_RESTARTS = 3;
export const CRASH_WINDOW_MS = 60_000;
/** A checkpoint file larger than this is refused before it is read (every method's models and optimizers are ~10 MB at the shipped size). */
export const MAX_CHECKPOINT_FILE_BYTES = 200 * 1024 * 1024;


const MAX_WARNINGS = 4;

export type Phase = 'loading' | 'sampling' | 'ready' | 'error';

export interface Sample {
  prompt: string;
  completion: string;
}

export interface PageSetup {
  config: RunConfig;
  /** Problems with the address's parameters (the page carries on with defaults). */
  problems: string[];
}

export class Playground implements AppLink {
  phase = $state<Phase>('loading');
  backend = $state<BackendName | null>(null);
  reasons = $state.raw<Record<BackendName, string> | null>(null);
  /** Why the running backend is slow here (the page warns at the top), or null. */
  slow = $state.raw<SlowBackend | null>(null);
  modelInfo = $state.raw<ModelInfo | null>(null);
  presets = $state.raw<PresetInfo[]>([]);
  samples = $state.raw<Sample[]>([]);
  /** Set when the worker failed; the page shows it with a Restart button. */
  error = $state<string | null>(null);
  warnings = $state.raw<string[]>([]);
  config = $state.raw<RunConfig>(defaultRunConfig());
  client = $state.raw<WorkerClient | null>(null);
  /** Workers started in this page (a restart makes another). */
  starts = $state(0);
  /** What the last automatic restart did, shown until dismissed (null: none). */
  recovery = $state<string | null>(null);
  /** The outcome of the last checkpoint export or import (an error is an alert). */
  checkpointMessage = $state.raw<{ kind: 'ok' | 'error'; text: string } | null>(null);
  /** When the automatic restarts of the last CRASH_WINDOW_MS happened. */
  private crashes: number[] = [];

  notices = $state.raw<readonly string[]>([]);
  private readonly addressProblems: readonly string[];

  /** What this tab stores (IndexedDB), whether it may write, and the list of runs. */
  readonly persist: Persistence;
  readonly prefs: Preferences;
  readonly reward: RewardState;
  readonly training: Training;
  readonly autopilot: Autopilot;
  readonly perToken: PerTokenState;
  readonly rounds: RoundsState;
  /** "Reward hacking": proxy against gold, the rollouts' symptoms, the presets. */
  readonly hacking: Hacking;
  /** "Pipeline": the overview's arrows (lit by the events below) and its step buttons. */
  readonly pipeline: PipelineState;
  /** "Is RL necessary?": the worker's reward-KL plane and the typed demonstrations. */
  readonly plane: PlaneState;
  /** The latest checkpoint of the whole trained state (a crash or a reload continues from it). */
  readonly checkpoints: CheckpointState;

  readonly ready = $derived(this.phase === 'ready' || this.phase === 'sampling');
  readonly backendLabel = $derived(this.backend ? BACKEND_LABELS[this.backend] : this.phase === 'error' ? 'unknown' : 'choosing…');

  readonly statusText = $derived.by(() => {
    const labels = `${this.prefs.count} label${this.prefs.count === 1 ? '' : 's'}`;
    const run = this.training.statusText;
    switch (this.phase) {
      case 'loading':
        return `Loading the base model… · ${labels}`;
      case 'sampling':
        return `Ready on ${this.backendLabel} (sampling from the base model…) · ${labels} · ${run}`;
      case 'ready':
        return `Ready on ${this.backendLabel} · ${labels} · ${run}`;
      case 'error':
        return `Error: ${this.error ?? 'unknown failure'} · ${labels} kept`;
    }
  });

  /** Latest sampling request: an older reply that arrives later is dropped. */
  private sampleRound = 0;
  /** The stored run, read once per page load (a worker restart does not read it again). */
  private stored: Promise<Restored> | null = null;

  constructor(
    private readonly makeClient: () => WorkerClient,
    setup: PageSetup,
    private readonly modelUrl: string,
  ) {
    this.config = setup.config;
    this.addressProblems = setup.problems;
    this.notices = setup.problems;
    this.persist = new Persistence({
      labels: () => this.prefs.labels,
      adoptLabels: (labels) => this.prefs.adopt(labels),
      charts: () => chartsOf(this.training, this.reward),
      checkpoint: () => this.checkpoints.latest,
      search: () => runConfigSearch(this.config),
      reload: (search) => reloadOn(search),
    });
    this.prefs = new Preferences(this, this.persist);
    this.reward = new RewardState(this);
    this.training = new Training(
      this,
      () => {
        this.autopilot.clearGold();
        this.hacking.clear();
      },
      () => this.reward.latest?.labels ?? 0,
    );
    this.autopilot = new Autopilot(this, this.prefs, this.training, () => this.config.annotator, () => this.config.autopilot);
    this.perToken = new PerTokenState(this);
    this.rounds = new RoundsState(this, () => this.prefs.dropPairs());
    this.hacking = new Hacking(this, this.training, this.autopilot, this.prefs, this.reward);
    this.pipeline = new PipelineState(this);
    this.plane = new PlaneState(this);
    this.checkpoints = new CheckpointState(() => this.prefs.labels);
    this.checkpoints.onSaved = (checkpoint) => this.persist.checkpointSaved(checkpoint);
  }

  get seed(): number {
    return this.config.seed;
  }

  get requestedBackend(): BackendName | undefined {
    return this.config.backend ?? undefined;
  }

  /** Reads the stored run back (once): labels, then its settings where the address names none. */
  private async openStored(): Promise<Restored | null> {
    if (this.stored !== null) return null;
    this.stored = this.persist.open();
    const saved = await this.stored;
    this.prefs.restore(saved.labels, saved.problem);
    if (saved.search && runConfigSearch(this.config) === '') this.updateConfig(() => parseRunConfig(saved.search ?? '').config);
    else this.persist.settingsChanged(runConfigSearch(this.config));
    return saved;
  }

  /**
   * Starts the worker, loads the model, sends the saved labels, samples the base model. With a
   * stored checkpoint (a reload) or after a crash (`crash`), the latest checkpoint is restored with
   * the labels, and training goes on if it was on.
   */
  async start(crash?: { message: string; training: boolean }): Promise<void> {
    const client = this.makeClient();
    this.client = client;
    this.starts += 1;
    this.error = null;
    this.phase = 'loading';
    client.onFailure = (message) => this.crashed(client, message);
    client.onEvent = (event) => this.onEvent(event);
    // The worker's script and TensorFlow.js load while the stored run is read (its settings go into init).
    const saved = await this.openStored();
    if (saved?.checkpoint) this.checkpoints.latest = saved.checkpoint; // stored already: not handed back to onSaved
    const { config } = this;
    try {
      const ready = await client.init({
        modelUrl: this.modelUrl,
        backend: config.backend ?? undefined,
        threads: config.threads ?? undefined,
        seed: config.seed,
        methods: { enabled: [...config.methods.enabled], params: { ...config.methods.params } },
        reward: config.reward,
        pairs: config.pairs,
      });
      if (client !== this.client) return;
      this.backend = ready.backend;
      this.reasons = ready.reasons;
      this.slow = ready.slow;
      this.modelInfo = ready.modelInfo;
      this.presets = ready.presets;
      this.training.load(ready.methods, ready.enabled);
      // The address keeps the method settings the worker runs (clamped, or dropped where refused).
      this.updateConfig((c) => ({ ...c, methods: methodsInForce(ready.enabled, ready.methods, c.methods) }));
      if (saved) restoreCharts(this.training, this.reward, saved.charts);
      this.notices = [...this.addressProblems, ...ready.problems];
      this.phase = 'ready';
    } catch (e) {
      this.fail(e);
      return;
    }
    await this.prefs.loadFromLink();
    if (crash || saved?.checkpoint) await this.resume(client, crash ?? null);
    else await this.prefs.syncWorker();
    await this.plane.sync();
    await this.sampleAgain();
  }
  /** A crash: a fresh worker from the checkpoint, unless the worker never came up or keeps crashing. */
  private crashed(client: WorkerClient, message: string): void {
    if (client !== this.client) return;
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    if (this.phase === 'loading' || this.crashes.length >= MAX_AUTO_RESTARTS) {
      const loop = this.phase === 'loading' ? '' : ` It stopped ${this.crashes.length + 1} times within a minute, so the page does not restart it by itself again: press Restart to start over from your labels.`;
      this.fail(`${message}.${loop}`);
      return;
    }
    this.crashes.push(now);
    const training = this.training.running;
    this.autopilot.halt();
    this.perToken.clear();
    if (!this.checkpoints.latest) this.clearRun(); // nothing to go on from: every method starts over
    void this.start({ message, training });
  }

  /**
   * The new worker continues the latest checkpoint with the page's labels (those given after it
   * are learned again); without one, or if it is refused, it gets the labels alone. `crash`: why
   * the last worker stopped (null: a reload), said in the page with what was restored.
   */
  private async resume(client: WorkerClient, crash: { message: string; training: boolean } | null): Promise<void> {
    const held = this.checkpoints.latest;
    const labels = `${this.prefs.count} label${this.prefs.count === 1 ? '' : 's'}`;
    const stopped = crash ? `The worker stopped (${crash.message})` : null;
    if (!held) {
      await this.prefs.syncWorker();
      if (stopped) this.recovery = `${stopped}; restarted with your ${labels}. There was no checkpoint yet, so the reward model learns them again and every method starts over.`;
      return;
    }
    try {
      await this.prefs.syncWorker(false);
      const reply = await this.checkpoints.restoreInto(client);
      if (client !== this.client || !reply) return;
      this.training.resume(reply.methods, reply.enabled, reply.steps);
      if (!stopped) return;
      const iterations = Object.entries(reply.meta.steps).reduce((n, [name, k]) => n + (name === 'reward' ? 0 : k), 0);
      const after = this.prefs.count - reply.meta.labels;
      this.recovery = [
        `${stopped}; restarted from the checkpoint of ${reply.meta.labels} label${reply.meta.labels === 1 ? '' : 's'}, ${iterations} iteration${iterations === 1 ? '' : 's'}`,
        after > 0 ? `; the ${after} label${after === 1 ? '' : 's'} given after it ${after === 1 ? 'is' : 'are'} learned again` : '',
        crash?.training ? '; training goes on.' : '.',
      ].join('');
      if (crash?.training) this.training.setRunning(true);
    } catch (e) {
      if (client !== this.client) return;
      this.clearRun();
      await this.prefs.syncWorker();
      const why = `the checkpoint could not be restored (${errorText(e)})`;
      if (stopped) this.recovery = `${stopped} and ${why}; restarted with your ${labels}: the reward model learns them again and every method starts over.`;
      else this.warn(`The stored run's models could not be restored: ${why}. Your ${labels} are kept; the reward model learns them again and every method starts over.`);
    }
  }

  dismissRecovery(): void {
    this.recovery = null;
  }



  /** A fresh worker after a failure: labels are kept and learned again; every method starts over. */
  async restart(): Promise<void> {
    this.client?.dispose();
    this.client = null;
    this.autopilot.halt();
    this.clearRun();
    this.samples = [];
    this.crashes = [];
    this.recovery = null;
    this.checkpoints.latest = null; // starts over from the labels: the checkpoint may be what crashed it
    await this.start();
  }

  /** The whole trained state and the page's labels as one file (null: no worker, or it failed; checkpointMessage says why). */
  async exportCheckpoint(): Promise<Blob | null> {
    const client = this.client;
    if (!client || !this.ready) return null;
    try {
      const reply = await client.request('exportCheckpoint', { labels: this.prefs.labels });
      this.checkpointMessage = { kind: 'ok', text: `Exported the checkpoint of ${describeCheckpoint(reply.meta, this.methodTitles())} (${(reply.meta.bytes / 1e6).toFixed(1)} MB).` };
      return new Blob([reply.bytes], { type: 'application/zip' });
    } catch (e) {
      this.checkpointMessage = { kind: 'error', text: `The checkpoint could not be exported: ${errorText(e)}` };
      return null;
    }
  }

  /** Restores labels and models from an exported checkpoint file; a file that does not fit is refused and nothing changes. */
  async importCheckpoint(name: string, file: Blob): Promise<void> {
    const client = this.client;
    if (!client || !this.ready) return;
    if (file.size === 0) {
      this.checkpointMessage = { kind: 'error', text: `${name} is empty: choose a checkpoint file exported by this page. Your labels and models are unchanged.` };
      return;
    }
    if (file.size > MAX_CHECKPOINT_FILE_BYTES) {
      this.checkpointMessage = { kind: 'error', text: `${name} is ${(file.size / 1e6).toFixed(0)} MB, more than a checkpoint of this page (at most ${MAX_CHECKPOINT_FILE_BYTES / 1e6} MB). Your labels and models are unchanged.` };
      return;
    }
    try {
      const bytes = await file.arrayBuffer();
      const reply = await client.request('restoreCheckpoint', { bytes });
      if (client !== this.client) return;
      this.autopilot.halt();
      this.clearRun();
      this.training.resume(reply.methods, reply.enabled, {});
      for (const m of this.training.methods) m.steps = reply.steps[m.name] ?? 0;
      this.prefs.adoptLabels(reply.labels);
      this.updateConfig((c) => ({ ...c, seed: reply.seed, methods: { ...c.methods, enabled: [...reply.enabled] } }));
      this.checkpoints.keep({ meta: reply.meta, bytes });
      this.checkpointMessage = { kind: 'ok', text: `${name}: restored the checkpoint of ${describeCheckpoint(reply.meta, this.methodTitles())}, seed ${reply.seed}.` };
      await this.sampleAgain();
    } catch (e) {
      this.checkpointMessage = { kind: 'error', text: `${name} was not imported: ${errorText(e)}. Your labels and models are unchanged.` };
    }
  }

  private methodTitles(): Record<string, string> {
    return Object.fromEntries(this.training.methods.map((m) => [m.name, m.title]));
  }

  /** Drops what the page shows of the run's training (curves, strip, gold, plane); the labels stay. */
  private clearRun(): void {
    this.autopilot.clearGold();
    this.hacking.clear();
    this.training.clear();
    this.reward.clear();
    this.perToken.clear();
    this.rounds.clear();
    this.plane.clear();
  }

  /** New completions for the built-in prompts; ignored until the model is loaded. */
  async sampleAgain(): Promise<void> {
    const client = this.client;
    if (!client || !this.ready) return;
    const round = ++this.sampleRound;
    this.phase = 'sampling';
    try {
      const reply = await client.request('sample', { prompts: BUILTIN_PROMPTS, temperature: SAMPLE_TEMPERATURE });
      if (round !== this.sampleRound || this.error !== null) return;
      this.samples = reply.prompts.map((prompt, i) => ({ prompt, completion: reply.completions[i] ?? '' }));
      this.phase = 'ready';
    } catch (e) {
      if (this.error !== null) return;
      this.phase = 'ready';
      this.warn(`Sampling failed: ${errorText(e)}`);
    }
  }

  get canSample(): boolean {
    return this.ready;
  }

  /** Changes the run config and writes it into the address, so the link reproduces the run. */
  updateConfig(change: (c: RunConfig) => RunConfig): void {
    this.config = change(this.config);
    this.persist.settingsChanged(runConfigSearch(this.config));
    if (typeof history !== 'undefined' && typeof location !== 'undefined') {
      const search = runConfigSearch(this.config, location.search);
      history.replaceState(history.state, '', `${location.pathname}${search}${location.hash}`);
    }
  }

  warn(message: string): void {
    this.warnings = [...this.warnings, message].slice(-MAX_WARNINGS);
  }

  dismissWarning(index: number): void {
    this.warnings = this.warnings.filter((_, i) => i !== index);
  }

  private onEvent(event: WorkerEvent): void {
    this.pipeline.observe(event);
    switch (event.type) {
      case 'pair':
        this.prefs.receivePair(event.pair);
        break;
      case 'pairsWithdrawn':
        this.prefs.withdraw(event.ids);
        break;
      case 'rewardModel':
        this.reward.receive(event.metrics);
        this.persist.metricsChanged();
        if (event.metrics.cause === 'labels' || event.metrics.cause === 'edit') this.training.labelsChanged();
        break;
      case 'refit':
        this.reward.receiveRefit(event);
        break;
      case 'iteration':
        this.training.receiveIteration(event);
        this.persist.metricsChanged();
        break;
      case 'runState':
        this.training.receiveRunState(event);
        if (!event.running) void this.persist.saveMetrics();
        if (!event.running && event.reason) void this.autopilot.trainingStopped(event.reason);
        break;
      case 'methodState':
        this.training.receiveProgress(event);
        break;
      case 'methodConfig':
        this.training.receiveConfig(event);
        break;
      case 'strip':
        this.training.strip = event.rows;
        break;
      case 'gold':
        this.autopilot.receiveGold(event);
        this.hacking.receiveGold(event);
        break;
      case 'plane':
        this.plane.receive(event);
        break;
      case 'hacking':
        this.hacking.receive(event);
        break;
      case 'rolledBack':
        this.warn(event.message);
        break;
      case 'rounds':
        this.rounds.receive(event.summary);
        break;
      case 'warning':
        this.warn(event.message);
        break;
      case 'checkpoint':
        this.checkpoints.receive(event);
        break;
      default:
        assertNever(event);
    }
  }

  private fail(e: unknown): void {
    this.error = errorText(e);
    this.phase = 'error';
    this.training.running = false;
    this.autopilot.halt();
  }
}

/** Loads the page again with these run parameters (the address's other parameters kept). */
function reloadOn(search: string): void {
  const target = `${location.pathname}${runConfigSearch(parseRunConfig(search).config, location.search)}${location.hash}`;
  if (target === `${location.pathname}${location.search}${location.hash}`) location.reload();
  else location.assign(target);
}
