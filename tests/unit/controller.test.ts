// The worker's scheduler (src/worker/controller.ts) with a fake run: it only schedules and
// messages, so every rule can be checked without a model: turn-taking between labels, online
// iterations, offline steps and refit slices; pairs of an older policy withdrawn (never the one on
// screen); Step as one iteration of each ticked online method; offline runs with progress and
// Cancel; and a second init that leaves no field of the old run behind.
import { describe, expect, it } from 'vitest';
import type { FieldValue } from '../../src/lib/config/fields';
import { Rng } from '../../src/lib/math/rng';
import { SimulatedAnnotator } from '../../src/lib/rl/annotators';
import type { Gpt } from '../../src/lib/model/gpt';
import { METHODS, type MethodName } from '../../src/lib/rl/methods/registry';
import type { StepResult, Trainer } from '../../src/lib/rl/methods/types';
import type { Label } from '../../src/lib/rl/preferences';
import type { RefitJob } from '../../src/lib/rl/refit';
import { defaultMethodConfigs, runSettings, type BlindDraft, type Evaluation, type LearnJob, type PairDraft, type Verdict } from '../../src/lib/rl/run';
import { CHECKPOINT_EVERY, Controller, LABELLING_BURST_MS, LABELLING_QUIET_MS, Loop, type RunLike, type SessionLike } from '../../src/worker/controller';
import { PLANE_NS } from '../../src/lib/rl/plane';
import { PROTOCOL_VERSION, type FromWorker, type ToWorker } from '../../src/lib/protocol/messages';
import type { TokenBreakdown } from '../../src/lib/rl/per-token';

/** What the fake run was asked to do, in order. */
type Call = string;

class FakeTrainer implements Trainer {
  steps = 0;
  readonly policy: Gpt | null;
  readonly analyticKl = null;
  constructor(
    readonly totalSteps: number | null,
    hasPolicy: boolean,
  ) {
    this.policy = hasPolicy ? ({} as Gpt) : null;
  }
  async step(): Promise<StepResult> {
    this.steps += 1;
    return { metrics: { step: this.steps }, samples: [] };
  }
  async complete(prompts: readonly string[]): Promise<string[]> {
    return prompts.map(() => 'fine.');
  }
  configure(): void {}
  saveState() {
    return { variables: [], values: { steps: this.steps } };
  }
  loadValues(values: { steps?: number | number[] }): void {
    this.steps = Number(values.steps);
  }
  dispose(): void {}
}

class FakeRun implements RunLike {
  calls: Call[] = [];
  labelLog: Label[] = [];
  enabledList: MethodName[] = ['ppo'];
  trainers = new Map<MethodName, FakeTrainer>();
  labelVersion = 0;
  made = new Map<MethodName, number>();
  configs = defaultMethodConfigs();
  refitDue = false;
  readonly settings = runSettings(undefined, { candidates: 4, buffer: 3, selection: 'most-different', warmupLabels: 0, selectionRound: 5 });
  readonly tokenizer = { vocab: ['fine', 'great'] } as unknown as RunLike['tokenizer'];
  /** The TRL hand-off's models: not read by these tests. */
  readonly base = {} as RunLike['base'];
  readonly rewardModel = {} as RunLike['rewardModel'];

  get labels(): readonly Label[] {
    return this.labelLog;
  }
  get labelCount(): number {
    return this.labelLog.length;
  }
  get enabled(): readonly MethodName[] {
    return this.enabledList;
  }
  checkPrompt() {
    return { unknown: [], problem: null };
  }
  checkLabel() {
    return null;
  }
  usable() {
    return true;
  }
  async makePair(prompt: string | null): Promise<PairDraft> {
    this.calls.push('pair');
    const lead = this.enabledList.map((m) => [m, this.trainers.get(m)] as const).find(([, t]) => t?.policy && t.steps > 0);
    return { prompt: prompt ?? 'what a', a: 'fine.', b: 'great.', from: lead ? lead[0] : 'base', steps: lead ? lead[1]!.steps : 0, strategy: 'diverse', candidates: 4 };
  }
  normalisationReady = true;
  async drawNormalisation() {
    this.calls.push('normalisation');
    this.normalisationReady = true;
  }
  /** As the real run's: the labels join the log in the first slice, then each label's update is a slice, then the verdicts. */
  startLearning(fresh: readonly Label[]): LearnJob {
    const calls = this.calls;
    let slice = 0;
    return {
      next: async () => {
        slice += 1;
        if (slice === 1) {
          calls.push(`learn ${fresh.length}`);
          this.labelLog.push(...fresh);
          this.labelVersion += 1;
          return null;
        }
        calls.push('rm update');
        if (slice <= fresh.length) return null;
        return fresh.map((l) => this.verdict(l));
      },
    };
  }
  verdict(l: Label): Verdict {
    return { labelId: l.id, choice: l.choice, pBefore: 0.5, pAfter: 0.6, scoreA: 1, scoreB: 0, agreedBefore: null, agreedAfter: true };
  }
  async edit() {
    this.calls.push('edit');
    return { refit: false };
  }
  /** Single reward-model steps taken (Run.rewardStep). */
  rmSteps = 0;
  async rewardFit() {
    return { labels: this.labelCount, loss: 0.5, accuracy: 1, steps: this.rmSteps };
  }
  async rewardStep() {
    this.calls.push('rm step');
    this.rmSteps += 1;
    return this.rewardFit();
  }
  startRefit(): RefitJob {
    this.calls.push('refit start');
    let step = 0;
    const calls = this.calls;
    return {
      labelIds: new Set<string>(),
      labels: this.labelCount,
      loss: 0,
      get step() {
        return step;
      },
      total: 2,
      get done() {
        return step >= 2;
      },
      async run() {
        calls.push('refit slice');
        step += 1;
        return step >= 2;
      },
      take() {
        throw new Error('not in the fake');
      },
      dispose() {},
    } as unknown as RefitJob;
  }
  async adoptRefit() {
    this.calls.push('refit adopt');
  }
  setEnabled(names: readonly MethodName[]) {
    this.enabledList = [...names];
  }
  config(name: MethodName) {
    return this.configs[name];
  }
  configure(name: MethodName, patch: Record<string, FieldValue>) {
    this.configs[name] = { ...this.configs[name], ...patch };
  }
  trainer(name: MethodName) {
    return this.trainers.get(name) ?? null;
  }
  async step(name: MethodName) {
    this.calls.push(`step ${name}`);
    let t = this.trainers.get(name);
    if (!t) {
      const kind = METHODS[name].kind;
      t = new FakeTrainer(kind === 'online' ? null : 3, kind !== 'rerank');
      this.trainers.set(name, t);
      this.made.set(name, this.labelVersion);
    }
    return t.step();
  }
  resetMethod(name: MethodName) {
    this.calls.push(`reset ${name}`);
    this.trainers.delete(name);
  }
  resetMethods() {
    for (const name of [...this.trainers.keys()]) this.resetMethod(name);
  }
  finished(name: MethodName) {
    const t = this.trainers.get(name);
    return t !== undefined && t.totalSteps !== null && t.steps >= t.totalSteps;
  }
  stale(name: MethodName) {
    return this.made.has(name) && this.made.get(name) !== this.labelVersion;
  }
  async evaluate(name: MethodName | 'base'): Promise<Evaluation> {
    this.calls.push(`evaluate ${name}`);
    return { method: name, steps: 0, goldScore: 0, baseGoldScore: 0, winRate: 0.5, blindWinRate: 0.5, grammatical: 1, baseGrammatical: 1, repeats: 0, rmScore: 0, baseRmScore: 0, klPerSequence: 0, distinct: 1, length: 2, completions: [] };
  }
  async strip() {
    this.calls.push('strip');
    return [];
  }
  stream(name: string) {
    return new Rng(1).fork(name);
  }
  setDemonstrations() {
    this.labelVersion += 1;
  }
  async sampleBase(prompts: readonly string[]) {
    return prompts.map(() => 'fine.');
  }
  async measure(name: MethodName) {
    this.calls.push(`measure ${name}`);
    return { steps: this.trainers.get(name)?.steps ?? 0, kl: 0.5, rmScore: 0.25 };
  }
  /** Best-of-N's candidates come in two chunks, as the real run's come in several. */
  planeChunks = 0;
  async bestOfNCandidates() {
    this.calls.push('plane chunk');
    this.planeChunks += 1;
    return this.planeChunks >= 2;
  }
  /** Each sweep scores in two slices, as the real run's scores its candidates a chunk at a time: null, then the sweep. */
  sweepSlices = 0;
  async bestOfNSweep(ns: readonly number[]) {
    this.calls.push('plane sweep');
    this.sweepSlices += 1;
    if (this.sweepSlices % 2 === 1) return null;
    return ns.map((n) => ({ n, kl: Math.log(n) - (n - 1) / n, goldScore: null, rmScore: n / 100 }));
  }
  async blindPair(method: MethodName): Promise<BlindDraft> {
    this.calls.push(`blind ${method}`);
    return { prompt: 'what a', left: 'great.', right: 'fine.', methodSide: 'left', method, steps: this.trainers.get(method)?.steps ?? 0, draw: 1 };
  }
}

function setup() {
  const posted: FromWorker[] = [];
  const run = new FakeRun();
  const session: SessionLike = {
    backend: 'cpu',
    reasons: { webgpu: '-', wasm: '-', webgl: '-', cpu: 'chosen' },
    slow: null,
    modelInfo: { parameters: 1, vocabSize: 2, config: {} as SessionLike['modelInfo']['config'], validationLoss: null },
    problems: [],
    run,
    methodInfo: () => [],
    checkPatch: () => null,
    // A fake checkpoint: the label log and PPO's steps as JSON (the real file is checkpoint.test.ts's).
    saveCheckpoint: async ({ labels }) => {
      run.calls.push('checkpoint');
      const meta = { createdAt: 0, labels: run.labelCount, steps: { ppo: run.trainers.get('ppo')?.steps ?? 0 }, bytes: 0, format: 'fake' };
      return { meta, bytes: new TextEncoder().encode(JSON.stringify({ labels: labels ?? run.labelLog, steps: meta.steps.ppo })) };
    },
    restoreCheckpoint: (bytes) => {
      if (bytes.byteLength === 0) throw new Error('the checkpoint file is empty');
      const saved = JSON.parse(new TextDecoder().decode(bytes)) as { labels: Label[]; steps: number };
      run.calls.push('restore');
      run.labelLog = saved.labels.slice();
      return { meta: { createdAt: 0, labels: saved.labels.length, steps: { ppo: saved.steps }, bytes: bytes.byteLength, format: 'fake' }, labels: saved.labels, extra: {}, values: { seed: 1 } };
    },
    dispose: () => run.calls.push('dispose'),
  };
  const c = new Controller((m) => posted.push(m), async () => session);
  // Most tests answer as a person who pauses between pairs: the quiet after a person's answer
  // (LABELLING_QUIET_MS) is over at once. The tests of fast clicking set `quick`.
  const opts = { quick: false };
  const send = (m: ToWorker) => {
    c.receive(m);
    if (!opts.quick) c.loop.answeredAt = -Infinity;
  };
  /** Runs jobs until none is left (at most `max`). */
  const drain = async (max = 50) => {
    for (let i = 0; i < max && (await c.tick()); i++);
  };
  const of = <T extends FromWorker['type']>(type: T) => posted.filter((m): m is Extract<FromWorker, { type: T }> => m.type === type);
  return { c, run, posted, send, drain, of, opts };
}

let labelId = 0;
function labelMessage(): ToWorker {
  labelId += 1;
  return { type: 'label', requestId: 100 + labelId, pairId: null, label: { id: `l${labelId}`, prompt: 'what a', completionA: 'fine.', completionB: 'great.', choice: 'A', source: 'human', time: 0 } };
}

async function ready() {
  const t = setup();
  t.send({ type: 'init', version: PROTOCOL_VERSION, requestId: 1, modelUrl: '/' });
  await t.c.tick();
  expect(t.of('ready')).toHaveLength(1);
  await t.drain(); // fills the pair buffer and shows the strip
  t.run.calls = [];
  return t;
}

/** Milliseconds each fake call takes, about as on WASM: a pair 70, a label's update slice 150, a chunk of the plane's candidates 600; anything else 50. */
const COST: Record<string, number> = { pair: 70, 'rm update': 150, 'plane chunk': 600 };
const costOf = (call: string) => COST[call] ?? 50;

/**
 * Clicks "1" at the given times (ms) on a simulated page that holds the pairs received less those
 * answered, while the worker runs its jobs on a simulated clock, each taking the COST of its calls;
 * an idle worker wakes at the next message or at the end of a burst or a quiet (as Controller.sleep
 * does). A click during a job sees the pairs the page had when the job began (a pair arrives when
 * its job ends). Runs until the worker is idle after the last click and every quiet has passed.
 * Returns the clicks that found no pair, the longest time the page had none, and each job with
 * when it began and whether the worker's buffer was short then.
 */
async function clickAt(t: Awaited<ReturnType<typeof ready>>, times: readonly number[]) {
  t.opts.quick = true; // a person clicking: the burst and the quiet after each answer count
  let now = 0;
  t.c.now = () => now;
  const answered = new Set<number>();
  const shown = () => t.of('pair').map((p) => p.pair.id).filter((id) => !answered.has(id));
  const buffer = t.run.settings.pairs.buffer;
  const jobs: { call: string; at: number; short: boolean }[] = [];
  let [next, missed, emptySince, longestEmpty] = [0, 0, null as number | null, 0];
  const click = (at: number, available: number[]) => {
    const id = available.find((p) => !answered.has(p));
    if (id === undefined) {
      missed += 1;
      return;
    }
    answered.add(id);
    t.send({ ...(labelMessage() as Extract<ToWorker, { type: 'label' }>), pairId: id });
    if (shown().length === 0) emptySince ??= at;
  };
  for (;;) {
    const available = shown();
    const short = t.c.loop.outstanding.size < buffer;
    const before = t.run.calls.length;
    const worked = await t.c.tick();
    const calls = t.run.calls.slice(before);
    let end: number;
    if (worked) {
      end = now + calls.reduce((sum, c) => sum + costOf(c), 0);
      jobs.push({ call: calls.join(','), at: now, short });
    } else {
      const wakes = [times[next], t.c.loop.answeredAt + LABELLING_BURST_MS, t.c.loop.answeredAt + LABELLING_QUIET_MS].filter((w) => w !== undefined && w >= now);
      if (wakes.length === 0) break;
      end = Math.min(...wakes);
    }
    while (next < times.length && (times[next] < end || (!worked && times[next] <= end))) {
      click(Math.max(times[next], now), available);
      next += 1;
    }
    now = end + (worked ? 0 : 1e-6);
    if (emptySince !== null && shown().length > 0) [longestEmpty, emptySince] = [Math.max(longestEmpty, now - emptySince), null];
  }
  return { missed, longestEmpty, jobs };
}

const isLearning = (call: string) => call.startsWith('learn') || call === 'rm update';

function fakeLabel(id: string): Label {
  return { id, prompt: 'what a', completionA: 'fine.', completionB: 'great.', choice: 'A', source: 'human', time: 0 };
}

describe('controller: checkpoints', () => {
  it(`posts a checkpoint every ${CHECKPOINT_EVERY} iterations and on Pause, with its bytes transferred`, async () => {
    const t = await ready();
    t.send({ type: 'setTraining', running: true });
    for (let i = 0; i < 50 && !t.run.calls.includes('checkpoint'); i++) await t.c.tick();
    const steps = t.run.calls.filter((c) => c === 'step ppo' || c === 'checkpoint');
    expect(steps.slice(0, CHECKPOINT_EVERY + 1)).toEqual([...Array<string>(CHECKPOINT_EVERY).fill('step ppo'), 'checkpoint']);
    expect(t.of('checkpoint').map((e) => e.reason)).toEqual(['periodic']);
    t.send({ type: 'setTraining', running: false });
    await t.drain();
    const events = t.of('checkpoint');
    expect(events.map((e) => e.reason)).toEqual(['periodic', 'pause']);
    expect(events[1].bytes).toBeInstanceOf(ArrayBuffer);
    expect(events[1].meta.steps.ppo).toBe(t.run.trainers.get('ppo')!.steps);
  });

  it('a restore replaces the run in the label queue\'s order, learns the labels it lacks, pauses training; a refused file changes nothing', async () => {
    const t = await ready();
    for (let i = 0; i < 2; i++) t.send(labelMessage());
    await t.drain();
    t.send({ type: 'saveCheckpoint', requestId: 40 });
    await t.drain();
    const saved = t.of('checkpointSaved')[0];
    expect(saved.meta.labels).toBe(2);
    t.send({ type: 'setTraining', running: true });
    await t.c.tick();

    t.send({ type: 'restoreCheckpoint', requestId: 41, bytes: new ArrayBuffer(0) });
    for (let i = 0; i < 20 && t.of('error').length === 0; i++) await t.c.tick();
    expect(t.of('error').at(-1)).toEqual({ type: 'error', requestId: 41, message: 'the checkpoint file is empty' });
    expect(t.run.labelCount).toBe(2);

    const page = [...t.run.labels, fakeLabel('after-1'), fakeLabel('after-2')];
    t.run.calls = [];
    t.send({ type: 'restoreCheckpoint', requestId: 42, bytes: saved.bytes, labels: page });
    await t.drain();
    expect(t.run.calls.filter((c) => c === 'restore' || c.startsWith('learn'))).toEqual(['restore', 'learn 2']);
    expect(t.run.labels.map((l) => l.id)).toEqual(page.map((l) => l.id));
    const reply = t.of('checkpointRestored')[0];
    expect(reply).toMatchObject({ requestId: 42, labels: page, seed: 1 });
    expect(t.c.loop.running).toBe(false);
    expect(t.of('rewardModel').some((e) => e.metrics.cause === 'restore')).toBe(true);

    // A label the checkpoint holds that the page no longer has: the page's list replaces the run's.
    t.send({ type: 'restoreCheckpoint', requestId: 43, bytes: saved.bytes, labels: [fakeLabel('other')] });
    await t.drain();
    expect(t.run.calls.filter((c) => c === 'edit')).toEqual(['edit']);
  });
});

describe('controller', () => {
  it('keeps the pair buffer full first, then lets labels, iterations and refit slices take turns', async () => {
    const t = await ready();
    expect(t.of('pair')).toHaveLength(3);
    t.send({ type: 'setTraining', running: true });
    for (let i = 0; i < 3; i++) t.send(labelMessage());
    t.send({ type: 'refit', run: true });
    for (let i = 0; i < 9; i++) await t.c.tick();
    const work = t.run.calls.filter((c) => /^(learn|step|refit)/.test(c));
    // one of each in turn: a fast autopilot cannot starve training, nor training the labels (the
    // labels' update slices, 'rm update', go on before anything else)
    expect(t.run.calls.slice(0, 5)).toEqual(['learn 3', 'rm update', 'rm update', 'rm update', 'step ppo']);
    expect(work.slice(0, 4)).toEqual(['learn 3', 'step ppo', 'refit start', 'refit slice']);
    expect(t.of('labelled')).toHaveLength(3);
  });

  it('after a label the next pair is sampled before any reward-model work; learning goes on a slice at a time between refills', async () => {
    const t = await ready();
    const [p1, p2] = t.of('pair').map((p) => p.pair.id);
    const label = (pairId: number) => t.send({ ...(labelMessage() as Extract<ToWorker, { type: 'label' }>), pairId });
    label(p1);
    const posted = t.posted.length;
    await t.c.tick();
    expect(t.run.calls).toEqual(['pair']); // the refill first
    expect(t.posted.slice(posted).map((m) => m.type)).toEqual(['pair']);
    await t.c.tick();
    expect(t.run.calls.at(-1)).toBe('learn 1'); // the buffer is full: the label's first slice
    label(p2); // a click while the first label is being learned
    await t.c.tick();
    expect(t.run.calls.at(-1)).toBe('pair'); // its refill comes before the first label's next slice
    await t.drain();
    expect(t.run.calls.filter((c) => /^(pair|learn|rm update)/.test(c))).toEqual(['pair', 'learn 1', 'pair', 'rm update', 'learn 1', 'rm update']);
    expect(t.of('labelled')).toHaveLength(2);
  });

  it('12 clicks at 100-150 ms are never lost: during the burst only pairs are sampled, its labels are learned when it pauses', async () => {
    const t = await ready();
    const times = Array.from({ length: 12 }, (_, i) => Math.floor(i / 2) * 250 + (i % 2) * 100);
    const r = await clickAt(t, times);
    expect(r.missed).toBe(0);
    const during = r.jobs.filter((j) => j.at < times[times.length - 1]);
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((j) => j.call === 'pair')).toBe(true);
    expect(r.jobs.filter((j) => j.short).every((j) => j.call === 'pair')).toBe(true); // a short buffer's next job is a sampling job
    expect(t.of('labelled')).toHaveLength(12); // every click learned after the burst, none twice
    expect(new Set(t.of('labelled').map((l) => l.verdict.labelId)).size).toBe(12);
  });

  it('clicks 0.5 s apart: labels are learned in slices between the refills, and none is lost even when a slice is slow', async () => {
    const t = await ready();
    COST['rm update'] = 400; // a busy machine
    try {
      const times = Array.from({ length: 12 }, (_, i) => i * 500);
      const r = await clickAt(t, times);
      expect(r.missed).toBe(0);
      expect(r.longestEmpty).toBe(0);
      expect(r.jobs.filter((j) => j.at < times[times.length - 1] && isLearning(j.call)).length).toBeGreaterThan(10); // learned as they came
      expect(r.jobs.filter((j) => j.short).every((j) => j.call === 'pair')).toBe(true);
      expect(t.of('labelled')).toHaveLength(12);
    } finally {
      COST['rm update'] = 150;
    }
  });

  it('clicks faster than sampling leave the page without a pair for at most one sampling job; every click is a label or a miss', async () => {
    const t = await ready();
    const times = Array.from({ length: 30 }, (_, i) => i * 10);
    const r = await clickAt(t, times);
    expect(r.missed).toBeGreaterThan(0); // the page says so for these (Preferences.choose)
    expect(r.longestEmpty).toBeLessThanOrEqual(COST.pair);
    expect(r.jobs.filter((j) => j.short).every((j) => j.call === 'pair')).toBe(true);
    expect(t.of('labelled')).toHaveLength(times.length - r.missed);
  });

  it('while a person is clicking, offline runs, refit slices, the plane and the idle normalisation draw wait; they go on LABELLING_QUIET_MS after the last answer', async () => {
    const t = await ready();
    t.opts.quick = true;
    let now = 0;
    t.c.now = () => now;
    t.run.enabledList = ['ppo', 'dpo'];
    t.run.normalisationReady = false;
    t.send(labelMessage());
    t.send({ type: 'refit', run: true });
    await t.drain();
    expect(t.run.calls.filter((c) => !c.startsWith('pair'))).toEqual([]); // a burst: nothing but pairs
    now = LABELLING_BURST_MS;
    await t.drain();
    expect(t.run.calls.filter((c) => /^(learn|step|refit|plane)/.test(c))).toEqual(['learn 1']);
    now = LABELLING_QUIET_MS; // the quiet is over
    await t.drain();
    const work = t.run.calls.filter((c) => /^(step|refit|plane|normalisation)/.test(c));
    expect(work).toEqual(expect.arrayContaining(['step dpo', 'refit start', 'plane chunk', 'normalisation']));
  });

  it('draws the normalisation samples once while idle, after the pair buffer and the strip', async () => {
    const t = setup();
    t.run.normalisationReady = false;
    t.send({ type: 'init', version: PROTOCOL_VERSION, requestId: 1, modelUrl: '/' });
    await t.drain();
    expect(t.run.calls).toEqual(['pair', 'pair', 'pair', 'strip', 'normalisation']);
    t.run.normalisationReady = false; // as if the draw had failed: not tried again (the first label's update draws them)
    await t.drain();
    expect(t.run.calls.filter((c) => c === 'normalisation')).toHaveLength(1);
  });

  it('withdraws buffered pairs written by a policy that has trained since, but never the oldest (on screen)', async () => {
    const t = await ready();
    const [first, ...rest] = t.of('pair').map((p) => p.pair.id);
    t.send({ type: 'step', requestId: 7 });
    await t.c.tick(); // the PPO iteration
    expect(t.of('pairsWithdrawn')).toEqual([{ type: 'pairsWithdrawn', ids: rest }]);
    expect(t.c.loop.outstanding.has(first)).toBe(true);
    await t.drain();
    const fresh = t.of('pair').slice(3);
    expect(fresh.map((p) => p.pair.from)).toEqual(['ppo', 'ppo']);
    expect(fresh.map((p) => p.pair.steps)).toEqual([1, 1]);
  });

  it('Step runs one iteration of each ticked online method, then replies', async () => {
    const t = await ready();
    t.send({ type: 'setMethods', requestId: 2, enabled: ['ppo', 'dpo', 'grpo'] });
    t.send({ type: 'step', requestId: 3 });
    await t.drain();
    const steps = t.run.calls.filter((c) => c.startsWith('step'));
    expect(steps.slice(0, 2)).toEqual(['step ppo', 'step grpo']);
    expect(t.of('stepped')).toEqual([{ type: 'stepped', requestId: 3, steps: { ppo: 1, grpo: 1 } }]);
    expect(t.of('iteration').map((e) => e.method)).toEqual(['ppo', 'grpo']);
  });

  it('runs an offline method when asked, with progress, and Cancel stops it where it is', async () => {
    const t = await ready();
    t.send(labelMessage());
    await t.drain();
    t.send({ type: 'runMethod', method: 'dpo' });
    await t.drain();
    const states = t.of('methodState').filter((e) => e.method === 'dpo');
    expect(states.map((e) => [e.step, e.running, e.outcome])).toEqual([
      [1, true, undefined],
      [2, true, undefined],
      [3, false, 'done'],
    ]);
    t.send({ type: 'runMethod', method: 'sft' });
    await t.c.tick();
    t.send({ type: 'cancelMethod', method: 'sft' });
    await t.drain();
    expect(t.of('methodState').filter((e) => e.method === 'sft').at(-1)).toMatchObject({ running: false, outcome: 'cancelled', step: 1 });
  });

  it('reruns a ticked offline method once the labels it learned from change', async () => {
    const t = await ready();
    t.send({ type: 'setMethods', requestId: 2, enabled: ['sft'] });
    t.send(labelMessage());
    await t.drain();
    expect(t.run.trainer('sft')!.steps).toBe(3);
    t.send(labelMessage());
    await t.drain();
    expect(t.run.calls.filter((c) => c === 'reset sft')).toHaveLength(1);
    expect(t.run.trainer('sft')!.steps).toBe(3);
  });

  it('judges every method with a trainer, the base model first, every GOLD_EVERY iterations', async () => {
    const t = await ready();
    t.send({ type: 'setAnnotator', requestId: 4, annotator: { preset: 'positive', word: '', noise: 0, tieRule: 'random', gold: 'grammar' } });
    await t.c.tick();
    expect(t.of('gold')).toHaveLength(1);
    t.send({ type: 'step', requestId: 5 });
    await t.drain();
    t.send({ type: 'step', requestId: 6 });
    await t.drain();
    expect(t.of('gold').at(-1)!.results.map((r) => r.method)).toEqual(['base', 'ppo']);
  });

  it('reports reward hacking after each online iteration (its rollouts and symptoms), the KL guard as a stop, and forgets it on reset', async () => {
    const t = await ready();
    t.send({ type: 'step', requestId: 7 });
    await t.drain();
    expect(t.of('hacking')).toEqual([]); // the fake's first step reports no rollouts
    const ppo = t.run.trainer('ppo')!;
    ppo.step = async () => {
      ppo.steps += 1;
      const n = ppo.steps;
      const metrics = { 'completion/length': 8, 'completion/finished': 1, 'completion/distinct': n > 4 ? 0.2 : 1, 'objective/kl': n };
      return { metrics, samples: [], stopReason: n === 7 ? 'KL guard: mean KL of the last 3 iterations is 6.0 nats, above the limit of 5' : undefined };
    };
    for (let i = 0; i < 6; i++) {
      t.send({ type: 'step', requestId: 10 + i });
      await t.drain();
    }
    const reports = t.of('hacking').map((e) => e.report);
    expect(reports.filter((r) => r.rollout).map((r) => r.rollout!.step)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(reports.find((r) => r.rollout?.step === 6)!.symptoms).toEqual([]);
    const last = reports.at(-1)!;
    expect(last.rollout).toBeUndefined(); // the stop's own report
    expect(last.symptoms.map((s) => s.kind)).toEqual(['distinct', 'kl-guard']);
    expect(last.symptoms[1].message).toBe('training stopped: KL guard: mean KL of the last 3 iterations is 6.0 nats, above the limit of 5');
    t.send({ type: 'reset', requestId: 19, method: 'ppo' });
    await t.drain();
    expect(t.of('hacking').at(-1)!.report).toEqual({ method: 'ppo', symptoms: [], parting: null, reset: true }); // the page starts its curves over
    t.send({ type: 'reset', requestId: 20 });
    await t.drain();
    expect(t.c.loop.symptoms.report('ppo').symptoms).toEqual([]);
  });

  it('a second init leaves no field of the old run behind', async () => {
    const t = await ready();
    t.send({ type: 'setTraining', running: true });
    t.send(labelMessage());
    t.send({ type: 'setPrompt', requestId: 8, prompt: 'we loved', epoch: 3 });
    t.send({ type: 'setMethodConfig', method: 'ppo', patch: { lr: 1e-4 } });
    t.send({ type: 'setAnnotator', requestId: 9, annotator: { preset: 'positive', word: '', noise: 0, tieRule: 'random', gold: 'grammar' } });
    await t.c.tick();
    await t.c.tick();
    expect(t.c.loop).not.toEqual(new Loop());
    t.send({ type: 'init', version: PROTOCOL_VERSION, requestId: 10, modelUrl: '/' });
    await t.c.tick();
    expect(t.run.calls).toContain('dispose');
    expect(t.c.loop).toEqual(new Loop());
  });

  it('draws a blind pair only for a method that has trained, and replies with the run\'s draft', async () => {
    const t = await ready();
    t.send({ type: 'drawBlindPair', requestId: 20, method: 'ppo' });
    expect(t.of('error').at(-1)).toMatchObject({ requestId: 20, message: expect.stringContaining('has not trained yet') });
    t.send({ type: 'step', requestId: 21 });
    await t.drain();
    t.send({ type: 'drawBlindPair', requestId: 22, method: 'ppo' });
    await t.drain();
    expect(t.run.calls).toContain('blind ppo');
    expect(t.of('blindPair')).toEqual([{ type: 'blindPair', requestId: 22, prompt: 'what a', left: 'great.', right: 'fine.', methodSide: 'left', method: 'ppo', steps: 1, draw: 1 }]);
  });

  it('refuses a step with no online method ticked, and a protocol from another version', async () => {
    const t = await ready();
    t.send({ type: 'setMethods', requestId: 2, enabled: ['dpo'] });
    t.send({ type: 'step', requestId: 3 });
    expect(t.of('error').at(-1)).toMatchObject({ requestId: 3, message: expect.stringContaining('no online method') });
    t.send({ type: 'runMethod', method: 'ppo' }); // awaits no reply: refused as a warning, not a worker failure
    expect(t.of('warning').at(-1)).toMatchObject({ message: expect.stringContaining('Train and Step') });
    t.send({ type: 'init', version: PROTOCOL_VERSION - 1, requestId: 4, modelUrl: '/' });
    expect(t.of('error').at(-1)).toMatchObject({ requestId: 4, message: expect.stringContaining('protocol version') });
  });

  it('takes one reward-model step when asked (after the labels queued before it), refused with no label', async () => {
    const t = await ready();
    t.send({ type: 'rewardStep', requestId: 30 });
    expect(t.of('error').at(-1)).toMatchObject({ requestId: 30, message: expect.stringContaining('no label') });
    t.send(labelMessage());
    await t.drain();
    const reports = t.of('rewardModel').length;
    t.send(labelMessage());
    t.send({ type: 'rewardStep', requestId: 31 });
    await t.drain();
    expect(t.run.calls.filter((c) => /^(learn|rm step)/.test(c))).toEqual(['learn 1', 'learn 1', 'rm step']);
    const [reply] = t.of('rewardStepped');
    expect(reply).toMatchObject({ requestId: 31, metrics: { cause: 'step', labels: 2, steps: 1 } });
    // The same metrics reach the page as a rewardModel event, numbered after the label's report.
    const events = t.of('rewardModel').slice(reports);
    expect(events.map((e) => e.metrics.cause)).toEqual(['labels', 'step']);
    expect(events[1].metrics).toEqual(reply.metrics);
    expect(reply.metrics.update).toBe(events[0].metrics.update + 1);
    expect(t.of('rewardStepped')).toHaveLength(1);
  });

  it('answers an annotate request that names its annotator without turning on the gold evaluation', async () => {
    const t = await ready();
    t.send({ type: 'annotate', requestId: 40, prompt: 'what a', a: 'fine.', b: 'great.' });
    expect(t.of('error').at(-1)).toMatchObject({ requestId: 40, message: expect.stringContaining('no simulated annotator') });
    const settings = { preset: 'positive', word: '', noise: 0, tieRule: 'random', gold: 'blind' } as const;
    t.send({ type: 'annotate', requestId: 41, prompt: 'what a', a: 'fine.', b: 'great.', annotator: settings });
    const oracle = new SimulatedAnnotator({ preset: 'positive', noise: 0, tieRule: 'random', grammar: false }, ['fine', 'great']);
    const expected = oracle.label('what a', 'fine.', 'great.', new Rng(1).fork('annotator'));
    expect(t.of('annotation')).toEqual([{ type: 'annotation', requestId: 41, choice: expected }]);
    expect(expected).toBe('B'); // "great" outscores "fine" in AFINN-165
    await t.drain();
    expect(t.c.loop.annotator).toBeNull();
    expect(t.of('gold')).toHaveLength(0);
    expect(t.run.calls.some((c) => c.startsWith('evaluate'))).toBe(false);
  });

  it('measures the reward-KL plane between other work: candidates a chunk per turn, then best-of-N and each method; gold under autopilot; a reset empties it', async () => {
    const t = await ready();
    expect(t.of('plane')).toHaveLength(0); // no label yet: nothing to measure
    t.send(labelMessage());
    await t.c.tick(); // the label
    await t.c.tick(); // the strip it made due
    await t.c.tick(); // the first chunk of candidates
    t.send(labelMessage());
    await t.drain();
    // a label is learned between two chunks: the plane never holds up labelling for long
    expect(t.run.calls.filter((c) => /^(learn|plane|measure)/.test(c))).toEqual(['learn 1', 'plane chunk', 'learn 1', 'plane chunk', 'plane sweep', 'plane chunk', 'plane sweep']);
    expect(t.of('plane')).toHaveLength(1); // the first slice of scoring posts nothing
    const [first] = t.of('plane');
    expect(first.axis).toBe('rm');
    expect(first.points.map((p) => [p.method, p.n, p.y])).toEqual(PLANE_NS.map((n) => ['best-of-n', n, n / 100]));
    expect(first.points.every((p) => p.kind === 'rerank')).toBe(true);

    // PPO steps: once PLANE_INTERVAL_MS has passed the plane measures it (RM score, no annotator)
    t.send({ type: 'step', requestId: 50 });
    await t.drain();
    expect(t.of('plane')).toHaveLength(1); // too soon
    t.c.loop.planeAt = -Infinity;
    await t.drain();
    const second = t.of('plane').at(-1)!;
    expect(second.points.filter((p) => p.method === 'ppo')).toEqual([{ method: 'ppo', kind: 'online', n: null, steps: 1, kl: 0.5, y: 0.25 }]);

    // autopilot: the axis becomes gold, a new plane starts, PPO's point is its gold result (no second evaluation)
    t.run.calls = [];
    t.send({ type: 'setAnnotator', requestId: 51, annotator: { preset: 'positive', word: '', noise: 0, tieRule: 'random', gold: 'grammar' } });
    t.c.loop.planeAt = -Infinity;
    await t.drain();
    const gold = t.of('gold').at(-1)!;
    const third = t.of('plane').at(-1)!;
    expect(third.axis).toBe('gold');
    const ppo = gold.results.find((r) => r.method === 'ppo')!;
    expect(third.points.filter((p) => p.method === 'ppo')).toEqual([{ method: 'ppo', kind: 'online', n: null, steps: ppo.steps, kl: ppo.klPerSequence, y: ppo.goldScore }]);
    expect(t.run.calls.some((c) => c.startsWith('measure'))).toBe(false);
    expect(t.c.loop.plane).toEqual(third.points);

    // Reset: the page gets an empty plane at once
    t.send({ type: 'reset', requestId: 52 });
    await t.c.tick();
    expect(t.of('plane').at(-1)).toEqual({ type: 'plane', axis: 'gold', prompts: expect.any(Number), points: [] });
  });
});

describe('controller: per-token views and online rounds', () => {
  /** A breakdown as a trainer's explain gives it (the numbers are the fake's own). */
  const breakdown = (prompt: string, completion: string): TokenBreakdown => ({
    prompt,
    completion,
    steps: 1,
    tokens: ['fine', '.', '<eos>'],
    logRatio: [0.5, -0.25, 0],
    klPenalty: [0.025, -0.0125, 0],
    estimator: 'k1',
    beta: 0.05,
    sequenceKl: 0.25,
    penaltyTotal: 0.0125,
    advantage: [0.3, 0.2, 0.1],
    advantageKind: 'gae',
    score: 1,
    penalisedScore: 1,
    values: [0.1, 0.1, 0.1],
    group: null,
  });

  it("a per-token request is refused until the method has a per-token view; then the trainer's explain answers the latest request only", async () => {
    const t = await ready();
    t.send({ type: 'perToken', requestId: 40, method: 'ppo', prompt: 'what a', completion: 'fine.' });
    expect(t.of('error').at(-1)).toMatchObject({ requestId: 40, message: expect.stringMatching(/no per-token view/) });
    t.send({ type: 'step', requestId: 41 });
    await t.drain();
    const asked: string[] = [];
    Object.assign(t.run.trainers.get('ppo')!, {
      explain: async (prompt: string, completion: string) => {
        asked.push(`${prompt} | ${completion}`);
        return breakdown(prompt, completion);
      },
    });
    t.send({ type: 'perToken', requestId: 42, method: 'ppo', prompt: 'what a', completion: 'fine.' });
    t.send({ type: 'perToken', requestId: 43, method: 'ppo', prompt: 'what a', completion: 'great.' });
    await t.drain();
    expect(asked).toEqual(['what a | great.']);
    expect(t.of('error').at(-1)).toMatchObject({ requestId: 42, message: expect.stringMatching(/newer/) });
    expect(t.of('tokenBreakdown')).toEqual([{ type: 'tokenBreakdown', requestId: 43, method: 'ppo', ...breakdown('what a', 'great.') }]);
  });

  it('startRound is refused before a policy has trained; then it pauses training, withdraws every pair, and the predictions are tallied by who wrote the pair', async () => {
    const t = await ready();
    const agreed = new Map<string, boolean>();
    const verdict = t.run.verdict.bind(t.run);
    // The fake's verdicts, with the prediction this test decides per label.
    Object.assign(t.run, { verdict: (l: Label) => ({ ...verdict(l), agreedBefore: agreed.get(l.id) ?? null }) });
    const labelPair = (pairId: number, id: string, right: boolean) => {
      agreed.set(id, right);
      t.send({ type: 'label', requestId: 200 + agreed.size, pairId, label: { id, prompt: 'what a', completionA: 'fine.', completionB: 'great.', choice: 'A', source: 'human', time: 0 } });
    };
    const [p1, p2] = t.of('pair').map((p) => p.pair.id);
    labelPair(p1, 'b1', true);
    labelPair(p2, 'b2', false);
    await t.drain();
    expect(t.of('rounds').at(-1)!.summary.base).toEqual({ labels: 2, agreed: 1, accuracy: 0.5 });
    expect(t.of('rounds').at(-1)!.summary.newPolicy.accuracy).toBeNull();

    t.send({ type: 'startRound', requestId: 50 });
    expect(t.of('error').at(-1)).toMatchObject({ requestId: 50, message: expect.stringMatching(/trained policy/) });
    t.send({ type: 'step', requestId: 51 });
    await t.drain();
    t.send({ type: 'setTraining', running: true });
    const outstanding = [...t.c.loop.outstanding.keys()];
    expect(outstanding.length).toBeGreaterThan(0);
    t.send({ type: 'startRound', requestId: 52 });
    expect(t.of('roundStarted')).toEqual([{ type: 'roundStarted', requestId: 52, round: 2, policy: { from: 'ppo', steps: 1 } }]);
    expect(t.c.loop.running).toBe(false);
    expect(t.of('runState').at(-1)).toMatchObject({ running: false, reason: expect.stringMatching(/^Round 2: training paused/) });
    expect(t.of('pairsWithdrawn').at(-1)).toEqual({ type: 'pairsWithdrawn', ids: outstanding });
    expect(t.c.loop.outstanding.size).toBe(0);

    await t.drain(); // fresh pairs, from PPO
    const fresh = t.of('pair').filter((p) => !outstanding.includes(p.pair.id) && p.pair.id > Math.max(...outstanding));
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((p) => p.pair.from === 'ppo')).toBe(true);
    labelPair(fresh[0].pair.id, 'p1', true);
    t.send({ type: 'label', requestId: 299, pairId: null, label: { id: 'typed', prompt: 'what a', completionA: 'fine.', completionB: 'great.', choice: 'B', source: 'human', time: 0 } });
    await t.drain();
    const summary = t.of('rounds').at(-1)!.summary;
    expect(summary).toEqual({
      round: 2,
      policy: { from: 'ppo', steps: 1 },
      base: { labels: 2, agreed: 1, accuracy: 0.5 },
      newPolicy: { labels: 1, agreed: 1, accuracy: 1 },
      rounds: [
        { round: 1, labels: 2, agreed: 1, accuracy: 0.5 },
        { round: 2, labels: 1, agreed: 1, accuracy: 1 },
      ],
    });
    // A removed label leaves the tally.
    t.send({ type: 'editLabels', requestId: 300, edit: { op: 'remove', id: 'b2' } });
    await t.drain();
    expect(t.of('rounds').at(-1)!.summary.base).toEqual({ labels: 1, agreed: 1, accuracy: 1 });
  });
});
