// "Pipeline" (issue 10, item 1): the one-screen overview of the RLHF loop. Its boxes carry the run's
// live numbers (the base model's size, the pairs drawn and waiting, the labels, the reward model's
// accuracy, the chosen method's RM score, KL and beta: the same last points its charts draw); its
// arrows light when data flows along them, driven by the worker events the page receives
// (Playground routes every event here first); and its step buttons run one phase at a time, as GAN
// Lab's do: the simulated annotator labels the pair on screen once, the reward model takes one
// Bradley-Terry step (Run.rewardStep, through the worker), the policy takes one iteration (Step).
import { errorText } from '../errors';
import type { MethodName, WorkerEvent } from '../../lib/protocol/messages';
import { FLOW_LIT_MS, FLOWS, flowOf, hasPolicyKeys, POLICY_KEYS, type Flow, type PolicyKeys } from './pipeline';
import type { Playground } from './playground.svelte';
import type { MethodState } from './training.svelte';

function perFlow<T>(value: T): Record<Flow, T> {
  return Object.fromEntries(FLOWS.map((f) => [f, value])) as Record<Flow, T>;
}

export class PipelineState {
  /** Times data flowed along each arrow in this page. */
  counts = $state.raw<Record<Flow, number>>(perFlow(0));
  /** Arrows lit now (each goes dark FLOW_LIT_MS after its last flow). */
  lit = $state.raw<Record<Flow, boolean>>(perFlow(false));
  /** The arrow data flowed along last (null before any). */
  last = $state<Flow | null>(null);
  /** Pairs the worker has drawn (its pair ids count from 1 in each worker). */
  pairsDrawn = $state(0);
  /** The RL method picked for the policy box (null: the first ticked one). */
  picked = $state<MethodName | null>(null);
  /** "Label one pair" is waiting for the annotator's answer. */
  labelling = $state(false);
  /** "One reward-model step" is waiting for the worker. */
  rmStepping = $state(false);
  /** Why the last step button failed, until the next press. */
  problem = $state<string | null>(null);
  /** The pending darkening of each lit arrow (plain bookkeeping, not state the page renders). */
  private readonly timers: Partial<Record<Flow, ReturnType<typeof setTimeout>>> = {};

  /** Ticked methods that have a policy, a KL term and a beta. */
  readonly choices: MethodState[];
  /** The method whose policy and reference the boxes show. */
  readonly method: MethodState | null;
  readonly keys: PolicyKeys | null;
  /** The reward model has taken a step since it was made: before that it scores every completion alike. */
  readonly rmLearned: boolean;
  /** Accuracy on the labels; NaN ("–") until the reward model has learned. */
  readonly accuracy: number;
  /** The chosen method's last RM score, KL and beta (NaN before its first iteration). */
  readonly score: number;
  readonly kl: number;
  readonly beta: number;
  /** Why each step button cannot run now, or null when it can. */
  readonly labelBlocked: string | null;
  readonly rmBlocked: string | null;
  readonly iterationBlocked: string | null;
  private readonly p: Playground;

  constructor(playground: Playground) {
    this.p = playground;
    this.choices = $derived(this.p.training.ticked.filter((m) => hasPolicyKeys(m.name)));
    this.method = $derived(this.choices.find((m) => m.name === this.picked) ?? this.choices[0] ?? null);
    this.keys = $derived(this.method ? (POLICY_KEYS[this.method.name] ?? null) : null);
    this.rmLearned = $derived((this.p.reward.latest?.steps ?? 0) > 0);
    this.accuracy = $derived(this.rmLearned ? (this.p.reward.latest?.accuracy ?? NaN) : NaN);
    this.score = $derived(this.point('score'));
    this.kl = $derived(this.point('kl'));
    this.beta = $derived(this.point('beta'));
    this.labelBlocked = $derived.by(() => {
      const p = this.p;
      if (!p.ready) return 'the model is not loaded yet';
      if (p.autopilot.on) return 'autopilot is labelling already';
      if (this.labelling) return 'the annotator is answering';
      if (!p.prefs.current) return 'no pair is on screen yet';
      return null;
    });
    this.rmBlocked = $derived.by(() => {
      const p = this.p;
      if (!p.ready) return 'the model is not loaded yet';
      if (this.rmStepping) return 'a step is running';
      if ((p.reward.latest?.labels ?? 0) === 0) return 'no labels yet; give one first';
      if (p.reward.refit) return 'a refit is running: its model replaces this one when it is done';
      return null;
    });
    this.iterationBlocked = $derived.by(() => {
      const t = this.p.training;
      if (!this.p.ready) return 'the model is not loaded yet';
      if (!this.method) return 'no RL method (PPO, GRPO or RLOO) is ticked';
      if (t.running) return 'training is running: Pause first';
      if (t.stepping) return 'an iteration is running';
      if (!this.rmLearned) return 'the reward model has not learned yet (it scores every text 0)';
      return null;
    });
  }

  /** The last point of one of the chosen method's metrics (NaN before its first iteration). */
  private point(which: keyof PolicyKeys): number {
    const m = this.method;
    const keys = this.keys;
    if (!m || !keys) return NaN;
    void m.series.length; // new rows re-run the caller
    return m.series.last(keys[which]);
  }

  /** Every worker event passes here first: the arrows it lights, the pairs drawn. */
  observe(event: WorkerEvent): void {
    if (event.type === 'pair') this.pairsDrawn = event.pair.id;
    const flow = flowOf(event, this.method?.name ?? null);
    if (flow) this.flow(flow);
  }

  private flow(f: Flow): void {
    this.counts = { ...this.counts, [f]: this.counts[f] + 1 };
    this.last = f;
    this.lit = { ...this.lit, [f]: true };
    clearTimeout(this.timers[f]);
    this.timers[f] = setTimeout(() => (this.lit = { ...this.lit, [f]: false }), FLOW_LIT_MS);
  }

  pick(name: string): void {
    if (hasPolicyKeys(name)) this.picked = name;
  }

  /** The simulated annotator (autopilot's settings) answers the pair on screen, once; the label goes in as autopilot's would. */
  async labelOne(): Promise<void> {
    const { prefs, client, config } = this.p;
    const pair = prefs.current;
    if (this.labelBlocked !== null || !pair || !client) return;
    this.labelling = true;
    this.problem = null;
    try {
      const { choice } = await client.request('annotate', { prompt: pair.prompt, a: pair.a, b: pair.b, annotator: config.annotator });
      if (prefs.current?.id === pair.id) prefs.choose(choice, 'simulated', config.annotator.preset);
      else this.problem = 'The pair changed while the annotator answered; press again to label the one on screen.';
    } catch (e) {
      this.problem = `Label one pair failed: ${errorText(e)}`;
    } finally {
      this.labelling = false;
    }
  }

  /** One Bradley-Terry step of the reward model on all labels; its new metrics come as a rewardModel event. */
  async rewardStep(): Promise<void> {
    const client = this.p.client;
    if (this.rmBlocked !== null || !client) return;
    this.rmStepping = true;
    this.problem = null;
    try {
      await client.request('rewardStep', {});
    } catch (e) {
      this.problem = `One reward-model step failed: ${errorText(e)}`;
    } finally {
      this.rmStepping = false;
    }
  }

  /** One iteration of each ticked RL method (the header's Step). */
  async iterate(): Promise<void> {
    if (this.iterationBlocked !== null) return;
    this.problem = null;
    await this.p.training.step();
  }
}
