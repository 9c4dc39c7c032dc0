// DPO (Rafailov et al. 2023) behind the method interface: the trainer is ../dpo.ts (TRL's
// DPOTrainer, sigmoid loss, its metric names). Offline: it trains on the labels the run held when
// it was created, for `steps` steps; new labels make the run create it again.
import { int, real } from '../../config/fields';
import { DEFAULT_DPO, DpoTrainer, type DpoConfig } from '../dpo';
import { defineMethod, patchConfig, sampleTexts } from './common';
import type { Trainer } from './types';

export interface DpoMethodConfig extends DpoConfig {
  /** Optimizer steps of one run on the labels. */
  steps: number;
}

export const DPO = defineMethod<DpoMethodConfig>({
  name: 'dpo',
  title: 'DPO',
  kind: 'offline',
  summary: 'trains the policy on the labelled pairs directly: no reward model, no sampling; beta sets how far it may move from the reference',
  source: 'Rafailov et al. 2023; TRL DPOTrainer (loss_type "sigmoid")',
  defaults: { ...DEFAULT_DPO, steps: 60 }, // prototype 1's recipe: 60 steps of batch 16
  fields: [
    { kind: 'number', key: 'beta', label: 'beta', rule: real(0.001, 5, 0.01), reason: "Rafailov et al.'s and TRL's default 0.1: the implicit reward is beta * log(pi / pi_ref)" },
    { kind: 'number', key: 'lr', label: 'learning rate', rule: real(1e-6, 1e-2, 1e-5), reason: '2e-4: at 1e-4 60 steps barely moved the policy (win 0.54); 2e-4 gave 0.60 at KL 1.3-2.4' },
    { kind: 'number', key: 'steps', label: 'steps', rule: int(1, 2000), reason: "prototype 1's 60 steps of 16 pairs; 180 steps broke the grammar (KL 7-15)" },
    { kind: 'number', key: 'batchSize', label: 'pairs per step', rule: int(1, 256), reason: "prototype 1's DPO batch" },
  ],
  charts: [
    { title: 'DPO loss', keys: ['loss'], explain: '-log sigmoid(beta * margin), mean over the batch: falls as the policy separates chosen from rejected.' },
    { title: 'Implicit rewards', keys: ['rewards/chosen', 'rewards/rejected', 'rewards/margins'], explain: 'beta * log(pi / pi_ref) of the chosen and rejected completions, and their difference.' },
    { title: 'Pair accuracy', keys: ['rewards/accuracies'], floor: 0, explain: 'Share of pairs whose chosen completion has the larger implicit reward.' },
  ],
  create(ctx, config): Trainer {
    let cfg = config;
    const dpo = new DpoTrainer(ctx.base, ctx.tokenizer, ctx.labels, config);
    return {
      get steps() {
        return dpo.steps;
      },
      get totalSteps() {
        return cfg.steps;
      },
      policy: dpo.policy,
      analyticKl: null,
      async step() {
        const m = await dpo.step(ctx.rng);
        return { metrics: { step: dpo.steps, ...m }, samples: [] };
      },
      complete: (prompts, rng) => sampleTexts(dpo.policy, ctx.tokenizer, prompts, rng),
      configure(patch) {
        cfg = patchConfig(cfg, patch); // read by the next run: DPO's optimizer keeps its rate
      },
      saveState: () => dpo.saveState(),
      loadValues: (values) => dpo.loadValues(values),
      dispose: () => dpo.dispose(),
    };
  },
});
