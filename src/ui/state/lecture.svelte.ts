// Lecture mode: the view settings of the address (src/lib/config/view.ts), the guided tour that
// follows the lecture's slides (base model, comparisons, Bradley-Terry, RL with KL, hacking, "is
// RL necessary?"), each step's text written from the run's live numbers, and the keys a lecturer
// uses at a projector: arrows move through the tour, Space pauses and resumes the hands-free run.
import { parseView, TOUR_STEPS, viewSearch, type ViewPanel, type ViewSettings } from '../../lib/config/view';
import type { GoldResult } from '../../lib/protocol/messages';
import type { Playground } from './playground.svelte';
import { groupDigits } from './pipeline';

/** One stop of the tour: the region it shows, and what it says there with the numbers of now. */
export interface TourStep {
  title: string;
  /** The heading text of the region it scrolls to (the regions' contract names). */
  region: string;
  /** The explanation to open there (How it works), if any. */
  explain?: string;
  text: string;
}

function fixed(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function percent(x: number): string {
  return `${Math.round(x * 100)} %`;
}

/** The trained method the lecture talks about: the first one with steps in the latest gold evaluation. */
function trainedResult(results: readonly GoldResult[]): GoldResult | undefined {
  return results.find((r) => r.method !== 'base' && r.steps > 0);
}

/** The tour's steps, written from the run as it is now (TOUR_STEPS of them). */
export function tourSteps(p: Playground): TourStep[] {
  const info = p.modelInfo;
  const labels = p.prefs.count;
  const rm = p.reward.latest;
  const results = p.autopilot.latest?.results ?? [];
  const base = results.find((r) => r.method === 'base');
  const trained = trainedResult(results);
  const title = (m: string) => p.training.title(m);
  const rlResults = results.filter((r) => r.method !== 'base' && r.steps > 0);
  const best = [...rlResults].sort((a, b) => b.winRate - a.winRate)[0];
  return [
    {
      title: 'The base model p(y | x)',
      region: 'Base model',
      text: info
        ? `A word-level GPT of ${groupDigits(info.parameters)} parameters over ${info.vocabSize} words, pretrained offline${info.validationLoss !== null ? ` to ${fixed(info.validationLoss)} nats per word on held-out reviews` : ''}. Everything below starts from it, and the KL term keeps the policy near it.`
        : 'The base model is loading: a small word-level GPT, pretrained offline, that ships with the page.',
    },
    {
      title: 'Comparisons',
      region: 'Your preferences',
      text: `Two completions of one prompt; a person (or autopilot's simulated annotator) says which is better. ${labels} label${labels === 1 ? '' : 's'} so far${p.autopilot.on ? ', autopilot is labelling' : ''}.`,
    },
    {
      title: 'Bradley-Terry reward model',
      region: 'Reward model',
      explain: 'how-bt',
      text: rm
        ? `r(x, y) scores a completion; P(y1 ≻ y2) = σ(r1 − r2) is fitted to the labels. After ${rm.labels} labels it agrees with ${percent(rm.accuracy)} of them (loss ${fixed(rm.loss, 3)}).`
        : 'r(x, y) scores a completion; P(y1 ≻ y2) = σ(r1 − r2) is fitted to the labels. It has not learned yet: give a label first.',
    },
    {
      title: 'RL with a KL penalty',
      region: 'Train the policy',
      explain: 'how-objective',
      text: trained
        ? `${title(trained.method)} maximises E[r] − β·KL. After ${trained.steps} steps its reward-model score is ${fixed(trained.rmScore)} (base ${fixed(trained.baseRmScore)}) at KL ${fixed(trained.klPerSequence)} nats per sequence.`
        : 'The policy maximises E[r] − β·KL against the frozen base model. Nothing has trained yet: press Train (or let autopilot).',
    },
    {
      title: 'Reward hacking',
      region: 'Reward hacking',
      text: trained && base
        ? `The reward model is a proxy. ${title(trained.method)}: RM score ${fixed(trained.rmScore)} against the base model's ${fixed(trained.baseRmScore)}, while the grammar-aware gold judge finds ${percent(trained.grammatical)} of its text grammatical (base ${percent(trained.baseGrammatical)}).${p.autopilot.alarms.length > 0 ? ` Alarm: ${p.autopilot.alarms[0].message}.` : ''}`
        : 'The reward model is a proxy; push it far enough and the policy finds what it overrates. The gold judge appears under autopilot.',
    },
    {
      title: 'Is RL necessary?',
      region: 'Is RL necessary?',
      text: best
        ? `On the same labels, ${title(best.method)} leads: it beats the base model in ${percent(best.winRate)} of held-out prompts under the gold judge, at KL ${fixed(best.klPerSequence)} nats${rlResults.length > 1 ? `, against ${rlResults.filter((r) => r !== best).map((r) => `${title(r.method)} ${percent(r.winRate)}`).join(', ')}` : ''}.`
        : 'PPO, GRPO, RLOO, DPO, SFT and best-of-N on the same labels, side by side. Tick methods and let autopilot run to compare them.',
    },
  ];
}

export class Lecture {
  view = $state.raw<ViewSettings>(parseView('').view);
  /** Problems with the address's view parameters (shown with the run's). */
  problems = $state.raw<string[]>([]);
  /** Space paused the hands-free run: the next Space resumes what it paused. */
  private pausedByKey: 'autopilot' | 'training' | null = null;
  /** The hands-free start happens once per page. */
  private started = false;

  private readonly playground: Playground;
  readonly steps: TourStep[];

  constructor(playground: Playground, search: string) {
    this.playground = playground;
    this.steps = $derived(tourSteps(playground));
    const { view, problems } = parseView(search);
    this.view = view;
    this.problems = problems;
    if (typeof document !== 'undefined') document.documentElement.classList.toggle('lecture', view.lecture);
  }

  hidden(panel: ViewPanel): boolean {
    return this.view.hide.includes(panel);
  }

  get step(): number {
    return this.view.tour;
  }

  /** Opens the tour at a step (1..TOUR_STEPS), or closes it with 0. */
  go(step: number): void {
    this.update({ tour: Math.max(0, Math.min(TOUR_STEPS, step)) });
  }

  next(): void {
    if (this.view.tour < TOUR_STEPS) this.go(this.view.tour + 1);
  }

  previous(): void {
    if (this.view.tour > 1) this.go(this.view.tour - 1);
  }

  /** Shows or hides a region; the address keeps the choice. */
  setHidden(panel: ViewPanel, hidden: boolean): void {
    const rest = this.view.hide.filter((p) => p !== panel);
    this.update({ hide: hidden ? [...rest, panel] : rest });
  }

  setLecture(on: boolean): void {
    this.update({ lecture: on });
    document.documentElement.classList.toggle('lecture', on);
  }

  /** After the first pair is on screen: the lecture link's hands-free start. */
  async startHandsFree(): Promise<void> {
    if (!this.view.autopilot || this.started) return;
    this.started = true;
    await this.playground.autopilot.start();
  }

  /** Space: pause whatever runs by itself (autopilot first, then training); again: resume it. */
  async togglePause(): Promise<void> {
    const { autopilot, training } = this.playground;
    if (autopilot.on) {
      await autopilot.stop();
      if (training.running) training.setRunning(false);
      this.pausedByKey = 'autopilot';
    } else if (training.running) {
      training.setRunning(false);
      this.pausedByKey = 'training';
    } else if (this.pausedByKey === 'autopilot') {
      this.pausedByKey = null;
      await autopilot.start();
    } else if (this.pausedByKey === 'training') {
      this.pausedByKey = null;
      training.setRunning(true);
    }
  }

  /** What Space would do now, for the button and its label. */
  get pauseLabel(): string {
    const { autopilot, training } = this.playground;
    if (autopilot.on || training.running) return 'Pause (Space)';
    return this.pausedByKey ? 'Resume (Space)' : 'Nothing running';
  }

  private update(change: Partial<ViewSettings>): void {
    this.view = { ...this.view, ...change };
    if (typeof history !== 'undefined' && typeof location !== 'undefined') {
      history.replaceState(history.state, '', `${location.pathname}${viewSearch(this.view, location.search)}${location.hash}`);
    }
  }
}
