// "Blind evaluation" (InstructGPT's human evaluation, src/lib/math/blind.ts): the pair on screen, the
// answers (kept in localStorage), and what they say: the chosen method's human win rate over the
// base model with its 95 % Wilson interval, and the user's agreement with themselves on pairs that
// came back. Which side is the method's lives only here, in `shown` (from the worker's reply), never
// in the DOM before the answer; the component renders the prompt and the two texts alone.
import type { MethodName } from '../../lib/protocol/messages';
import { repeatCandidates, repeatPlan, selfAgreement, winTally, type BlindChoice, type BlindOutcome } from '../../lib/math/blind';
import { errorText } from '../errors';
import { loadAnswers, saveAnswers } from './blind-storage';
import type { Playground } from './playground.svelte';
import { stepsText } from './training.svelte';

/** One answer as kept: the outcome, what was shown, and the policy that wrote it. */
export interface BlindAnswer extends BlindOutcome {
  prompt: string;
  left: string;
  right: string;
  /** The method's steps when it wrote its completion. */
  steps: number;
  /** The run seed of the page that asked. */
  seed: number;
  time: number;
}

/** The pair on screen: the texts, and (for this object only) which side is the method's. */
export interface BlindShown {
  /** Pairs shown so far, this one included (answers kept from earlier visits count). */
  number: number;
  prompt: string;
  left: string;
  right: string;
  method: MethodName;
  methodSide: 'left' | 'right';
  steps: number;
  /** The answer this pair repeats (unannounced), or null for a fresh pair. */
  repeatOf: string | null;
}

let idCounter = 0;
function newAnswerId(): string {
  idCounter += 1;
  return `b-${Date.now().toString(36)}-${idCounter.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export class BlindEvaluation {
  /** The method picked in the select; null: the first that has trained. */
  picked = $state<MethodName | null>(null);
  shown = $state.raw<BlindShown | null>(null);
  answers = $state.raw<BlindAnswer[]>([]);
  /** The last answer, revealed with its models. */
  last = $state.raw<BlindAnswer | null>(null);
  /** A pair was asked for and has not come. */
  drawing = $state(false);
  /** Pairs come by themselves after the first is asked for. */
  active = $state(false);
  problem = $state<string | null>(null);
  storageProblem = $state<string | null>(null);
  /** The confirmation step of "Forget these answers". */
  confirmingForget = $state(false);

  /** Methods that have trained (their completions differ from the base model's). */
  readonly available = $derived.by(() => this.app.training.methods.filter((m) => m.steps > 0));
  /** The method judged: the one picked, else the first that has trained, else (after a reload) the last one answered. */
  readonly method = $derived.by<MethodName | null>(() => {
    if (this.picked !== null && this.available.some((m) => m.name === this.picked)) return this.picked;
    return this.available[0]?.name ?? ((this.answers.at(-1)?.method as MethodName | undefined) ?? null);
  });
  readonly tally = $derived(winTally(this.answers, this.method ?? ''));
  readonly agreement = $derived(selfAgreement(this.answers));
  /** Answers given for the method now chosen (repeats included). */
  readonly methodAnswers = $derived(this.answers.filter((a) => a.method === this.method).length);

  /** Latest draw: a reply to an older one (method changed meanwhile) is dropped. */
  private round = 0;

  constructor(private readonly app: Playground) {
    const { answers, problem } = loadAnswers();
    this.answers = answers;
    this.storageProblem = problem;
  }

  /** What the page calls the model on one side of an answered pair. */
  model(answer: Pick<BlindAnswer, 'method' | 'methodSide' | 'steps'>, side: 'left' | 'right'): string {
    if (answer.methodSide !== side) return 'the base model';
    const m = this.app.training.find(answer.method);
    return `${m?.title ?? answer.method} after ${m ? stepsText(m.kind, answer.steps) : answer.steps}`;
  }

  /** The earlier answer a repeat brought back. */
  original(answer: BlindAnswer): BlindAnswer | null {
    return answer.repeatOf === null ? null : (this.answers.find((a) => a.id === answer.repeatOf) ?? null);
  }

  pick(name: MethodName): void {
    if (name === this.method) return;
    this.picked = name;
    this.shown = null;
    this.round += 1;
    this.drawing = false;
    if (this.active) void this.draw();
  }

  /**
   * The next pair: an earlier pair of this method when the seeded schedule says so (sides swapped
   * or not), else a fresh one from the worker. A repeat waits for a draw too (and drops it), so
   * that it does not give itself away by coming sooner than a fresh pair.
   */
  async draw(): Promise<void> {
    const method = this.method;
    const client = this.app.client;
    if (method === null || !client || !this.app.ready || this.drawing) return;
    this.active = true;
    this.problem = null;
    const number = this.answers.length + 1;
    const originals = repeatCandidates(this.answers, method);
    const plan = repeatPlan(this.app.seed, number, originals.length);
    const round = ++this.round;
    this.drawing = true;
    try {
      const reply = await client.request('drawBlindPair', { method });
      if (round !== this.round) return;
      if (plan) {
        const o = originals[plan.pick];
        this.shown = {
          number,
          prompt: o.prompt,
          left: plan.swap ? o.right : o.left,
          right: plan.swap ? o.left : o.right,
          method,
          methodSide: plan.swap ? (o.methodSide === 'left' ? 'right' : 'left') : o.methodSide,
          steps: o.steps,
          repeatOf: o.id,
        };
      } else {
        this.shown = { number, prompt: reply.prompt, left: reply.left, right: reply.right, method: reply.method, methodSide: reply.methodSide, steps: reply.steps, repeatOf: null };
      }
    } catch (e) {
      if (round === this.round) this.problem = `No blind pair: ${errorText(e)}`;
    } finally {
      if (round === this.round) this.drawing = false;
    }
  }

  /** The user's pick for the pair on screen; its models are revealed and the next pair comes. */
  answer(choice: BlindChoice): void {
    const s = this.shown;
    if (!s) return;
    const answer: BlindAnswer = {
      id: newAnswerId(),
      method: s.method,
      methodSide: s.methodSide,
      choice,
      repeatOf: s.repeatOf,
      prompt: s.prompt,
      left: s.left,
      right: s.right,
      steps: s.steps,
      seed: this.app.seed,
      time: Date.now(),
    };
    this.shown = null;
    this.last = answer;
    this.setAnswers([...this.answers, answer]);
    void this.draw();
  }

  /** Drops every answer (after the component's confirmation step). */
  forget(): void {
    this.confirmingForget = false;
    this.last = null;
    this.setAnswers([]);
  }

  private setAnswers(answers: BlindAnswer[]): void {
    this.answers = answers;
    this.storageProblem = saveAnswers(answers);
  }
}
