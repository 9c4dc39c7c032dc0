// A full refit of the reward model that runs in slices between other work. RewardModel.refit runs
// all its steps in one call, which would keep the worker from answering clicks for ~20 s on WASM,
// so the run fits a fresh copy (a "shadow" model, beside the one PPO scores with) through
// RewardModel.startRefit, a few steps per slice: the same steps, batches and bootstrap members as
// a refit in one call. When the steps are done the run swaps the shadow in (Run.adoptRefit); the
// headless experiment runs the same job to the end in one go (Run.refitNow).
import type { RewardConfig } from '../config/reward';
import type { Tokenizer } from '../data/tokenizer';
import type { Rng } from '../math/rng';
import type { Gpt } from '../model/gpt';
import { comparisonPairs, type Label } from './preferences';
import { RewardModel, type RefitRun } from './reward-model';

export class RefitJob {
  /** Ids of the labels it fits: labels added later are learned incrementally when it is adopted. */
  readonly labelIds: ReadonlySet<string>;
  readonly labels: number;
  loss = NaN;
  private shadow: RewardModel | null;
  /** Null when the labels hold no comparison (all skips): the fresh model is the result. */
  private readonly steps: RefitRun | null;

  /** `stream`: the name of `rng` in the run (the adopted model keeps drawing from it, and a checkpoint names it). */
  constructor(base: Gpt, tokenizer: Tokenizer, config: RewardConfig, rng: Rng, labels: readonly Label[], readonly stream: string) {
    this.labelIds = new Set(labels.map((l) => l.id));
    this.labels = labels.filter((l) => l.choice !== 'skip').length;
    this.shadow = new RewardModel(base, tokenizer, config, rng);
    const pairs = comparisonPairs(labels);
    this.steps = pairs.length > 0 ? this.shadow.startRefit(pairs) : null;
  }

  get step(): number {
    return this.steps?.taken ?? 0;
  }

  get total(): number {
    return this.steps?.total ?? 0;
  }

  get done(): boolean {
    return this.steps?.done ?? true;
  }

  /** Runs steps until `budgetMs` has passed (at least one step); returns whether the refit is done. */
  async run(budgetMs: number): Promise<boolean> {
    if (!this.shadow) throw new Error('this refit was taken or disposed');
    const started = performance.now();
    while (this.steps && !this.steps.done) {
      this.loss = await this.steps.step();
      if (performance.now() - started >= budgetMs) break;
    }
    return this.done;
  }

  /** The fitted model; the caller owns it from now on. */
  take(): RewardModel {
    if (!this.shadow || !this.done) throw new Error('the refit has not finished');
    const shadow = this.shadow;
    this.shadow = null;
    return shadow;
  }

  dispose(): void {
    this.shadow?.dispose();
    this.shadow = null;
  }
}
