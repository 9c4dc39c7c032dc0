// A small run for the run, registry and experiment tests: a one-layer word GPT over the corpus
// vocabulary and method settings cut down so every method steps in well under a second on the CPU.
import { Tokenizer } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';
import type { Gpt } from '../../src/lib/model/gpt';
import { defaultMethodConfigs, Run, runSettings, type RunSettings } from '../../src/lib/rl/run';
import { smallWordGpt } from './tiny';

export const tok = new Tokenizer();

export function smallSettings(): RunSettings {
  const methods = defaultMethodConfigs();
  methods.ppo = { ...methods.ppo, rolloutsPerIteration: 8 };
  methods.dpo = { ...methods.dpo, steps: 2, batchSize: 4 };
  methods.sft = { ...methods.sft, steps: 2, batchSize: 4 };
  methods['best-of-n'] = { ...methods['best-of-n'], n: 2, batches: 1, batchPrompts: 2 };
  // Group methods (GRPO, RLOO): 2 prompts x 4 completions.
  for (const config of Object.values(methods)) {
    if ('groupSize' in config) config.groupSize = 4;
    if ('promptsPerIteration' in config) config.promptsPerIteration = 2;
  }
  const s = runSettings(
    { incrementalSteps: 1, refitSteps: 3, refitEvery: 4, ensembleSize: 1 },
    { candidates: 4, buffer: 3, selection: 'disagreement', warmupLabels: 3, selectionRound: 2 },
    methods,
  );
  s.reward = { ...s.reward, normSamples: 16, batchSize: 4, incrementalBatchSize: 4 };
  return s;
}

export function smallRun(seed = 1, settings = smallSettings(), base: Gpt = smallWordGpt(tok.size, 7)): Run {
  return new Run(base, tok, new Rng(seed), settings);
}
