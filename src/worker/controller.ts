// The worker's scheduler. Messages are handled at once and only change plain state (a queue, a
// flag, a config patch); every piece of tensor work is a job that the loop below runs one at a
// time, yielding to the message loop between jobs. A job is at most about one PPO iteration long,
// so Pause, a label or a new hyperparameter takes effect within one iteration, and tfjs work never
// interleaves. Jobs are picked by priority each time round:
//   init > reset > keep the pair buffer full > label edits > base samples > gold evaluation
//   > sample strip > then new labels, PPO iterations and background refit slices take turns.
import type { PpoConfig } from '../lib/config/ppo';
import { PRESETS, SimulatedAnnotator } from '../lib/rl/annotators';
import { RolledBackError } from '../lib/rl/ppo';
import { fromTrlJsonl, toTrlJsonl, type Label } from '../lib/rl/preferences';
import {
  ANNOTATOR_PRESET_NAMES,
  assertNever,
  PPO_METRIC_KEYS,
  PROTOCOL_VERSION,
  type AnnotatorSettings,
  type EditLabelsRequest,
  type FromWorker,
  type InitRequest,
  type LabelRequest,
  type PresetInfo,
  type SampleRequest,
  type ToWorker,
} from '../lib/protocol/messages';
import { errorText } from './backend';
import type { BackgroundRefit } from './refit';
import { Session } from './session';

/** Gold evaluation every this many PPO iterations while an annotator is set (64 prompts: ~5 % of an iteration). */
export const GOLD_EVERY = 2;
/** While training, the strip is refreshed at most this often. */
const STRIP_INTERVAL_MS = 2000;
/** A slice of background refit: short enough that a click waits for at most this much. */
const REFIT_SLICE_MS = 250;

export type Post = (message: FromWorker, transfer?: Transferable[]) => void;

type Job = () => Promise<void>;

/** Work that takes turns once the urgent jobs are done. */
type Turn = 'labels' | 'ppo' | 'refit';
const TURNS: readonly Turn[] = ['labels', 'ppo', 'refit'];
/** Labels learned in one job: each takes RewardSettings.incrementalSteps steps (~0.1 s each on WASM). */
const MAX_LABELS_PER_JOB = 4;

/** Labels and edits, kept in one queue so they apply in the order the page sent them. */
type LabelOp = { kind: 'label'; request: LabelRequest } | { kind: 'edit'; request: EditLabelsRequest };

/** A macrotask boundary: lets queued messages be handled (a resolved promise would not). */
function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

export class Controller {
  private session: Session | null = null;
  private initRequest: InitRequest | null = null;
  private resets: number[] = [];
  private labelOps: LabelOp[] = [];
  private samples: SampleRequest[] = [];
  private steps: number[] = [];
  /** Pairs sent and not yet labelled or skipped. */
  private outstanding = new Set<number>();
  private nextPairId = 1;
  private prompt: string | null = null;
  private epoch = 0;
  private pairsFailed = false;
  private running = false;
  private ppoPatch: Partial<PpoConfig> | null = null;
  private refit: BackgroundRefit | null = null;
  private refitWanted = false;
  private labelsSinceRefit = 0;
  private turn: Turn = 'refit';
  private annotator: SimulatedAnnotator | null = null;
  private goldIteration: number | null = null;
  private stripVersion = 1;
  private stripShown = 0;
  private stripAt = 0;
  private wake: (() => void) | null = null;

  constructor(private readonly post: Post) {}

  // ---- messages: plain state changes only, no tensors ----

  receive(message: ToWorker): void {
    try {
      this.handle(message);
    } catch (e) {
      const requestId = 'requestId' in message ? message.requestId : undefined;
      this.post({ type: 'error', requestId, message: errorText(e) });
    }
    this.wake?.();
  }

  private requireSession(): Session {
    if (!this.session) throw new Error('the model is not loaded yet');
    return this.session;
  }

  private handle(message: ToWorker): void {
    switch (message.type) {
      case 'init':
        if (message.version !== PROTOCOL_VERSION) {
          throw new Error(`the page speaks protocol version ${message.version}, the worker ${PROTOCOL_VERSION}: reload the page`);
        }
        this.initRequest = message;
        break;
      case 'sample':
        this.requireSession();
        this.samples.push(message);
        break;
      case 'setPrompt': {
        const session = this.requireSession();
        const check = message.prompt === null ? { unknown: [], problem: null } : session.checkPrompt(message.prompt);
        const ok = check.unknown.length === 0 && check.problem === null;
        if (ok) {
          this.prompt = message.prompt === null ? null : message.prompt.trim().toLowerCase();
          this.epoch = message.epoch;
          this.outstanding.clear();
          this.pairsFailed = false;
        }
        this.post({ type: 'promptSet', requestId: message.requestId, prompt: ok ? this.prompt : message.prompt, epoch: message.epoch, ...check });
        break;
      }
      case 'label':
        this.requireSession();
        if (message.label.choice === 'skip') throw new Error('a skipped pair is not a label: send "skip"');
        if (message.pairId !== null) this.outstanding.delete(message.pairId);
        this.labelOps.push({ kind: 'label', request: message });
        break;
      case 'skip':
        this.outstanding.delete(message.pairId);
        break;
      case 'editLabels':
        this.requireSession();
        this.labelOps.push({ kind: 'edit', request: message });
        break;
      case 'exportLabels': {
        const jsonl = toTrlJsonl(message.labels);
        this.post({ type: 'exported', requestId: message.requestId, jsonl, count: message.labels.filter((l) => l.choice !== 'skip').length });
        break;
      }
      case 'importLabels': {
        const session = this.requireSession();
        const parsed = fromTrlJsonl(message.text);
        const labels: Label[] = [];
        const errors = [...parsed.errors];
        for (const label of parsed.labels) {
          const why = session.checkLabel(label);
          if (why) errors.push(`label "${label.id}": ${why}`);
          else labels.push(label);
        }
        this.post({ type: 'imported', requestId: message.requestId, labels, errors });
        break;
      }
      case 'refit':
        this.requireSession();
        if (message.run) this.refitWanted = this.refit === null;
        else this.cancelRefit('cancelled');
        break;
      case 'setTraining':
        this.requireSession();
        if (this.running !== message.running) {
          this.running = message.running;
          this.post({ type: 'runState', running: this.running, iteration: this.session?.iteration ?? 0 });
        }
        break;
      case 'step':
        this.requireSession();
        this.steps.push(message.requestId);
        break;
      case 'reset':
        this.requireSession();
        this.resets.push(message.requestId);
        break;
      case 'setPpoConfig':
        this.requireSession();
        this.ppoPatch = { ...this.ppoPatch, ...message.patch };
        break;
      case 'setAnnotator': {
        const session = this.requireSession();
        this.annotator = message.annotator ? makeAnnotator(message.annotator, session.tokenizer.vocab) : null;
        this.goldIteration = null; // a new annotator: evaluate again from the current policy
        this.post({ type: 'annotatorSet', requestId: message.requestId, annotator: message.annotator });
        break;
      }
      case 'annotate': {
        const session = this.requireSession();
        if (!this.annotator) throw new Error('no simulated annotator is set (turn autopilot on)');
        const choice = this.annotator.label(message.a, message.b, session.annotatorRng);
        this.post({ type: 'annotation', requestId: message.requestId, choice });
        break;
      }
      default:
        assertNever(message);
    }
  }

  private cancelRefit(outcome: 'cancelled' | 'restarted'): void {
    this.refitWanted = outcome === 'restarted';
    if (!this.refit) return;
    this.refit.dispose();
    this.refit = null;
    this.post({ type: 'refit', progress: null, outcome });
  }

  // ---- the work loop ----

  /** Runs forever: one job, then a yield to the message loop; sleeps while there is nothing to do. */
  async run(): Promise<never> {
    for (;;) {
      this.applyPpoPatch();
      const job = this.nextJob();
      if (job) {
        await job();
        await yieldToMessages();
      } else {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
    }
  }

  private nextJob(): Job | null {
    if (this.initRequest) {
      const request = this.initRequest;
      this.initRequest = null;
      return () => this.initialise(request);
    }
    const session = this.session;
    if (!session) return null;
    if (this.resets.length > 0) return () => this.reset(session);
    // A pair costs a few tens of ms and the page may be waiting for it; a label's update, more.
    if (!this.pairsFailed && this.outstanding.size < session.pairSettings.buffer) return () => this.makePair(session);
    if (this.labelOps.length > 0 && this.labelOps[0].kind === 'edit') return () => this.edit(session);
    if (this.samples.length > 0) return () => this.sample(session, this.samples.shift()!);
    const training = this.running || this.steps.length > 0;
    if (this.annotator && this.goldDue(session)) return () => this.gold(session);
    if (this.stripVersion !== this.stripShown && (!training || performance.now() - this.stripAt >= STRIP_INTERVAL_MS)) return () => this.strip(session);
    // Labels, PPO iterations and refit slices take turns, so that none starves the others (a fast
    // autopilot labels faster than the reward model learns).
    const wanted: Record<Turn, boolean> = {
      labels: this.labelOps.length > 0,
      ppo: training,
      refit: this.refit !== null || this.refitWanted,
    };
    const start = TURNS.indexOf(this.turn);
    for (let k = 1; k <= TURNS.length; k++) {
      const turn = TURNS[(start + k) % TURNS.length];
      if (!wanted[turn]) continue;
      this.turn = turn;
      return { labels: () => this.learn(session), ppo: () => this.ppoIteration(session), refit: () => this.refitSlice(session) }[turn];
    }
    return null;
  }

  private goldDue(session: Session): boolean {
    return this.goldIteration === null || session.iteration - this.goldIteration >= GOLD_EVERY || session.iteration < this.goldIteration;
  }

  private async initialise(request: InitRequest): Promise<void> {
    // A second init (not sent by today's page) starts a new run: nothing of the old one is kept.
    this.session?.dispose();
    this.session = null;
    this.refit?.dispose();
    this.refit = null;
    this.resets = [];
    this.labelOps = [];
    this.samples = [];
    this.steps = [];
    this.outstanding.clear();
    this.prompt = null;
    this.epoch = 0;
    this.running = false;
    this.ppoPatch = null;
    this.annotator = null;
    this.goldIteration = null;
    try {
      const session = await Session.open(request);
      this.session = session;
      const presets: PresetInfo[] = ANNOTATOR_PRESET_NAMES.map((name) => ({ name, description: PRESETS[name].description, needsWord: PRESETS[name].needsWord }));
      this.post({ type: 'ready', requestId: request.requestId, backend: session.backend, reasons: session.reasons, modelInfo: session.modelInfo, ppo: session.config, presets });
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) });
    }
  }

  private async reset(session: Session): Promise<void> {
    const ids = this.resets.splice(0);
    session.resetPolicy();
    this.running = false;
    this.steps.splice(0).forEach((requestId) => this.post({ type: 'error', requestId, message: 'the run was reset' }));
    this.goldIteration = null;
    this.stripVersion += 1;
    // Pairs already sent stay valid: they are comparisons like any other, only from the old policy.
    this.post({ type: 'runState', running: false, iteration: 0 });
    for (const requestId of ids) this.post({ type: 'resetDone', requestId });
  }

  /** Every label at the head of the queue, learned in one incremental update. */
  private async learn(session: Session): Promise<void> {
    const batch: LabelRequest[] = [];
    while (batch.length < MAX_LABELS_PER_JOB && this.labelOps.length > 0 && this.labelOps[0].kind === 'label') {
      batch.push((this.labelOps.shift() as { request: LabelRequest }).request);
    }
    const accepted: LabelRequest[] = [];
    for (const request of batch) {
      const why = session.checkLabel(request.label) ?? (session.allLabels.some((l) => l.id === request.label.id) ? `a label with id "${request.label.id}" exists` : null);
      if (why) this.post({ type: 'error', requestId: request.requestId, message: `the label cannot be learned: ${why}` });
      else accepted.push(request);
    }
    if (accepted.length === 0) return;
    try {
      const { verdicts, metrics } = await session.learn(accepted.map((r) => r.label));
      accepted.forEach((r, i) => this.post({ type: 'labelled', requestId: r.requestId, verdict: verdicts[i] }));
      this.post({ type: 'rewardModel', metrics });
      this.stripVersion += 1;
      this.labelsSinceRefit += accepted.length;
      const every = session.rewardSettings.refitEvery;
      if (every > 0 && this.labelsSinceRefit >= every && this.refit === null) {
        this.refitWanted = true;
        this.labelsSinceRefit = 0;
      }
    } catch (e) {
      // The labels are kept (the page has them); the RM may have skipped a step.
      for (const r of accepted) this.post({ type: 'error', requestId: r.requestId, message: `the reward model could not learn this label: ${errorText(e)}` });
      this.post({ type: 'warning', message: `The reward model's update failed (${errorText(e)}); a refit will start from the labels.` });
      this.refitWanted = this.refit === null;
    }
  }

  private async edit(session: Session): Promise<void> {
    const { request } = this.labelOps.shift() as { request: EditLabelsRequest };
    try {
      const { refit } = await session.edit(request.edit);
      this.post({ type: 'labelsEdited', requestId: request.requestId, labels: session.labelCount });
      this.post({ type: 'rewardModel', metrics: await session.rewardMetrics('edit') });
      this.stripVersion += 1;
      if (refit) {
        if (this.refit) this.cancelRefit('restarted');
        this.refitWanted = true;
        this.labelsSinceRefit = 0;
      }
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) });
    }
  }

  private async makePair(session: Session): Promise<void> {
    const epoch = this.epoch;
    const id = this.nextPairId++;
    try {
      const pair = await session.makePair(id, epoch, this.prompt);
      if (epoch !== this.epoch) return; // the prompt changed meanwhile: the page wants other pairs
      this.outstanding.add(id);
      this.post({ type: 'pair', pair });
    } catch (e) {
      this.pairsFailed = true; // until the prompt changes: do not spin on a failure
      this.post({ type: 'warning', message: `Could not make a pair to label: ${errorText(e)}` });
    }
  }

  private async sample(session: Session, request: SampleRequest): Promise<void> {
    try {
      const completions = await session.sample(request.prompts, request.temperature);
      this.post({ type: 'samples', requestId: request.requestId, prompts: request.prompts, completions });
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) });
    }
  }

  private async gold(session: Session): Promise<void> {
    const annotator = this.annotator;
    if (!annotator) return;
    const iteration = session.iteration;
    this.goldIteration = iteration;
    try {
      const g = await session.gold(annotator);
      if (annotator === this.annotator) this.post({ type: 'gold', iteration, ...g });
    } catch (e) {
      this.post({ type: 'warning', message: `Gold evaluation failed: ${errorText(e)}` });
    }
  }

  private async strip(session: Session): Promise<void> {
    const version = this.stripVersion;
    try {
      const rows = await session.strip();
      this.post({ type: 'strip', iteration: session.iteration, rows });
    } catch (e) {
      this.post({ type: 'warning', message: `Could not refresh the sample strip: ${errorText(e)}` });
    }
    this.stripShown = version;
    this.stripAt = performance.now();
  }

  private async refitSlice(session: Session): Promise<void> {
    if (!this.refit) {
      this.refitWanted = false;
      if (session.labelCount === 0) {
        this.post({ type: 'refit', progress: null, outcome: 'cancelled' }); // nothing to fit
        return;
      }
      this.refit = session.startRefit();
    }
    const refit = this.refit;
    try {
      const done = await refit.run(REFIT_SLICE_MS);
      if (refit !== this.refit) return; // cancelled while it ran
      if (!done) {
        this.post({ type: 'refit', progress: { step: refit.step, total: refit.total, loss: refit.loss, labels: refit.labels } });
        return;
      }
      this.refit = null;
      const metrics = await session.adoptRefit(refit);
      this.post({ type: 'refit', progress: null, outcome: 'done' });
      this.post({ type: 'rewardModel', metrics });
      this.stripVersion += 1;
    } catch (e) {
      refit.dispose();
      if (refit === this.refit) this.refit = null;
      this.post({ type: 'refit', progress: null, outcome: 'cancelled' });
      this.post({ type: 'warning', message: `The reward-model refit failed and was dropped: ${errorText(e)}` });
    }
  }

  /** New hyperparameters take effect between jobs, so never in the middle of a PPO iteration. */
  private applyPpoPatch(): void {
    const session = this.session;
    if (!this.ppoPatch || !session) return;
    session.setPpoConfig(this.ppoPatch);
    this.ppoPatch = null;
    this.post({ type: 'ppoConfig', config: session.config, fromIteration: session.iteration });
  }

  private async ppoIteration(session: Session): Promise<void> {
    const waiting = this.steps.splice(0);
    try {
      const result = await session.ppoIteration();
      const row = new Float32Array(PPO_METRIC_KEYS.map((k) => result.metrics[k]));
      this.post({ type: 'iteration', metrics: row, samples: result.samples }, [row.buffer]);
      this.stripVersion += 1;
      for (const requestId of waiting) this.post({ type: 'stepped', requestId, iteration: session.iteration });
      if (result.stopReason) this.stop(session, result.stopReason);
    } catch (e) {
      for (const requestId of waiting) this.post({ type: 'error', requestId, message: errorText(e) });
      if (e instanceof RolledBackError) {
        this.post({ type: 'rolledBack', iteration: session.iteration + 1, message: e.message });
        this.stop(session, `${e.message}. Training paused: try a smaller learning rate, then Train again.`);
      } else {
        this.stop(session, `PPO failed: ${errorText(e)}`);
      }
    }
  }

  private stop(session: Session, reason: string): void {
    this.running = false;
    this.post({ type: 'runState', running: false, iteration: session.iteration, reason });
  }
}

function makeAnnotator(settings: AnnotatorSettings, vocabulary: readonly string[]): SimulatedAnnotator {
  return new SimulatedAnnotator({ preset: settings.preset, word: settings.word, noise: settings.noise, tieRule: settings.tieRule }, vocabulary);
}
