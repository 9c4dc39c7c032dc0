// Best-of-N reranking behind the method interface (../best-of-n.ts): no weights change; each
// completion is the reward model's favourite of N base samples, and its KL from the base model is
// log N - (N - 1)/N in closed form. A "step" scores one batch of training prompts, so the page can
// show what reranking buys (the best score against a plain sample's) before anything trains.
import { int } from '../../config/fields';
import { mean } from '../../math/stats';
import { bestOfN, bestOfNKl } from '../best-of-n';
import { stateCount } from '../trainer-state';
import { defineMethod, patchConfig } from './common';
import type { Trainer } from './types';

export interface BestOfNConfig {
  /** Candidates per prompt. */
  n: number;
  /** Batches of training prompts a run scores. */
  batches: number;
  /** Prompts per batch. */
  batchPrompts: number;
}

export const BEST_OF_N = defineMethod<BestOfNConfig>({
  name: 'best-of-n',
  title: 'Best-of-N',
  kind: 'rerank',
  summary: 'samples N completions from the base model and keeps the one the reward model scores highest: no training at all',
  source: 'Stiennon et al. 2020; Nakano et al. 2021 (WebGPT); KL bound from Beirami et al. 2024',
  defaults: {
    n: 16, // KL 1.84 nats, about 40 % of PPO's target: the comparison the lecture asks for
    batches: 4, // 4 points on its chart, about a second each on WASM
    batchPrompts: 16, // 16 x 16 = 256 samples per batch: one sampling call
  },
  fields: [
    { kind: 'number', key: 'n', label: 'N (candidates)', rule: int(1, 64), reason: '16: KL = log 16 - 15/16 = 1.84 nats; N = 64 costs 4x for 0.8 more nats' },
    { kind: 'number', key: 'batches', label: 'batches', rule: int(1, 64), reason: 'each batch is one point on the chart' },
  ],
  charts: [
    { title: 'Reward-model score of the best of N', keys: ['reward', 'reward/sample'], explain: 'Mean reward-model score of the best of N candidates, and of one plain sample (N = 1): the gap is what reranking buys.' },
    { title: 'KL bound', keys: ['kl'], floor: 0, explain: 'log N - (N - 1)/N nats: how far best-of-N is from the base model, in closed form.' },
  ],
  create(ctx, config): Trainer {
    let cfg = config;
    let steps = 0;
    return {
      get steps() {
        return steps;
      },
      get totalSteps() {
        return cfg.batches;
      },
      policy: null,
      get analyticKl() {
        return bestOfNKl(cfg.n);
      },
      async step() {
        const prompts = Array.from({ length: cfg.batchPrompts }, () => ctx.rng.pick(ctx.prompts));
        const r = await bestOfN(ctx.base, ctx.tokenizer, prompts, ctx.scorer, { n: cfg.n, rng: ctx.rng });
        steps += 1;
        const best = r.choices.map((c) => c.bestScore);
        const first = r.choices.map((c) => c.scores[0]);
        return {
          metrics: { step: steps, reward: mean(best), 'reward/sample': mean(first), kl: r.kl, n: cfg.n },
          samples: r.choices.slice(0, 4).map((c) => ({ prompt: c.prompt, completion: c.best, score: c.bestScore })),
        };
      },
      async complete(prompts, rng) {
        const r = await bestOfN(ctx.base, ctx.tokenizer, prompts, ctx.scorer, { n: cfg.n, rng });
        return r.choices.map((c) => c.best);
      },
      configure(patch) {
        cfg = patchConfig(cfg, patch);
      },
      saveState: () => ({ variables: [], values: { steps } }), // its batches come from the run's stream for the method, saved with it
      loadValues(values) {
        steps = stateCount(values, 'steps');
      },
      dispose() {}, // it owns no tensor: it samples the shared base model
    };
  },
});
