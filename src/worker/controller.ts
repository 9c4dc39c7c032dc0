// The worker's scheduler. Messages are handled at once and only change plain state (a queue, a
// flag, a settings patch); every piece of tensor work is a job on the run (src/lib/rl/run.ts) that
// the loop below runs one at a time, yielding to the message loop between jobs. A job is at most
// about one RL iteration long, so Pause, a label or a new setting takes effect within one
// iteration, and tfjs work never interleaves. Jobs are picked by priority each time round:
//   init > reset > keep the pair buffer full > the next slice of labels being learned > label edits
//   > base samples > blind pairs > gold evaluation > sample strip > then new labels, online
//   iterations, offline steps and refit slices take turns.
// Labels are learned in slices of about one incremental update (Run.startLearning) with the pair
// refill first between them: a burst of clicks waits at most one slice for its next pairs, never
// for the whole update, so the next pair is on screen when the label is given (issue 11). Work
// that can wait (offline runs, refit slices, the reward-KL plane: slices of up to ~0.7 s) waits
// while a person is clicking, and the normalisation samples are drawn while the worker is idle.
// All the state of one run lives in one Loop object, made anew by init, so nothing of an old run
// is left behind. A checkpoint of the whole trained state goes to the page every CHECKPOINT_EVERY
// iterations, after a refit or an offline run, and on Pause; a restore takes its place in the
// label queue, so that labels and edits sent before and after it apply in order.
import type { FieldValue } from '../lib/config/fields';
import type { AnnotatorSettings, BackendName } from '../lib/config/run';
import type { Rng } from '../lib/math/rng';
import { generatePrompts } from '../lib/data/corpus';
import { hackingAlarms } from '../lib/rl/alarms';
import { SymptomTracker } from '../lib/rl/symptoms';
import { PRESETS, SimulatedAnnotator } from '../lib/rl/annotators';
import { METHODS, METHOD_NAMES, type MethodName } from '../lib/rl/methods/registry';
import { mergePlane, PLANE_NS, type PlaneAxis, type PlanePoint } from '../lib/rl/plane';
import { RolledBackError } from '../lib/rl/methods/types';
import { agreement, describeFormats, exportLabels, fromTrlJsonl } from '../lib/rl/preferences';
import type { Label } from '../lib/config/label';
import { trlZip, type TrainedPolicy } from '../lib/export/trl-zip';
import type { RefitJob } from '../lib/rl/refit';
import { RoundLog } from '../lib/rl/rounds';
import type { LearnJob, Run } from '../lib/rl/run';
import type { CheckpointFile, CheckpointMeta } from '../lib/rl/checkpoint';
import {
  ANNOTATOR_PRESET_NAMES,
  assertNever,
  PROTOCOL_VERSION,
  type CheckpointEvent,
  type DrawBlindPairRequest,
  type ExportTrlRequest,
  type EditLabelsRequest,
  type FromWorker,
  type GoldResult,
  type InitRequest,
  type LabelRequest,
  type PerTokenRequest,
  type MethodInfo,
  type MethodStateEvent,
  type ModelInfo,
  type PresetInfo,
  type RestoreCheckpointRequest,
  type RewardMetrics,
  type SampleRequest,
  type SlowBackend,
  type ToWorker,
} from '../lib/protocol/messages';
import { errorText } from './backend';

/** Gold evaluation every this many RL iterations (all methods together) while an annotator is set. */
export const GOLD_EVERY = 2;
/** Held-out prompts of the gold evaluation: enough for a readable curve, cheap (one batch). */
export const GOLD_PROMPTS = 64;
/** A fixed seed for the gold prompts, so every run is judged on the same set. */
const GOLD_PROMPT_SEED = 99;
/** The sample strip's prompts: typical openings of the corpus. */
export const STRIP_PROMPTS = ['the pizza was', 'the hotel was', 'what a', 'we loved'];
/** While training, the strip is refreshed at most this often. */
const STRIP_INTERVAL_MS = 2000;
/** The reward-KL plane is measured again at most this often (best-of-N re-scores 64 x 64 candidates, ~0.5 s on WASM). */
export const PLANE_INTERVAL_MS = 5000;
/** A slice of background refit: short enough that a click waits for at most this much. */
const REFIT_SLICE_MS = 250;
/** Labels learned together (one prediction and report): each takes its own slice of RewardSettings.incrementalSteps steps (~0.1 s each on WASM). */
const MAX_LABELS_PER_JOB = 4;
/** Offline steps, refit slices and the plane wait this long after a person's last answer: one of their slices (up to ~0.7 s on WASM) would outlast the pairs buffered for a burst of clicks. */
export const LABELLING_QUIET_MS = 1500;
/** Answers closer together than this are a burst: its labels are learned when it pauses, so the worker only samples pairs meanwhile (the first update after load takes up to ~1.5 s on a busy 2-core WASM machine; 12 clicks at 100-150 ms lost 2-7 of them to it). */
export const LABELLING_BURST_MS = 400;
/** More prompts than this in one sample request is a bug in the caller, not a wish. */
export const MAX_PROMPTS = 256;
/** A checkpoint every this many iterations (all methods together): 1-2 s each on WASM, so a crash loses at most ~10 s of training, and saving (~50 ms for a few MB) costs under 1 % of them. */
export const CHECKPOINT_EVERY = 5;
/** The request id of work the worker queues itself after a restore (labels the checkpoint lacked): the page sends no request with it, so nobody waits for its reply. */
const RESTORED = 0;

export type Post = (message: FromWorker, transfer?: Transferable[]) => void;

/** What the controller needs of the run: the real Run, or a fake in the controller's tests. */
export type RunLike = Pick<
  Run,
  | 'checkPrompt'
  | 'checkLabel'
  | 'base'
  | 'rewardModel'
  | 'usable'
  | 'labels'
  | 'labelCount'
  | 'makePair'
  | 'startLearning'
  | 'normalisationReady'
  | 'drawNormalisation'
  | 'edit'
  | 'rewardFit'
  | 'startRefit'
  | 'adoptRefit'
  | 'refitDue'
  | 'enabled'
  | 'setEnabled'
  | 'config'
  | 'configure'
  | 'trainer'
  | 'step'
  | 'resetMethod'
  | 'resetMethods'
  | 'finished'
  | 'stale'
  | 'evaluate'
  | 'strip'
  | 'stream'
  | 'sampleBase'
  | 'settings'
  | 'tokenizer'
  | 'setDemonstrations'
  | 'blindPair'
  | 'rewardStep'
  | 'measure'
  | 'bestOfNCandidates'
  | 'bestOfNSweep'
>;

/** What the controller needs of the worker's session (src/worker/session.ts). */
export interface SessionLike {
  readonly backend: BackendName;
  readonly reasons: Record<BackendName, string>;
  readonly slow: SlowBackend | null;
  readonly modelInfo: ModelInfo;
  readonly problems: string[];
  readonly run: RunLike;
  methodInfo(): MethodInfo[];
  checkPatch(method: MethodName, patch: Record<string, FieldValue>): string | null;
  /** The whole trained state as one file (src/lib/rl/checkpoint.ts). */
  saveCheckpoint(options: { labels?: readonly Label[]; extra?: Record<string, number> }): Promise<{ meta: CheckpointMeta; bytes: Uint8Array }>;
  /** Replaces the run with the checkpoint's; throws a message naming the problem, the run untouched. */
  restoreCheckpoint(bytes: Uint8Array): Pick<CheckpointFile, 'meta' | 'labels' | 'extra'> & { values: { seed: number } };
  dispose(): void;
}

export type OpenSession = (init: InitRequest) => Promise<SessionLike>;

type Job = () => Promise<void>;

/** Work that takes turns once the urgent jobs are done. */
type Turn = 'labels' | 'online' | 'offline' | 'refit' | 'plane';
const TURNS: readonly Turn[] = ['labels', 'online', 'offline', 'refit', 'plane'];

/** Labels and edits, kept in one queue so they apply in the order the page sent them. */
type LabelOp = { kind: 'label'; request: LabelRequest } | { kind: 'edit'; request: EditLabelsRequest } | { kind: 'restore'; request: RestoreCheckpointRequest };

/** A checkpoint the page asked for: to keep (saveCheckpoint), or to download with its labels (exportCheckpoint). */
type CheckpointAsk = { kind: 'save'; requestId: number } | { kind: 'export'; requestId: number; labels: Label[] };

/** A pair sent and not yet labelled or skipped, and the policy that wrote it. */
interface Outstanding {
  from: 'base' | MethodName;
  steps: number;
}

/** Everything of one run the controller keeps; init makes a fresh one. */
export class Loop {
  resets: { requestId: number; method?: MethodName }[] = [];
  labelOps: LabelOp[] = [];
  /** Labels taken from the queue and being learned, a slice per job (null: none). */
  learning: { job: LearnJob; requests: LabelRequest[] } | null = null;
  /** When a person last answered a pair (Controller.now): learning holds back LABELLING_BURST_MS after it, work that can wait LABELLING_QUIET_MS. */
  answeredAt = -Infinity;
  /** The idle draw of the normalisation samples was tried (once: a failure is left to the first label's update). */
  normalisationTried = false;
  samples: SampleRequest[] = [];
  /** Blind-evaluation pairs asked for, answered in order. */
  blindPairs: DrawBlindPairRequest[] = [];
  /** Per-token views asked for (the latest wins: older ones are answered with an error). */
  perTokens: PerTokenRequest[] = [];
  /** Online rounds: which model wrote each labelled pair, and the RM's prediction of the label (rounds.ts). */
  rounds = new RoundLog();
  /** Single reward-model steps asked for (request ids), taken in the labels' turn after the queued labels. */
  rewardSteps: number[] = [];
  /** The one-off annotator of annotate requests that name one (the pipeline's "Label one pair"), with its settings. */
  oneOffAnnotator: { key: string; annotator: SimulatedAnnotator } | null = null;
  /** Step requests waiting, and the online methods still to step for them. */
  steps: number[] = [];
  stepQueue: MethodName[] = [];
  outstanding = new Map<number, Outstanding>();
  nextPairId = 1;
  prompt: string | null = null;
  epoch = 0;
  pairsFailed = false;
  running = false;
  patches = new Map<MethodName, Record<string, FieldValue>>();
  refit: RefitJob | null = null;
  refitWanted = false;
  turn: Turn = 'refit';
  /** Round-robin positions among the online methods and the offline runs. */
  onlineTurn = 0;
  offlineTurn = 0;
  /** Offline and rerank methods with a run in progress (asked for, or due after new labels). */
  offlineRuns = new Set<MethodName>();
  annotator: SimulatedAnnotator | null = null;
  /** The simulated annotator's draws (ties and label noise). */
  annotatorRng: Rng | null = null;
  /** Total steps of all methods at the last gold evaluation (null: due now). */
  goldAt: number | null = null;
  goldPrompts: string[] | null = null;
  stripVersion = 1;
  stripShown = 0;
  stripAt = 0;
  rewardReports = 0;
  /** Each method's gold evaluations, rollouts and stops, and the reward-hacking symptoms they show. */
  symptoms = new SymptomTracker();
  /** The reward-KL plane ("Is RL necessary?"): its points so far, and their axis (null: none posted yet). */
  plane: PlanePoint[] = [];
  planeAxis: PlaneAxis | null = null;
  /** What the plane last measured (axis, gold evaluations, reward-model reports, steps) and when. */
  planeKey = '';
  planeAt = -Infinity;
  /** Each method's latest gold result that can stand on the plane (an offline one only when its run had finished): under autopilot the trained methods' points are these (no second evaluation). */
  planeGold = new Map<MethodName, GoldResult>();
  goldCount = 0;
  /** TRL hand-off zips asked for (they read every model's weights: a job between steps). */
  trlExports: ExportTrlRequest[] = [];
  /** A checkpoint event due (null: none), iterations since the last one, and the ones asked for. */
  checkpointDue: CheckpointEvent['reason'] | null = null;
  sinceCheckpoint = 0;
  checkpointAsks: CheckpointAsk[] = [];
}

/** An ArrayBuffer holding exactly `bytes` (to transfer). */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes.buffer : bytes.slice().buffer;
}

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
  private session: SessionLike | null = null;
  private initRequest: InitRequest | null = null;
  /** The state of the current run (read by the controller's tests). */
  loop = new Loop();
  private wake: (() => void) | null = null;
  /** The clock of the quiet after answers (the controller's tests simulate time with it). */
  now: () => number = () => performance.now();

  constructor(
    private readonly post: Post,
    private readonly open: OpenSession,
  ) {}

  // ---- messages: plain state changes only, no tensors ----

  receive(message: ToWorker): void {
    try {
      this.handle(message);
    } catch (e) {
      // A refused request gets its error reply; a refused message that awaits none is a warning
      // (an error without a request id means the worker itself failed).
      if ('requestId' in message) this.post({ type: 'error', requestId: message.requestId, message: errorText(e) });
      else this.post({ type: 'warning', message: errorText(e) });
    }
    this.wake?.();
  }

  private requireRun(): RunLike {
    if (!this.session) throw new Error('the model is not loaded yet');
    return this.session.run;
  }

  private handle(message: ToWorker): void {
    const loop = this.loop;
    switch (message.type) {
      case 'init':
        if (message.version !== PROTOCOL_VERSION) {
          throw new Error(`the page speaks protocol version ${message.version}, the worker ${PROTOCOL_VERSION}: reload the page`);
        }
        this.initRequest = message;
        break;
      case 'sample':
        this.requireRun();
        if (message.prompts.length === 0 || message.prompts.length > MAX_PROMPTS) throw new RangeError(`expected 1 to ${MAX_PROMPTS} prompts, got ${message.prompts.length}`);
        loop.samples.push(message);
        break;
      case 'setPrompt': {
        const run = this.requireRun();
        const check = message.prompt === null ? { unknown: [], problem: null } : run.checkPrompt(message.prompt);
        const ok = check.unknown.length === 0 && check.problem === null;
        if (ok) {
          loop.prompt = message.prompt === null ? null : message.prompt.trim().toLowerCase();
          loop.epoch = message.epoch;
          loop.outstanding.clear();
          loop.pairsFailed = false;
        }
        this.post({ type: 'promptSet', requestId: message.requestId, prompt: ok ? loop.prompt : message.prompt, epoch: message.epoch, ...check });
        break;
      }
      case 'label':
        this.requireRun();
        if (message.label.choice === 'skip') throw new Error('a skipped pair is not a label: send "skip"');
        loop.rounds.expect(message.label.id, message.pairId === null ? null : (loop.outstanding.get(message.pairId) ?? null));
        if (message.label.source === 'human') loop.answeredAt = this.now();
        if (message.pairId !== null) loop.outstanding.delete(message.pairId);
        loop.labelOps.push({ kind: 'label', request: message });
        break;
      case 'skip':
        loop.outstanding.delete(message.pairId);
        loop.answeredAt = this.now();
        break;
      case 'editLabels':
        this.requireRun();
        loop.labelOps.push({ kind: 'edit', request: message });
        break;
      case 'exportLabels': {
        const out = exportLabels(message.labels);
        this.post({ type: 'exported', requestId: message.requestId, jsonl: out.preferences, count: out.counts.preferences, ties: out.counts.ties });
        break;
      }
      case 'importLabels': {
        const run = this.requireRun();
        const check = (label: Parameters<RunLike['checkLabel']>[0]) => run.checkLabel(label);
        const files = message.files.map(({ name, text }) => {
          const r = fromTrlJsonl(text, { check });
          return { name, labels: r.labels, errors: r.errors, lines: r.lines, formats: describeFormats(r.formats) };
        });
        const annotators = [...(message.held.length > 0 ? [message.held] : []), ...files.map((f) => f.labels)];
        this.post({ type: 'imported', requestId: message.requestId, files, agreement: agreement(annotators) });
        break;
      }
      case 'exportTrl':
        this.requireRun();
        loop.trlExports.push(message);
        break;
      case 'refit':
        this.requireRun();
        if (message.run) loop.refitWanted = loop.refit === null;
        else this.cancelRefit('cancelled');
        break;
      case 'setTraining':
        this.requireRun();
        if (loop.running !== message.running) {
          loop.running = message.running;
          if (!loop.running) loop.checkpointDue = 'pause';
          this.postRunState();
        }
        break;
      case 'step': {
        const run = this.requireRun();
        const online = run.enabled.filter((m) => METHODS[m].kind === 'online');
        if (online.length === 0) throw new Error('no online method (PPO, GRPO, RLOO) is ticked: tick one to step it');
        loop.steps.push(message.requestId);
        if (loop.stepQueue.length === 0) loop.stepQueue = online;
        break;
      }
      case 'reset':
        this.requireRun();
        loop.resets.push({ requestId: message.requestId, method: message.method });
        break;
      case 'setMethods': {
        const run = this.requireRun();
        run.setEnabled(message.enabled);
        for (const m of [...loop.offlineRuns]) if (!run.enabled.includes(m)) this.endOffline(m, 'cancelled');
        loop.stepQueue = loop.stepQueue.filter((m) => run.enabled.includes(m));
        loop.stripVersion += 1;
        this.post({ type: 'methodsSet', requestId: message.requestId, enabled: [...run.enabled] });
        break;
      }
      case 'runMethod': {
        const run = this.requireRun();
        if (METHODS[message.method].kind === 'online') throw new Error(`${METHODS[message.method].title} trains with Train and Step`);
        if (run.labelCount === 0 && METHODS[message.method].kind === 'offline') throw new Error(`${METHODS[message.method].title} trains on labels: give at least one label first`);
        if (run.trainer(message.method) && (run.finished(message.method) || run.stale(message.method))) run.resetMethod(message.method);
        loop.offlineRuns.add(message.method);
        break;
      }
      case 'cancelMethod':
        this.requireRun();
        this.endOffline(message.method, 'cancelled');
        break;
      case 'setMethodConfig': {
        const session = this.session;
        if (!session) throw new Error('the model is not loaded yet');
        const why = session.checkPatch(message.method, message.patch);
        if (why) throw new Error(why);
        loop.patches.set(message.method, { ...loop.patches.get(message.method), ...message.patch });
        break;
      }
      case 'setDemonstrations': {
        const run = this.requireRun();
        run.setDemonstrations(message.demonstrations); // throws a message naming unknown words
        this.post({ type: 'demonstrationsSet', requestId: message.requestId, count: message.demonstrations.length });
        break;
      }
      case 'setAnnotator': {
        const run = this.requireRun();
        loop.annotator = message.annotator ? makeAnnotator(message.annotator, run.tokenizer.vocab) : null;
        loop.goldAt = null; // a new annotator: evaluate again from the current policies
        loop.planeGold.clear(); // another judge's gold (the plane's axis follows)
        this.post({ type: 'annotatorSet', requestId: message.requestId, annotator: message.annotator });
        break;
      }
      case 'annotate': {
        const run = this.requireRun();
        const annotator = message.annotator ? this.oneOffAnnotator(message.annotator, run) : loop.annotator;
        if (!annotator) throw new Error('no simulated annotator is set (turn autopilot on)');
        loop.annotatorRng ??= run.stream('annotator');
        const choice = annotator.label(message.prompt, message.a, message.b, loop.annotatorRng);
        this.post({ type: 'annotation', requestId: message.requestId, choice });
        break;
      }
      case 'drawBlindPair': {
        const run = this.requireRun();
        if (!Object.hasOwn(METHODS, message.method)) throw new Error(`unknown method "${String(message.method)}"`);
        if ((run.trainer(message.method)?.steps ?? 0) === 0) throw new Error(`${METHODS[message.method].title} has not trained yet: train it, then compare it blind`);
        loop.blindPairs.push(message);
        break;
      }
      case 'perToken': {
        const run = this.requireRun();
        if (!(message.method in METHODS)) throw new Error(`unknown method "${String(message.method)}"`);
        if (!run.trainer(message.method)?.explain) throw new Error(`${METHODS[message.method].title} has no per-token view (PPO, GRPO and RLOO have one, once trained)`);
        const why = run.checkLabel({ prompt: message.prompt, completionA: message.completion, completionB: message.completion });
        if (why) throw new Error(`this sample cannot be measured: ${why}`);
        for (const old of loop.perTokens.splice(0)) this.post({ type: 'error', requestId: old.requestId, message: 'a newer per-token view was asked for' });
        loop.perTokens.push(message);
        break;
      }
      case 'startRound': {
        const run = this.requireRun();
        const policy = trainedPolicy(run);
        if (!policy) throw new Error('a new round labels pairs written by a trained policy: tick PPO, GRPO or RLOO and train it first (Step or Train)');
        const round = loop.rounds.start(policy);
        // The policy holds still while its pairs are labelled (a round as InstructGPT collected them).
        if (loop.running) {
          loop.running = false;
          this.postRunState(`Round ${round}: training paused while you label pairs from ${METHODS[policy.from].title} (${policy.steps} iterations); press Train to go on`);
        }
        const ids = [...loop.outstanding.keys()];
        loop.outstanding.clear();
        if (ids.length > 0) this.post({ type: 'pairsWithdrawn', ids });
        this.post({ type: 'roundStarted', requestId: message.requestId, round, policy });
        this.post({ type: 'rounds', summary: loop.rounds.summary() });
        break;
      }
      case 'rewardStep': {
        const run = this.requireRun();
        if (run.labelCount === 0) throw new Error('the reward model has no label to learn from: give a label first');
        loop.rewardSteps.push(message.requestId);
        break;
      }
      case 'saveCheckpoint':
        this.requireRun();
        loop.checkpointAsks.push({ kind: 'save', requestId: message.requestId });
        break;
      case 'exportCheckpoint':
        this.requireRun();
        loop.checkpointAsks.push({ kind: 'export', requestId: message.requestId, labels: message.labels });
        break;
      case 'restoreCheckpoint':
        this.requireRun();
        if (!(message.bytes instanceof ArrayBuffer)) throw new Error('a checkpoint must be sent as an ArrayBuffer');
        loop.labelOps.push({ kind: 'restore', request: message });
        break;
      default:
        assertNever(message);
    }
  }

  /** The annotator an annotate request names, made once per distinct settings (it does not turn on gold). */
  private oneOffAnnotator(settings: AnnotatorSettings, run: RunLike): SimulatedAnnotator {
    const key = JSON.stringify(settings);
    const loop = this.loop;
    if (loop.oneOffAnnotator?.key !== key) loop.oneOffAnnotator = { key, annotator: makeAnnotator(settings, run.tokenizer.vocab) };
    return loop.oneOffAnnotator.annotator;
  }

  private cancelRefit(outcome: 'cancelled' | 'restarted'): void {
    const loop = this.loop;
    loop.refitWanted = outcome === 'restarted';
    if (!loop.refit) return;
    loop.refit.dispose();
    loop.refit = null;
    this.post({ type: 'refit', progress: null, outcome });
  }

  private methodState(run: RunLike, method: MethodName, running: boolean, outcome?: MethodStateEvent['outcome']): MethodStateEvent {
    const t = run.trainer(method);
    return { type: 'methodState', method, step: t?.steps ?? 0, total: t?.totalSteps ?? null, running, outcome, stale: t !== null && run.stale(method) };
  }

  private endOffline(method: MethodName, outcome: 'done' | 'cancelled' | 'failed'): void {
    const run = this.session?.run;
    if (!run || !this.loop.offlineRuns.delete(method)) return;
    this.post(this.methodState(run, method, false, outcome));
    this.loop.goldAt = null;
    this.loop.stripVersion += 1;
  }

  private steps(run: RunLike): Partial<Record<MethodName, number>> {
    const out: Partial<Record<MethodName, number>> = {};
    for (const name of Object.keys(METHODS) as MethodName[]) {
      const t = run.trainer(name);
      if (t) out[name] = t.steps;
    }
    return out;
  }

  /** Iterations of the online methods: gold is due every GOLD_EVERY of these (an offline run is judged when it ends). */
  private totalSteps(run: RunLike): number {
    return Object.entries(this.steps(run)).reduce((a, [name, n]) => a + (METHODS[name as MethodName].kind === 'online' ? (n ?? 0) : 0), 0);
  }

  private postRunState(reason?: string): void {
    const run = this.session?.run;
    if (!run) return;
    this.post({ type: 'runState', running: this.loop.running, steps: this.steps(run), reason });
  }

  // ---- the work loop ----

  /** Runs forever: one job, then a yield to the message loop; sleeps while there is nothing to do. */
  async run(): Promise<never> {
    for (;;) {
      if (await this.tick()) await yieldToMessages();
      else await this.sleep();
    }
  }

  /** Waits for a message, or for the end of a burst or of the quiet after a person's answer (work held back by it is due then). */
  private async sleep(): Promise<void> {
    const since = this.now() - this.loop.answeredAt;
    const waits = [LABELLING_BURST_MS, LABELLING_QUIET_MS].map((ms) => ms - since).filter((ms) => ms > 0);
    await new Promise<void>((resolve) => {
      const timer = waits.length > 0 ? setTimeout(resolve, Math.min(...waits)) : undefined;
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = null;
  }

  /** Whether a person answered within the last `ms`. */
  private answeredWithin(ms: number): boolean {
    return this.now() - this.loop.answeredAt < ms;
  }

  /** Applies pending settings and runs the next job; false when there was none (the tests drive the loop with this). */
  async tick(): Promise<boolean> {
    this.applyPatches();
    const job = this.nextJob();
    if (!job) return false;
    await job();
    return true;
  }

  /** The next job, by priority. */
  private nextJob(): Job | null {
    const loop = this.loop;
    if (this.initRequest) {
      const request = this.initRequest;
      this.initRequest = null;
      return () => this.initialise(request);
    }
    const session = this.session;
    if (!session) return null;
    const run = session.run;
    if (loop.resets.length > 0) return () => this.reset(run);
    if (loop.trlExports.length > 0) return () => this.exportTrl(run, loop.trlExports.shift()!);
    // A pair costs a few tens of ms and the page may be waiting for it; a label's update, more.
    if (!loop.pairsFailed && loop.outstanding.size < pairBuffer(session)) return () => this.makePair(run);
    // Labels being learned go on before anything else reads the reward model half-updated; during
    // a burst of answers only pairs are sampled, and the labels wait for its pause.
    const burst = this.answeredWithin(LABELLING_BURST_MS);
    if (loop.learning) return burst ? null : () => this.learnSlice(run);
    if (loop.labelOps.length > 0 && loop.labelOps[0].kind === 'edit') return () => this.edit(run);
    if (loop.labelOps.length > 0 && loop.labelOps[0].kind === 'restore') return () => this.restore(session);
    if (loop.samples.length > 0) return () => this.sample(run, loop.samples.shift()!);
    if (loop.blindPairs.length > 0) return () => this.blindPair(run, loop.blindPairs.shift()!);
    if (loop.perTokens.length > 0) return () => this.perToken(run, loop.perTokens.shift()!);
    if (loop.checkpointAsks.length > 0) return () => this.checkpointAsk(session, loop.checkpointAsks.shift()!);
    if (loop.checkpointDue) return () => this.checkpoint(session, loop.checkpointDue!);
    const online = run.enabled.filter((m) => METHODS[m].kind === 'online');
    const training = (loop.running && online.length > 0) || loop.stepQueue.length > 0;
    if (loop.annotator && this.goldDue(run)) return () => this.gold(run);
    if (loop.stripVersion !== loop.stripShown && (!training || performance.now() - loop.stripAt >= STRIP_INTERVAL_MS)) return () => this.strip(run);
    this.queueDueOffline(run);
    // Labels, online iterations, offline steps and refit slices take turns, so that none starves
    // the others (a fast autopilot labels faster than the reward model learns).
    const clicking = this.answeredWithin(LABELLING_QUIET_MS);
    const wanted: Record<Turn, boolean> = {
      labels: (loop.labelOps.length > 0 || loop.rewardSteps.length > 0) && !burst,
      online: training,
      offline: loop.offlineRuns.size > 0 && !clicking,
      refit: (loop.refit !== null || loop.refitWanted) && !clicking,
      plane: !clicking && this.planeDue(run),
    };
    const start = TURNS.indexOf(loop.turn);
    for (let k = 1; k <= TURNS.length; k++) {
      const turn = TURNS[(start + k) % TURNS.length];
      if (!wanted[turn]) continue;
      loop.turn = turn;
      switch (turn) {
        case 'labels':
          return loop.labelOps.length > 0 ? () => this.learn(run) : () => this.rewardStep(run);
        case 'online': {
          const method = loop.stepQueue.length > 0 ? loop.stepQueue.shift()! : online[loop.onlineTurn++ % online.length];
          return () => this.onlineStep(run, method);
        }
        case 'offline': {
          const runs = [...loop.offlineRuns];
          const method = runs[loop.offlineTurn++ % runs.length];
          return () => this.offlineStep(run, method);
        }
        case 'refit':
          return () => this.refitSlice(run);
        case 'plane':
          return () => this.planeJob(run);
      }
    }
    if (!run.normalisationReady && !loop.normalisationTried && !clicking) return () => this.drawNormalisation(run);
    return null;
  }

  /** Idle: the normalisation samples, drawn ahead so that the first label's update does not wait for them. */
  private async drawNormalisation(run: RunLike): Promise<void> {
    this.loop.normalisationTried = true;
    try {
      await run.drawNormalisation();
    } catch (e) {
      this.post({ type: 'warning', message: `Could not draw the reward model's normalisation samples: ${errorText(e)}` });
    }
  }

  /** Ticked offline and rerank methods run again once the labels they learned from have changed. */
  private queueDueOffline(run: RunLike): void {
    for (const m of run.enabled) {
      if (METHODS[m].kind === 'online' || this.loop.offlineRuns.has(m) || run.labelCount === 0) continue;
      const t = run.trainer(m);
      if (t === null || (run.stale(m) && run.finished(m))) {
        if (t) run.resetMethod(m);
        this.loop.offlineRuns.add(m);
      }
    }
  }

  private goldDue(run: RunLike): boolean {
    const at = this.loop.goldAt;
    const total = this.totalSteps(run);
    return at === null || total - at >= GOLD_EVERY || total < at;
  }

  private async initialise(request: InitRequest): Promise<void> {
    // A second init (not sent by today's page) starts a new run: nothing of the old one is kept.
    this.session?.dispose();
    this.session = null;
    this.loop.refit?.dispose();
    this.loop = new Loop();
    try {
      const session = await this.open(request);
      this.session = session;
      const presets: PresetInfo[] = ANNOTATOR_PRESET_NAMES.map((name) => ({ name, description: PRESETS[name].description, needsWord: PRESETS[name].needsWord }));
      this.post({
        type: 'ready',
        requestId: request.requestId,
        backend: session.backend,
        reasons: session.reasons,
        slow: session.slow,
        modelInfo: session.modelInfo,
        methods: session.methodInfo(),
        enabled: [...session.run.enabled],
        problems: session.problems,
        presets,
      });
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) });
    }
  }

  private async reset(run: RunLike): Promise<void> {
    const loop = this.loop;
    const resets = loop.resets.splice(0);
    const all = resets.some((r) => r.method === undefined);
    if (all) {
      run.resetMethods();
      loop.symptoms.reset();
      loop.running = false;
      loop.steps.splice(0).forEach((requestId) => this.post({ type: 'error', requestId, message: 'the run was reset' }));
      loop.stepQueue = [];
      for (const m of [...loop.offlineRuns]) this.endOffline(m, 'cancelled');
    } else {
      for (const r of resets) {
        run.resetMethod(r.method!);
        loop.symptoms.reset(r.method);
        this.post({ type: 'hacking', report: { ...loop.symptoms.report(r.method!), reset: true } });
        if (loop.offlineRuns.has(r.method!)) this.endOffline(r.method!, 'cancelled');
      }
    }
    loop.goldAt = null;
    loop.stripVersion += 1;
    this.resetPlane(all ? null : resets.map((r) => r.method!));
    // Pairs already sent stay valid: they are comparisons like any other, only from an older policy.
    this.postRunState();
    for (const r of resets) this.post({ type: 'resetDone', requestId: r.requestId });
  }

  private async rewardReport(run: RunLike, cause: RewardMetrics['cause']): Promise<void> {
    const fit = await run.rewardFit();
    this.loop.rewardReports += 1;
    this.post({ type: 'rewardModel', metrics: { ...fit, update: this.loop.rewardReports, cause } });
  }

  /** Starts learning the labels at the head of the queue (each with its own incremental steps), and runs the first slice. */
  private async learn(run: RunLike): Promise<void> {
    const loop = this.loop;
    const batch: LabelRequest[] = [];
    while (batch.length < MAX_LABELS_PER_JOB && loop.labelOps.length > 0 && loop.labelOps[0].kind === 'label') {
      batch.push((loop.labelOps.shift() as { request: LabelRequest }).request);
    }
    const accepted: LabelRequest[] = [];
    for (const request of batch) {
      const why = run.checkLabel(request.label) ?? (run.labels.some((l) => l.id === request.label.id) ? `a label with id "${request.label.id}" exists` : null);
      if (why) this.post({ type: 'error', requestId: request.requestId, message: `the label cannot be learned: ${why}` });
      else accepted.push(request);
    }
    if (accepted.length === 0) return;
    loop.learning = { job: run.startLearning(accepted.map((r) => r.label)), requests: accepted };
    await this.learnSlice(run);
  }

  /** The next slice of the labels being learned; after the last, the verdicts and the reward model's report. */
  private async learnSlice(run: RunLike): Promise<void> {
    const loop = this.loop;
    if (!loop.learning) return;
    const accepted = loop.learning.requests;
    try {
      const verdicts = await loop.learning.job.next();
      if (!verdicts) return;
      loop.learning = null;
      accepted.forEach((r, i) => this.post({ type: 'labelled', requestId: r.requestId, verdict: verdicts[i] }));
      verdicts.forEach((v) => loop.rounds.record(v));
      this.post({ type: 'rounds', summary: loop.rounds.summary() });
      await this.rewardReport(run, 'labels');
      loop.stripVersion += 1;
      if (run.refitDue && loop.refit === null) loop.refitWanted = true;
    } catch (e) {
      loop.learning = null;
      // The labels are kept (the page has them); the RM may have skipped a step.
      for (const r of accepted) loop.rounds.forget(r.label.id);
      for (const r of accepted) this.post({ type: 'error', requestId: r.requestId, message: `the reward model could not learn this label: ${errorText(e)}` });
      this.post({ type: 'warning', message: `The reward model's update failed (${errorText(e)}); a refit will start from the labels.` });
      loop.refitWanted = loop.refit === null;
    }
  }

  /** One reward-model step asked for by the page: its metrics as the reply and as a rewardModel event. */
  private async rewardStep(run: RunLike): Promise<void> {
    const loop = this.loop;
    const requestId = loop.rewardSteps.shift()!;
    try {
      const fit = await run.rewardStep();
      loop.rewardReports += 1;
      const metrics: RewardMetrics = { ...fit, update: loop.rewardReports, cause: 'step' };
      this.post({ type: 'rewardModel', metrics });
      this.post({ type: 'rewardStepped', requestId, metrics });
      loop.stripVersion += 1; // the strip's RM scores changed
    } catch (e) {
      this.post({ type: 'error', requestId, message: `the reward model could not take a step: ${errorText(e)}` });
    }
  }

  private async edit(run: RunLike): Promise<void> {
    const loop = this.loop;
    const { request } = loop.labelOps.shift() as { request: EditLabelsRequest };
    try {
      const { refit } = await run.edit(request.edit);
      this.post({ type: 'labelsEdited', requestId: request.requestId, labels: run.labelCount });
      loop.rounds.edit(request.edit);
      this.post({ type: 'rounds', summary: loop.rounds.summary() });
      await this.rewardReport(run, 'edit');
      loop.stripVersion += 1;
      if (refit) {
        if (loop.refit) this.cancelRefit('restarted');
        loop.refitWanted = true;
      }
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) });
    }
  }

  private async makePair(run: RunLike): Promise<void> {
    const loop = this.loop;
    const epoch = loop.epoch;
    const id = loop.nextPairId++;
    try {
      const draft = await run.makePair(loop.prompt);
      if (epoch !== loop.epoch) return; // the prompt changed meanwhile: the page wants other pairs
      loop.outstanding.set(id, { from: draft.from, steps: draft.steps });
      this.post({ type: 'pair', pair: { id, epoch, ...draft } });
    } catch (e) {
      loop.pairsFailed = true; // until the prompt changes: do not spin on a failure
      this.post({ type: 'warning', message: `Could not make a pair to label: ${errorText(e)}` });
    }
  }

  /**
   * Pairs written by a policy that has trained since are re-drawn (online RLHF labels the current
   * policy's outputs). The oldest one is kept: the page is showing it.
   */
  private withdrawStalePairs(run: RunLike): void {
    const loop = this.loop;
    const ids = [...loop.outstanding.keys()].sort((a, b) => a - b).slice(1);
    const stale = ids.filter((id) => {
      const p = loop.outstanding.get(id)!;
      if (p.from === 'base') return run.enabled.some((m) => (run.trainer(m)?.steps ?? 0) > 0 && run.trainer(m)?.policy);
      const t = run.trainer(p.from);
      return t === null || t.steps > p.steps;
    });
    if (stale.length === 0) return;
    for (const id of stale) loop.outstanding.delete(id);
    this.post({ type: 'pairsWithdrawn', ids: stale });
  }

  private async sample(run: RunLike, request: SampleRequest): Promise<void> {
    try {
      const completions = await run.sampleBase(request.prompts, request.temperature);
      this.post({ type: 'samples', requestId: request.requestId, prompts: request.prompts, completions });
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) });
    }
  }

  /** The TRL hand-off zip: the base policy, each trained method's policy (first enabled first), the reward model, the labels. */
  private async exportTrl(run: RunLike, request: ExportTrlRequest): Promise<void> {
    try {
      const trained: TrainedPolicy[] = [];
      for (const name of run.enabled) {
        const trainer = run.trainer(name);
        if (trainer?.policy && trainer.steps > 0) trained.push({ name, note: `${METHODS[name].title} after ${trainer.steps} steps`, model: trainer.policy });
      }
      const zip = await trlZip({ base: run.base, rewardModel: run.rewardModel.primary, vocab: run.tokenizer.vocab, trained }, request.labels);
      const bytes = zip.bytes.buffer as ArrayBuffer;
      this.post({ type: 'trlExported', requestId: request.requestId, zip: bytes, models: zip.models, preferences: zip.preferences, ties: zip.ties }, [bytes]);
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) });
    }
  }

  /** The per-token view of a strip sample, measured by the method's trainer (Trainer.explain). */
  private async perToken(run: RunLike, request: PerTokenRequest): Promise<void> {
    try {
      const trainer = run.trainer(request.method);
      if (!trainer?.explain) throw new Error(`${METHODS[request.method].title} was reset: it has no policy to measure`);
      const breakdown = await trainer.explain(request.prompt, request.completion);
      this.post({ type: 'tokenBreakdown', requestId: request.requestId, method: request.method, ...breakdown });
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) });
    }
  }

  private async blindPair(run: RunLike, request: DrawBlindPairRequest): Promise<void> {
    try {
      const draft = await run.blindPair(request.method);
      this.post({ type: 'blindPair', requestId: request.requestId, ...draft });
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) });
    }
  }

  private async gold(run: RunLike): Promise<void> {
    const loop = this.loop;
    const annotator = loop.annotator;
    if (!annotator) return;
    loop.goldAt = this.totalSteps(run);
    loop.goldPrompts ??= generatePrompts(GOLD_PROMPTS * 2, GOLD_PROMPT_SEED).filter((p) => run.usable(p)).slice(0, GOLD_PROMPTS);
    try {
      const names = (Object.keys(METHODS) as MethodName[]).filter((m) => run.trainer(m) !== null);
      const results = [];
      for (const name of ['base' as const, ...names]) {
        const { completions: _c, ...result } = await run.evaluate(name, annotator, loop.goldPrompts);
        results.push(result);
      }
      if (annotator === loop.annotator) {
        this.post({ type: 'gold', results, prompts: loop.goldPrompts.length, alarms: hackingAlarms(results) });
        for (const report of loop.symptoms.receiveGold(results)) this.post({ type: 'hacking', report });
      }
      if (annotator === loop.annotator) this.planeSawGold(run, results);
    } catch (e) {
      this.post({ type: 'warning', message: `Gold evaluation failed: ${errorText(e)}` });
    }
  }

  /** The gold prompts, drawn once (the gold evaluation and the plane measure on the same ones). */
  private heldOut(run: RunLike): string[] {
    return (this.loop.goldPrompts ??= generatePrompts(GOLD_PROMPTS * 2, GOLD_PROMPT_SEED).filter((p) => run.usable(p)).slice(0, GOLD_PROMPTS));
  }

  private planeKeyOf(run: RunLike): string {
    const loop = this.loop;
    return `${loop.annotator ? 'gold' : 'rm'}|${loop.goldCount}|${loop.rewardReports}|${JSON.stringify(this.steps(run))}`;
  }

  /** The plane is due once there are labels, something it measures has changed, and PLANE_INTERVAL_MS have passed. */
  private planeDue(run: RunLike): boolean {
    const loop = this.loop;
    return run.labelCount > 0 && performance.now() - loop.planeAt >= PLANE_INTERVAL_MS && this.planeKeyOf(run) !== loop.planeKey;
  }

  /**
   * Keeps each method's latest gold result for the plane. A DPO or SFT run that has not finished
   * is left out (autopilot's labels restart it often; the gold evaluation right after it ends is
   * the one that counts), and best-of-N's own trainer too (the plane's sweep holds every N).
   */
  private planeSawGold(run: RunLike, results: readonly GoldResult[]): void {
    const loop = this.loop;
    loop.goldCount += 1;
    for (const r of results) {
      if (r.method === 'base') continue;
      const kind = METHODS[r.method].kind;
      if (kind === 'online' || (kind === 'offline' && run.finished(r.method))) loop.planeGold.set(r.method, r);
    }
  }

  /** Reset methods leave the plane (null: every method); the page gets the plane that is left. */
  private resetPlane(methods: MethodName[] | null): void {
    const loop = this.loop;
    loop.plane = methods === null ? [] : loop.plane.filter((p) => !methods.includes(p.method));
    if (methods === null) loop.planeGold.clear();
    else for (const m of methods) loop.planeGold.delete(m);
    loop.planeKey = '';
    loop.planeAt = -Infinity;
    if (loop.planeAxis !== null) this.post({ type: 'plane', axis: loop.planeAxis, prompts: loop.goldPrompts?.length ?? 0, points: loop.plane });
  }

  /**
   * The reward-KL plane, on the gold prompts. First best-of-N's 64 candidates per prompt are drawn,
   * one chunk per turn (so labels and iterations go on between chunks); then each measure, its
   * scoring a chunk per turn too: the best-of-N sweep over PLANE_NS re-picked by the reward model
   * (a prompt's candidates all scored by the same one), and each trained method's
   * KL and score: under autopilot its latest gold result (y = gold score), else its RM score
   * measured now. DPO and SFT count once their run has finished; best-of-N's own trainer is left
   * out (the sweep holds every N).
   */
  private async planeJob(run: RunLike): Promise<void> {
    const loop = this.loop;
    const prompts = this.heldOut(run);
    try {
      if (!(await run.bestOfNCandidates(prompts, PLANE_NS[PLANE_NS.length - 1]))) return;
      const annotator = loop.annotator;
      const axis: PlaneAxis = annotator ? 'gold' : 'rm';
      const sweep = await run.bestOfNSweep(PLANE_NS, annotator);
      if (sweep === null) return; // one slice of candidates scored; the next turns score the rest
      loop.planeKey = this.planeKeyOf(run);
      loop.planeAt = performance.now();
      const fresh: PlanePoint[] = sweep.map((s) => ({
        method: 'best-of-n',
        kind: 'rerank',
        n: s.n,
        steps: 0,
        kl: s.kl,
        y: annotator && s.goldScore !== null ? s.goldScore : s.rmScore,
      }));
      for (const name of METHOD_NAMES) {
        const kind = METHODS[name].kind;
        const trainer = run.trainer(name);
        if (kind === 'rerank' || trainer === null) continue;
        if (annotator) {
          const r = loop.planeGold.get(name);
          if (r) fresh.push({ method: name, kind, n: null, steps: r.steps, kl: r.klPerSequence, y: r.goldScore });
        } else if (kind === 'online' || run.finished(name)) {
          const m = await run.measure(name, prompts);
          fresh.push({ method: name, kind, n: null, steps: m.steps, kl: m.kl, y: m.rmScore });
        }
      }
      if (annotator !== loop.annotator) return; // autopilot changed meanwhile: measure again on the next turn
      if (axis !== loop.planeAxis) [loop.plane, loop.planeAxis] = [[], axis]; // another y: a new plane
      loop.plane = mergePlane(loop.plane, fresh);
      this.post({ type: 'plane', axis, prompts: prompts.length, points: loop.plane });
    } catch (e) {
      this.post({ type: 'warning', message: `The reward-KL plane could not be measured: ${errorText(e)}` });
    }
  }

  private async strip(run: RunLike): Promise<void> {
    const loop = this.loop;
    const version = loop.stripVersion;
    try {
      this.post({ type: 'strip', rows: await run.strip(STRIP_PROMPTS) });
    } catch (e) {
      this.post({ type: 'warning', message: `Could not refresh the sample strip: ${errorText(e)}` });
    }
    loop.stripShown = version;
    loop.stripAt = performance.now();
  }

  private async refitSlice(run: RunLike): Promise<void> {
    const loop = this.loop;
    if (!loop.refit) {
      loop.refitWanted = false;
      if (run.labelCount === 0) {
        this.post({ type: 'refit', progress: null, outcome: 'cancelled' }); // nothing to fit
        return;
      }
      loop.refit = run.startRefit();
    }
    const refit = loop.refit;
    try {
      const done = await refit.run(REFIT_SLICE_MS);
      if (refit !== loop.refit) return; // cancelled while it ran
      if (!done) {
        this.post({ type: 'refit', progress: { step: refit.step, total: refit.total, loss: refit.loss, labels: refit.labels } });
        return;
      }
      loop.refit = null;
      await run.adoptRefit(refit);
      this.post({ type: 'refit', progress: null, outcome: 'done' });
      loop.checkpointDue ??= 'periodic'; // a refit is ~20 s of work: keep it
      await this.rewardReport(run, 'refit');
      loop.stripVersion += 1;
    } catch (e) {
      refit.dispose();
      if (refit === loop.refit) loop.refit = null;
      this.post({ type: 'refit', progress: null, outcome: 'cancelled' });
      this.post({ type: 'warning', message: `The reward-model refit failed and was dropped: ${errorText(e)}` });
    }
  }

  /** New settings take effect between jobs, so never in the middle of a step. */
  private applyPatches(): void {
    const run = this.session?.run;
    if (!run || this.loop.patches.size === 0) return;
    for (const [method, patch] of this.loop.patches) {
      run.configure(method, patch);
      this.post({ type: 'methodConfig', method, config: { ...run.config(method) }, fromStep: run.trainer(method)?.steps ?? 0 });
    }
    this.loop.patches.clear();
  }

  private async onlineStep(run: RunLike, method: MethodName): Promise<void> {
    const loop = this.loop;
    const title = METHODS[method].title;
    try {
      const result = await run.step(method);
      const step = run.trainer(method)?.steps ?? 0;
      this.post({ type: 'iteration', method, step, metrics: result.metrics, samples: result.samples });
      this.countIteration();
      const hacking = loop.symptoms.receiveIteration(method, step, result.metrics);
      if (hacking) this.post({ type: 'hacking', report: hacking });
      loop.stripVersion += 1;
      this.withdrawStalePairs(run);
      if (loop.stepQueue.length === 0) for (const requestId of loop.steps.splice(0)) this.post({ type: 'stepped', requestId, steps: this.steps(run) });
      if (result.stopReason) {
        this.post({ type: 'hacking', report: loop.symptoms.receiveStop({ kind: 'kl-guard', method, steps: step, message: `training stopped: ${result.stopReason}` }) });
        this.stop(`${title}: ${result.stopReason}`);
      }
    } catch (e) {
      loop.stepQueue = [];
      for (const requestId of loop.steps.splice(0)) this.post({ type: 'error', requestId, message: errorText(e) });
      if (e instanceof RolledBackError) {
        this.post({ type: 'rolledBack', method, message: e.message });
        this.post({ type: 'hacking', report: loop.symptoms.receiveStop({ kind: 'rolled-back', method, steps: run.trainer(method)?.steps ?? 0, message: `a step went non-finite and was rolled back (${e.message}); training paused` }) });
        this.stop(`${e.message}. Training paused: try a smaller learning rate, then Train again.`);
      } else {
        this.stop(`${title} failed: ${errorText(e)}`);
      }
    }
  }

  private async offlineStep(run: RunLike, method: MethodName): Promise<void> {
    try {
      const result = await run.step(method);
      const step = run.trainer(method)?.steps ?? 0;
      this.post({ type: 'iteration', method, step, metrics: result.metrics, samples: result.samples });
      this.countIteration();
      if (run.finished(method)) this.endOffline(method, 'done');
      else this.post(this.methodState(run, method, true));
    } catch (e) {
      this.post({ type: 'warning', message: `${METHODS[method].title} failed: ${errorText(e)}` });
      this.endOffline(method, 'failed');
    }
  }

  private stop(reason: string): void {
    this.loop.running = false;
    this.loop.checkpointDue ??= 'pause'; // after a rollback: the rolled-back state
    this.postRunState(reason);
  }

  // ---- checkpoints ----

  /** Counts an iteration towards the next periodic checkpoint. */
  private countIteration(): void {
    const loop = this.loop;
    loop.sinceCheckpoint += 1;
    if (loop.sinceCheckpoint >= CHECKPOINT_EVERY) loop.checkpointDue ??= 'periodic';
  }

  /** What the scheduler keeps beside the run in a checkpoint: its report counter (the reward chart's x axis goes on from it). */
  private checkpointExtra(): Record<string, number> {
    return { rewardReports: this.loop.rewardReports };
  }

  /** A checkpoint event for the page to keep (its bytes transferred). */
  private async checkpoint(session: SessionLike, reason: CheckpointEvent['reason']): Promise<void> {
    const loop = this.loop;
    loop.checkpointDue = null;
    loop.sinceCheckpoint = 0;
    try {
      const { meta, bytes } = await session.saveCheckpoint({ extra: this.checkpointExtra() });
      const buffer = ownBuffer(bytes);
      this.post({ type: 'checkpoint', reason, meta, bytes: buffer }, [buffer]);
    } catch (e) {
      this.post({ type: 'warning', message: `Could not take a checkpoint of the run: ${errorText(e)}. Training goes on; a crash now would restart from the previous one.` });
    }
  }

  private async checkpointAsk(session: SessionLike, ask: CheckpointAsk): Promise<void> {
    try {
      const { meta, bytes } = await session.saveCheckpoint({ labels: ask.kind === 'export' ? ask.labels : undefined, extra: this.checkpointExtra() });
      const buffer = ownBuffer(bytes);
      if (ask.kind === 'save') this.post({ type: 'checkpointSaved', requestId: ask.requestId, meta, bytes: buffer }, [buffer]);
      else this.post({ type: 'checkpointExported', requestId: ask.requestId, meta, bytes: buffer }, [buffer]);
    } catch (e) {
      this.post({ type: 'error', requestId: ask.requestId, message: `Could not write the checkpoint: ${errorText(e)}` });
    }
  }

  /**
   * Continues from a checkpoint: the session replaces the run (or refuses the file, and nothing
   * changes). The scheduler's work on the old run goes (a refit, offline runs, steps, pairs sent);
   * training is paused. Labels: the page's log (absent: the file's). Those the
   * checkpoint lacks are learned next, as new labels; if it holds one the log no longer has (or
   * with another answer), the log replaces its labels and the reward model is refitted.
   */
  private async restore(session: SessionLike): Promise<void> {
    const loop = this.loop;
    const { request } = loop.labelOps.shift() as { request: RestoreCheckpointRequest };
    let file: ReturnType<SessionLike['restoreCheckpoint']>;
    try {
      file = session.restoreCheckpoint(new Uint8Array(request.bytes));
    } catch (e) {
      this.post({ type: 'error', requestId: request.requestId, message: errorText(e) }); // names the problem (CheckpointError)
      return;
    }
    const run = session.run;
    const wanted = request.labels ?? (file.labels.length > 0 ? file.labels : [...run.labels]);
    this.cancelRefit('cancelled');
    loop.refitWanted = false;
    for (const m of [...loop.offlineRuns]) this.endOffline(m, 'cancelled');
    for (const requestId of loop.steps.splice(0)) this.post({ type: 'error', requestId, message: 'the run was restored from a checkpoint' });
    loop.stepQueue = [];
    loop.running = false;
    const sent = [...loop.outstanding.keys()];
    loop.outstanding.clear();
    if (sent.length > 0) this.post({ type: 'pairsWithdrawn', ids: sent });
    loop.goldAt = null;
    loop.stripVersion += 1;
    loop.sinceCheckpoint = 0;
    loop.rewardReports = file.extra.rewardReports ?? loop.rewardReports;
    this.resetPlane(null);
    const answers = new Map(wanted.map((l) => [l.id, l.choice]));
    const saved = new Set(run.labels.map((l) => l.id));
    if (run.labels.every((l) => answers.get(l.id) === l.choice)) {
      const fresh = wanted.filter((l) => !saved.has(l.id));
      loop.labelOps.unshift(...fresh.map((label): LabelOp => ({ kind: 'label', request: { type: 'label', requestId: RESTORED, label, pairId: null } })));
    } else {
      loop.labelOps.unshift({ kind: 'edit', request: { type: 'editLabels', requestId: RESTORED, edit: { op: 'replace', labels: wanted } } });
    }
    await this.rewardReport(run, 'restore');
    this.postRunState();
    this.post({ type: 'checkpointRestored', requestId: request.requestId, meta: file.meta, labels: wanted, seed: file.values.seed, enabled: [...run.enabled], methods: session.methodInfo(), steps: this.steps(run) });
  }
}

/** The policy new pairs come from (Run.currentPolicy): the first enabled method that has trained one; null while none has. */
function trainedPolicy(run: RunLike): { from: MethodName; steps: number } | null {
  for (const name of run.enabled) {
    const t = run.trainer(name);
    if (t?.policy && t.steps > 0) return { from: name, steps: t.steps };
  }
  return null;
}

function pairBuffer(session: SessionLike): number {
  return session.run.settings.pairs.buffer;
}

function makeAnnotator(settings: AnnotatorSettings, vocabulary: readonly string[]): SimulatedAnnotator {
  return new SimulatedAnnotator({ preset: settings.preset, word: settings.word, noise: settings.noise, tieRule: settings.tieRule, grammar: settings.gold === 'grammar' }, vocabulary);
}
