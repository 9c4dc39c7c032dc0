// The language model's shape. Defaults are prototype2's word-level GPT (reference/prototype2/
// RESULTS.md): it pretrains in about a minute on one core, and its reward model reached 0.78-0.80
// held-out accuracy from 25-50 labels.
import { ConfigError, readIntFields, type IntRule } from './validate';

export interface ModelConfig {
  /** Tokens in the vocabulary, PAD and EOS included; set from the tokenizer. */
  vocabSize: number;
  /** Longest sequence (prompt + completion) the model attends over. */
  contextLength: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Transformer blocks. */
  nLayers: number;
  /** Attention heads; must divide dModel. */
  nHeads: number;
  /** Longest completion sampled after a prompt. */
  maxNewTokens: number;
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  vocabSize: 225, // 223 corpus words and punctuation + PAD + EOS
  contextLength: 24, // prompts are 2-3 words; 24 leaves room for 12 new tokens and for pretraining windows
  dModel: 64, // prototype2: d=96 was not better at equal wall time; 64 keeps a PPO iteration near 0.2 s
  nLayers: 2, // prototype2: 3 layers reached a worse loss in 60 s (1.499 vs 1.455 nats/token)
  nHeads: 4, // head size 16
  maxNewTokens: 12, // reviews are capped at 13 tokens, so a 2-word prompt can always be finished
};

const RULES: Record<keyof ModelConfig, IntRule> = {
  vocabSize: { min: 3, max: 100_000 },
  contextLength: { min: 2, max: 4096 },
  dModel: { min: 1, max: 4096 },
  nLayers: { min: 1, max: 64 },
  nHeads: { min: 1, max: 64 },
  maxNewTokens: { min: 1, max: 4096 },
};

/** A checked ModelConfig from untrusted input (a model file, a URL); throws ConfigError. */
export function parseModelConfig(raw: unknown): ModelConfig {
  const problems: string[] = [];
  const cfg = readIntFields(raw, DEFAULT_MODEL_CONFIG, RULES, problems);
  if (cfg.dModel % cfg.nHeads !== 0) problems.push(`dModel (${cfg.dModel}) must be a multiple of nHeads (${cfg.nHeads})`);
  if (cfg.maxNewTokens >= cfg.contextLength) {
    problems.push(`maxNewTokens (${cfg.maxNewTokens}) must leave room for a prompt in contextLength (${cfg.contextLength})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}
