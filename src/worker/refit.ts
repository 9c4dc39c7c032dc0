// A full refit of the reward model that runs in slices between other work. RewardModel.refit runs
// all its steps in one call, which would keep the worker from answering clicks for ~40 s on WASM,
// so the worker fits a fresh copy (a "shadow" model, beside the one PPO scores with) one step at a
// time: RewardModel.update with no must-have pairs draws a plain random minibatch of all pairs,
// which is one refit step (prototype2's recipe: batch 16, refitSteps steps, from the base model).
// When the steps are done the controller swaps the shadow in (Session.adoptRefit).
// Difference from RewardModel.refit: ensemble members draw from all pairs, not bootstrap resamples.
import type { RewardConfig } from '../lib/config/reward';
import type { Tokenizer } from '../lib/data/tokenizer';
import type { Rng } from '../lib/math/rng';
import type { Gpt } from '../lib/model/gpt';
import { comparisonPairs, type ComparisonPair, type Label } from '../lib/rl/preferences';
import { RewardModel } from '../lib/rl/reward-model';

export class BackgroundRefit {
  /** Ids of the labels it fits: labels added later are learned incrementally when it is adopted. */
  readonly labelIds: ReadonlySet<string>;
  readonly labels: number;
  readonly total: number;
  step = 0;
  loss = NaN;
  private shadow: RewardModel | null;
  private readonly pairs: ComparisonPair[];

  constructor(base: Gpt, tokenizer: Tokenizer, config: RewardConfig, rng: Rng, labels: readonly Label[]) {
    this.labelIds = new Set(labels.map((l) => l.id));
    this.labels = labels.filter((l) => l.choice !== 'skip').length;
    this.pairs = comparisonPairs(labels);
    this.total = config.refitSteps;
    // One step per update() call, on a refit-sized batch.
    this.shadow = new RewardModel(base, tokenizer, { ...config, incrementalSteps: 1, incrementalBatchSize: config.batchSize }, rng);
  }

  get done(): boolean {
    return this.step >= this.total;
  }

  /** Runs steps until `budgetMs` has passed (at least one step); returns whether the refit is done. */
  async run(budgetMs: number): Promise<boolean> {
    const shadow = this.shadow;
    if (!shadow) throw new Error('this refit was taken or disposed');
    const started = performance.now();
    do {
      await shadow.update(this.pairs, []);
      this.loss = shadow.lastLoss;
      this.step += 1;
    } while (!this.done && performance.now() - started < budgetMs);
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
