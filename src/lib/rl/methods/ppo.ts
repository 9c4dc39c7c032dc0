// PPO, InstructGPT's recipe (Ouyang et al. 2022; Schulman et al. 2017), behind the method
// interface: the trainer itself is ../ppo.ts, written as TRL's legacy PPOTrainer steps and metric
// names (TRL has moved PPO to trl.experimental; the page presents it as the classic recipe).
import { int, real } from '../../config/fields';
import { DEFAULT_PPO, type PpoConfig } from '../../config/ppo';
import { PpoTrainer } from '../ppo';
import { defineMethod, patchConfig, sampleTexts } from './common';
import type { Trainer } from './types';

export const PPO = defineMethod<PpoConfig>({
  name: 'ppo',
  title: 'PPO',
  kind: 'online',
  summary: 'samples from the policy, scores with the reward model, and takes clipped policy-gradient steps with a learned critic (GAE) under a per-token KL penalty',
  source: 'Ouyang et al. 2022 (InstructGPT); Schulman et al. 2017; TRL PPOTrainer (legacy)',
  defaults: DEFAULT_PPO,
  fields: [
    { kind: 'choice', key: 'klControl', label: 'KL control', choices: ['adaptive', 'fixed'], reason: 'adaptive steers beta toward the target KL (Ziegler et al. 2019); it kept twice the diversity of a fixed beta in prototype2' },
    { kind: 'number', key: 'targetKl', label: 'target KL (nats per sequence)', rule: real(0.1, 50, 0.1), reason: 'the adaptive controller aims here; 4.5 nats keeps the text fluent while the reward climbs' },
    { kind: 'number', key: 'initKlCoef', label: 'KL coefficient beta', rule: real(0, 2, 0.005), reason: "beta at the start, and always when fixed: prototype2's 0.05 (InstructGPT used 0.02 on far larger models)" },
    { kind: 'number', key: 'klStop', label: 'KL guard limit (nats per sequence)', rule: real(0.5, 500, 0.5), reason: 'training stops when the mean KL of the last 3 iterations passes this: 12 is about 3x the target, a run that has escaped its KL control (prototype2 reached 6-8 nats without control); raise it to watch a collapse go on' },
    { kind: 'number', key: 'lr', label: 'learning rate', rule: real(1e-6, 1e-2, 1e-5), reason: "prototype2's Adam rate for policy and critic" },
    { kind: 'number', key: 'clipRange', label: 'clip range', rule: real(0.01, 1, 0.01), reason: 'Schulman et al. 2017 and TRL: the ratio is clipped to [0.8, 1.2]' },
    { kind: 'number', key: 'rolloutsPerIteration', label: 'rollouts per iteration', rule: int(2, 256), reason: "prototype2's 64: enough for a stable advantage estimate, under a second on WASM" },
    { kind: 'number', key: 'epochs', label: 'epochs per iteration', rule: int(1, 8), reason: "2 passes over each batch (TRL's default is 4; 4 cost 1.7x for +0.005 win here)" },
    { kind: 'number', key: 'temperature', label: 'sampling temperature', rule: real(0.1, 3, 0.05), reason: "1 samples the policy's own distribution, as PPO's ratio assumes" },
    { kind: 'number', key: 'truncationPenalty', label: 'truncation penalty', rule: real(0, 5, 0.1), reason: 'the prototype: a completion without EOS scores 1 less, which stops the policy from never ending its sentences (99 % finish)' },
  ],
  charts: [
    { title: 'Reward-model score', keys: ['objective/scores', 'objective/rlhf_reward'], explain: 'objective/scores is the reward model\'s mean score of the rollouts; objective/rlhf_reward subtracts the KL penalty: what PPO maximises.' },
    { title: 'KL to the reference', keys: ['objective/kl', 'objective/kl_k3'], floor: 0, explain: 'Nats per sequence between the policy and the frozen base model (k1 as penalised, k3 beside it).' },
    { title: 'KL coefficient', keys: ['objective/kl_coef'], floor: 0, explain: 'beta: the adaptive controller raises it when KL is above target.' },
    { title: 'Losses', keys: ['loss/policy_avg', 'loss/value_avg'], explain: 'The clipped surrogate loss of the policy and the clipped value loss of the critic.' },
    { title: 'Clipping', keys: ['policy/clipfrac_avg', 'val/clipfrac_avg', 'policy/approxkl_avg'], floor: 0, explain: 'How often the ratio or the value hit the clip range, and the approximate KL of one update.' },
    { title: 'Completions', keys: ['completion/length', 'completion/finished', 'completion/distinct'], floor: 0, explain: 'Mean length in tokens, the share that end with EOS, and the share of distinct rollouts: a collapse shows here first.' },
  ],
  create(ctx, config): Trainer {
    const ppo = new PpoTrainer(ctx.base, ctx.rewardModel, ctx.scorer, ctx.tokenizer, config, ctx.rng, ctx.prompts);
    return {
      get steps() {
        return ppo.iteration;
      },
      totalSteps: null,
      policy: ppo.policy,
      analyticKl: null,
      async step() {
        const r = await ppo.step();
        return { metrics: { ...r.metrics }, samples: r.samples, stopReason: r.stopReason };
      },
      complete: (prompts, rng) => sampleTexts(ppo.policy, ctx.tokenizer, prompts, rng),
      explain: (prompt, completion) => ppo.explain(prompt, completion),
      configure: (patch) => ppo.updateConfig(patchConfig(ppo.config, patch)),
      saveState: () => ppo.saveState(),
      loadValues: (values) => ppo.loadValues(values),
      dispose: () => ppo.dispose(),
    };
  },
});
