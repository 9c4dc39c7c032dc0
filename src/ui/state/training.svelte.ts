// "RL (PPO)" (InstructGPT step 3): Train / Pause / Step / Reset, the live hyperparameters, the
// metrics of every iteration (TRL's names, one Float32Array row each) and the sample strip.
// The worker applies a changed hyperparameter before its next iteration and says so (ppoConfig).
import { DEFAULT_PPO } from '../../lib/config/ppo';
import {
  PPO_METRIC_KEYS,
  type IterationEvent,
  type PpoConfig,
  type PpoConfigEvent,
  type RolloutSample,
  type RunStateEvent,
  type StripEvent,
} from '../../lib/protocol/messages';
import type { AppLink } from './link';
import { Series } from './series.svelte';

export class Training {
  running = $state(false);
  /** Iterations since the last reset. */
  iteration = $state(0);
  /** Why training stopped on its own (KL guard, rollback), until it runs again. */
  stopReason = $state<string | null>(null);
  /** The config the worker runs; `configFrom`: the iteration after which it took effect. */
  config = $state.raw<PpoConfig>(DEFAULT_PPO);
  configFrom = $state(0);
  /** A Step request is in flight. */
  stepping = $state(false);
  resetting = $state(false);
  strip = $state.raw<StripEvent | null>(null);
  samples = $state.raw<RolloutSample[]>([]);
  readonly series = new Series(PPO_METRIC_KEYS);

  constructor(
    private readonly app: AppLink,
    /** Called after a reset, so other parts (gold curves) can start over. */
    private readonly onReset: () => void,
  ) {}

  get started(): boolean {
    return this.iteration > 0;
  }

  toggle(): void {
    this.setRunning(!this.running);
  }

  setRunning(running: boolean): void {
    if (!this.app.ready || running === this.running) return;
    this.running = running; // at once on the page; the worker confirms with runState
    if (running) this.stopReason = null;
    this.app.client?.send({ type: 'setTraining', running });
  }

  async step(): Promise<void> {
    const client = this.app.client;
    if (!client || !this.app.ready || this.running || this.stepping) return;
    this.stepping = true;
    this.stopReason = null;
    try {
      await client.request('step', {});
    } catch (e) {
      this.app.warn(`Step failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.stepping = false;
    }
  }

  async reset(): Promise<void> {
    const client = this.app.client;
    if (!client || !this.app.ready || this.resetting) return;
    this.resetting = true;
    this.running = false;
    try {
      await client.request('reset', {});
      this.clear();
      this.onReset();
    } catch (e) {
      this.app.warn(`Reset failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.resetting = false;
    }
  }

  /** Sends a hyperparameter change; it applies from the next iteration. */
  set(patch: Partial<PpoConfig>): void {
    this.config = { ...this.config, ...patch };
    this.app.client?.send({ type: 'setPpoConfig', patch });
  }

  /** Forgets everything of the PPO run (after a reset or a worker restart). */
  clear(): void {
    this.series.clear();
    this.iteration = 0;
    this.running = false;
    this.strip = null;
    this.samples = [];
    this.stopReason = null;
  }

  receiveIteration(event: IterationEvent): void {
    this.series.push(event.metrics);
    this.iteration = event.metrics[PPO_METRIC_KEYS.indexOf('iteration')];
    this.samples = event.samples;
  }

  receiveRunState(event: RunStateEvent): void {
    this.running = event.running;
    this.iteration = event.iteration;
    if (event.reason) this.stopReason = event.reason;
  }

  receiveConfig(event: PpoConfigEvent): void {
    this.config = event.config;
    this.configFrom = event.fromIteration;
  }
}
