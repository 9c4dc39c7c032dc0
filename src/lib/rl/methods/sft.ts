// Supervised fine-tuning on the chosen completions and on completions the user typed as
// demonstrations (InstructGPT's step 1, run here on the same labels as the other methods). The
// trainer is ../sft.ts; TRL's SFTTrainer names its metrics `loss` and `grad_norm` as here.
import { int, real } from '../../config/fields';
import { DEFAULT_SFT, SftTrainer, type SftConfig } from '../sft';
import { defineMethod, patchConfig, sampleTexts } from './common';
import type { Trainer } from './types';

export interface SftMethodConfig extends SftConfig {
  steps: number;
}

export const SFT = defineMethod<SftMethodConfig>({
  name: 'sft',
  title: 'SFT',
  kind: 'offline',
  summary: 'imitates the chosen completion of each label and your typed demonstrations (next-token cross-entropy); the rejected one is never used',
  source: 'Ouyang et al. 2022 step 1; TRL SFTTrainer',
  defaults: { ...DEFAULT_SFT, steps: 60 }, // as DPO
  fields: [
    { kind: 'number', key: 'lr', label: 'learning rate', rule: real(1e-6, 1e-2, 1e-5), reason: '1e-4: 3e-4 overfits 25 labels (KL 3.5-4.2, fewer distinct samples)' },
    { kind: 'number', key: 'steps', label: 'steps', rule: int(1, 2000), reason: 'as DPO: 60 steps of 16 examples' },
  ],
  charts: [{ title: 'SFT loss', keys: ['loss', 'grad_norm'], explain: 'Mean negative log-likelihood per completion token of the chosen completions, and the gradient norm.' }],
  create(ctx, config): Trainer {
    let cfg = config;
    const sft = new SftTrainer(ctx.base, ctx.tokenizer, ctx.labels, ctx.demonstrations, config);
    return {
      get steps() {
        return sft.steps;
      },
      get totalSteps() {
        return cfg.steps;
      },
      policy: sft.policy,
      analyticKl: null,
      async step() {
        const m = await sft.step(ctx.rng);
        return { metrics: { step: sft.steps, ...m }, samples: [] };
      },
      complete: (prompts, rng) => sampleTexts(sft.policy, ctx.tokenizer, prompts, rng),
      configure(patch) {
        cfg = patchConfig(cfg, patch);
      },
      saveState: () => sft.saveState(),
      loadValues: (values) => sft.loadValues(values),
      dispose: () => sft.dispose(),
    };
  },
});
