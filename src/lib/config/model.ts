// The language model's shape. Defaults are prototype2's word-level GPT (reference/prototype2/
// RESULTS.md): it pretrains in about a minute on one core, and its reward model reached 0.78-0.80
// held-out accuracy from 25-50 labels.
import * as v from 'valibot';
import { int, numberSchema, type NumberRule } from './fields';
import { checkConfig, ConfigError } from './validate';

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

const RULES: Record<keyof ModelConfig, NumberRule> = {
  vocabSize: int(3, 100_000),
  contextLength: int(2, 4096),
  dModel: int(1, 4096),
  nLayers: int(1, 64),
  nHeads: int(1, 64),
  maxNewTokens: int(1, 4096),
};

/** A model file's config: every field a whole number in its range, no other key. Missing fields take the defaults. */
const MODEL_CONFIG_SCHEMA = v.strictObject(
  Object.fromEntries(Object.entries(RULES).map(([key, rule]) => [key, v.optional(numberSchema(rule))])) as Record<keyof ModelConfig, v.OptionalSchema<ReturnType<typeof numberSchema>, undefined>>,
  'expected an object of whole numbers',
);

/** A checked ModelConfig from untrusted input (a model file, a URL); throws ConfigError. */
export function parseModelConfig(raw: unknown): ModelConfig {
  const given = checkConfig(MODEL_CONFIG_SCHEMA, raw);
  const cfg: ModelConfig = { ...DEFAULT_MODEL_CONFIG };
  for (const key of Object.keys(RULES) as (keyof ModelConfig)[]) cfg[key] = given[key] ?? cfg[key];
  const problems: string[] = [];
  if (cfg.dModel % cfg.nHeads !== 0) problems.push(`dModel (${cfg.dModel}) must be a multiple of nHeads (${cfg.nHeads})`);
  if (cfg.maxNewTokens >= cfg.contextLength) {
    problems.push(`maxNewTokens (${cfg.maxNewTokens}) must leave room for a prompt in contextLength (${cfg.contextLength})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}
