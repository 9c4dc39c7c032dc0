// "Train the policy" (InstructGPT step 3, and the methods that answer "is RL necessary?"): the one
// run in the worker holds every method the `ready` reply lists; the page keeps, for each, its
// metrics by name, its steps, the settings the worker confirmed, its last rollouts and the
// progress of an offline run. Nothing here names a method: descriptors come from the worker.
// Train / Pause / Step act on the ticked online methods; Reset sends every method (or one) back
// to the base model. A method's settings live in two places only: the raw `method.field` text in
// the page address (RunConfig.methods.params, sent with init) and the config the worker confirmed
// (ready, then methodConfig events).
import { checkField } from '../../lib/config/fields';
import type {
  FieldSpec,
  FieldValue,
  IterationEvent,
  MethodConfigEvent,
  MethodInfo,
  MethodKind,
  MethodName,
  MethodStateEvent,
  RolloutSample,
  RunStateEvent,
  StripRow,
} from '../../lib/protocol/messages';
import { errorText } from '../errors';
import type { AppLink } from './link';
import { Series } from './series.svelte';

/** The x column of every method's series: its step count after the step. */
export const STEP_COLUMN = 'step';

/** What one step of a method is called, by kind (singular, plural). */
const STEP_WORDS: Record<MethodKind, readonly [string, string]> = {
  online: ['iteration', 'iterations'],
  offline: ['step', 'steps'],
  rerank: ['batch', 'batches'],
};

/** "1 iteration", "60 steps", "4 batches". */
export function stepsText(kind: MethodKind, n: number): string {
  return `${n} ${STEP_WORDS[kind][n === 1 ? 0 : 1]}`;
}

/** The x-axis label of a method's charts. */
export function stepWord(kind: MethodKind): string {
  return STEP_WORDS[kind][0];
}

/** The address key of a method's setting (the URL table's `method.field`). */
export function paramKey(method: string, field: string): string {
  return `${method}.${field}`;
}

export class MethodState {
  /** The settings the worker runs it with (ready, then methodConfig events). */
  config = $state.raw<Record<string, FieldValue>>({});
  /** The step after which the last settings change took effect (0: none yet). */
  configFrom = $state(0);
  /** Steps since its last reset. */
  steps = $state(0);
  /** A few completions of its last step, with their reward-model scores. */
  samples = $state.raw<RolloutSample[]>([]);
  /** The last report of an offline or rerank run; null before one. */
  progress = $state.raw<MethodStateEvent | null>(null);
  /** Run was pressed and the worker has not reported progress yet. */
  asked = $state(false);
  /** It was trained on labels older than those held now. */
  stale = $state(false);
  /** One column per metric name (its charts' keys first), plus STEP_COLUMN. */
  readonly series: Series;

  constructor(readonly info: MethodInfo) {
    this.config = info.config;
    this.series = new Series([STEP_COLUMN, ...info.charts.flatMap((c) => c.keys)]);
  }

  get name(): MethodName {
    return this.info.name;
  }

  get title(): string {
    return this.info.title;
  }

  get kind(): MethodKind {
    return this.info.kind;
  }

  /** An offline or rerank run is in progress (or asked for). */
  get busy(): boolean {
    return this.asked || (this.progress?.running ?? false);
  }

  receiveIteration(event: IterationEvent): void {
    // A step count that does not grow means the method started again (a reset, or an offline
    // method's new run on new labels): its old curves belong to another run.
    if (event.step <= this.series.last(STEP_COLUMN)) this.series.clear();
    this.series.pushRecord({ ...event.metrics, [STEP_COLUMN]: event.step });
    this.steps = event.step;
    if (event.samples.length > 0) this.samples = event.samples;
  }

  receiveProgress(event: MethodStateEvent): void {
    this.progress = event;
    this.asked = false;
    this.steps = event.step;
    this.stale = event.stale;
  }

  receiveConfig(event: MethodConfigEvent): void {
    this.config = event.config;
    this.configFrom = event.fromStep;
  }

  /** Back to the base model: its curves, rollouts and progress go. */
  clear(): void {
    this.series.clear();
    this.steps = 0;
    this.samples = [];
    this.progress = null;
    this.asked = false;
    this.stale = false;
  }
}

export class Training {
  /** Every method the worker offers, in its registry's order. */
  methods = $state.raw<MethodState[]>([]);
  /** The ticked methods as the worker holds them, in the order picked. */
  enabled = $state.raw<MethodName[]>([]);
  running = $state(false);
  /** Why training stopped on its own (KL guard, rollback), until it runs again. */
  stopReason = $state<string | null>(null);
  /** A Step request is in flight. */
  stepping = $state(false);
  resetting = $state(false);
  /** The sample strip: fixed prompts, the base model and every method that has trained. */
  strip = $state.raw<StripRow[] | null>(null);
  /** Why the last change of the methods control was refused. */
  methodsProblem = $state<string | null>(null);

  readonly ticked = $derived(this.enabled.map((n) => this.find(n)).filter((m): m is MethodState => m !== undefined));
  readonly online = $derived(this.ticked.filter((m) => m.kind === 'online'));
  /** Methods the page shows a region for: ticked ones, and any that trained and was unticked. */
  readonly shown = $derived(this.methods.filter((m) => this.enabled.includes(m.name) || m.steps > 0));

  readonly statusText = $derived.by(() => {
    const parts = this.methods.filter((m) => m.steps > 0).map((m) => `${m.title} ${stepsText(m.kind, m.steps)}`);
    const busy = this.methods.filter((m) => m.busy).map((m) => `${m.title} running`);
    if (this.running) {
      const names = this.online.map((m) => m.title).join(' + ');
      return [names ? `training ${names}` : 'Train is on, but no method that trains with it is ticked', ...busy].join(', ');
    }
    if (busy.length > 0) return [...busy, ...parts].join(', ');
    return parts.length > 0 ? `paused after ${parts.join(', ')}` : 'not trained yet';
  });

  constructor(
    private readonly app: AppLink,
    /** Called after a reset of every method, so other parts (gold curves) can start over. */
    private readonly onReset: () => void,
    /** Labels the worker's reward model holds (an offline method needs one to run). */
    private readonly workerLabels: () => number,
  ) {}

  find(name: string): MethodState | undefined {
    return this.methods.find((m) => m.name === name);
  }

  /** What the page calls a method, or a model of a pair or a gold result ('base'). */
  title(name: string): string {
    return name === 'base' ? 'base model' : (this.find(name)?.title ?? name);
  }

  /** The methods of a fresh worker (`ready`): everything of an older run is dropped. */
  load(methods: readonly MethodInfo[], enabled: readonly MethodName[]): void {
    this.methods = methods.map((info) => new MethodState(info));
    this.enabled = [...enabled];
    this.running = false;
    this.strip = null;
    this.stopReason = null;
    this.methodsProblem = null;
  }

  /**
   * The worker continues a checkpoint (a crash restart, an imported file): the methods and their
   * settings are the checkpoint's; each method's curves keep the steps up to its step count there
   * (the steps after it are trained again), and training is paused until asked.
   */
  resume(methods: readonly MethodInfo[], enabled: readonly MethodName[], steps: Partial<Record<MethodName, number>>): void {
    const before = this.methods;
    this.load(methods, enabled);
    this.methods = this.methods.map((fresh) => {
      const kept = before.find((m) => m.name === fresh.name);
      const at = steps[fresh.name] ?? 0;
      if (!kept || at === 0) return fresh;
      kept.config = fresh.config;
      kept.series.keepUpTo(STEP_COLUMN, at);
      kept.steps = at;
      kept.progress = null;
      kept.asked = false;
      return kept;
    });
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

  /** One iteration of each ticked online method. */
  async step(): Promise<void> {
    const client = this.app.client;
    if (!client || !this.app.ready || this.running || this.stepping) return;
    this.stepping = true;
    this.stopReason = null;
    try {
      await client.request('step', {});
    } catch (e) {
      this.app.warn(`Step failed: ${errorText(e)}`);
    } finally {
      this.stepping = false;
    }
  }

  /** Every method (or one) back to the base model; labels and the reward model are kept. */
  async reset(method?: MethodName): Promise<void> {
    const client = this.app.client;
    if (!client || !this.app.ready || this.resetting) return;
    this.resetting = true;
    if (method === undefined) this.running = false;
    try {
      await client.request('reset', method === undefined ? {} : { method });
      if (method === undefined) {
        for (const m of this.methods) m.clear();
        this.strip = null;
        this.stopReason = null;
        this.onReset();
      } else {
        this.find(method)?.clear();
      }
    } catch (e) {
      this.app.warn(`Reset failed: ${errorText(e)}`);
    } finally {
      this.resetting = false;
    }
  }

  /** Ticks or unticks a method; the worker confirms the list and the address follows. */
  async tick(name: MethodName, on: boolean): Promise<void> {
    const client = this.app.client;
    if (!client || !this.app.ready) return;
    const wanted = on ? [...this.enabled.filter((n) => n !== name), name] : this.enabled.filter((n) => n !== name);
    if (wanted.length === 0) {
      this.methodsProblem = `Keep at least one method ticked: it is what the labels train. Tick another before unticking ${this.title(name)}.`;
      return;
    }
    this.methodsProblem = null;
    const before = this.enabled;
    this.enabled = wanted;
    try {
      const reply = await client.request('setMethods', { enabled: wanted });
      this.enabled = reply.enabled;
      this.app.updateConfig((c) => ({ ...c, methods: { ...c.methods, enabled: [...reply.enabled] } }));
    } catch (e) {
      this.enabled = before;
      this.app.warn(`The methods could not be changed: ${errorText(e)}`);
    }
  }

  /** Why an offline or rerank method cannot run now, or null when it can. */
  cannotRun(m: MethodState): string | null {
    if (!this.app.ready) return 'the model is not loaded yet';
    if (m.kind === 'offline' && this.workerLabels() === 0) return `${m.title} trains on labels: give one first`;
    return null;
  }

  /** Runs an offline or rerank method from the start on the labels held now. */
  run(m: MethodState): void {
    if (m.kind === 'online' || m.busy || this.cannotRun(m) !== null) return;
    m.asked = true;
    this.app.client?.send({ type: 'runMethod', method: m.name });
  }

  cancel(m: MethodState): void {
    if (!m.busy) return;
    m.asked = false;
    this.app.client?.send({ type: 'cancelMethod', method: m.name });
  }

  /**
   * A setting typed or picked in a method's panel: checked by the field's rule, sent to the
   * worker (which confirms with methodConfig) and written into the address (dropped there when it
   * is the default). Returns why the text was refused, naming the range and the value that still
   * runs, or null.
   */
  configure(m: MethodState, field: FieldSpec, raw: string): string | null {
    const parsed = checkField(field, raw);
    if (!parsed.ok) return `${field.label} "${raw.trim()}" refused: ${parsed.why}; ${String(m.config[field.key])} still runs.`;
    const value = parsed.value;
    this.app.client?.send({ type: 'setMethodConfig', method: m.name, patch: { [field.key]: value } });
    const key = paramKey(m.name, field.key);
    this.app.updateConfig((c) => {
      const params = { ...c.methods.params };
      if (value === m.info.defaults[field.key]) delete params[key];
      else params[key] = String(value);
      return { ...c, methods: { ...c.methods, params } };
    });
    return null;
  }

  /** The labels changed: a finished offline run was trained on older ones. */
  labelsChanged(): void {
    for (const m of this.methods) if (m.kind !== 'online' && m.steps > 0 && !m.busy) m.stale = true;
  }

  receiveIteration(event: IterationEvent): void {
    this.find(event.method)?.receiveIteration(event);
  }

  receiveRunState(event: RunStateEvent): void {
    this.running = event.running;
    for (const m of this.methods) m.steps = event.steps[m.name] ?? 0;
    if (event.reason) this.stopReason = event.reason;
  }

  receiveProgress(event: MethodStateEvent): void {
    this.find(event.method)?.receiveProgress(event);
  }

  receiveConfig(event: MethodConfigEvent): void {
    this.find(event.method)?.receiveConfig(event);
  }

  /** Forgets every method's run (a worker restart; load() follows with the new worker's list). */
  clear(): void {
    for (const m of this.methods) m.clear();
    this.running = false;
    this.strip = null;
    this.stopReason = null;
  }
}
