// The README and the Python script of the TRL hand-off zip, filled in with this run's facts (its
// model folders, its label counts, the model's sizes). The script trains with TRL 1.x's current API
// (RewardTrainer, DPOTrainer, GRPOTrainer, RLOOTrainer, each with `processing_class`; datasets in
// TRL's standard preference and prompt-only formats) starting from exactly the exported folders.
import type { ModelConfig } from '../config/model';

export interface HandOffFacts {
  /** Policy folders in the zip, the first being the script's default ("policy-ppo", then "policy-base"). */
  policies: string[];
  /** What wrote each policy ("PPO after 40 iterations"). */
  policyNotes: Record<string, string>;
  rewardModel: string;
  preferences: number;
  ties: number;
  config: ModelConfig;
  /** When the zip was made (ISO). */
  createdAt: string;
}

/** The script's name in the zip. */
export const SCRIPT_NAME = 'train_trl.py';

/** The Python script (Python 3.10+, `pip install trl`). */
export function trainScript(f: HandOffFacts): string {
  const policies = JSON.stringify(f.policies);
  return `"""Train this RLHF Playground run further with Hugging Face TRL, starting from its own models.

Made by RLHF Playground on ${f.createdAt}. Needs Python 3.10+ and \`pip install trl\` (it brings
transformers, datasets, accelerate and torch). Examples:

    python ${SCRIPT_NAME} reward                # RewardTrainer on preferences.jsonl, from ${f.rewardModel}/
    python ${SCRIPT_NAME} dpo                   # DPOTrainer on preferences.jsonl, from the policy
    python ${SCRIPT_NAME} grpo --reward out/reward-model   # GRPO against a reward model
    python ${SCRIPT_NAME} rloo                  # RLOO against ${f.rewardModel}/
    python ${SCRIPT_NAME} all                   # reward, then dpo and grpo against the new reward model

On a cluster, run it with \`accelerate launch ${SCRIPT_NAME} ...\` (DeepSpeed through accelerate's config).
"""
import argparse
from pathlib import Path

import torch
from datasets import Dataset, load_dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from trl import DPOConfig, DPOTrainer, GRPOConfig, GRPOTrainer, RewardConfig, RewardTrainer, RLOOConfig, RLOOTrainer

HERE = Path(__file__).resolve().parent
POLICIES = ${policies}  # the first is the default: the policy the page trained last
REWARD_MODEL = HERE / "${f.rewardModel}"
MAX_LENGTH = ${f.config.contextLength}  # the model's context (n_positions): prompt + completion
MAX_NEW_TOKENS = ${f.config.maxNewTokens}  # as the page samples


def preferences():
    """The labels in TRL's standard preference format (prompt, chosen, rejected; ties are in ties.jsonl)."""
    return load_dataset("json", data_files=str(HERE / "preferences.jsonl"), split="train")


def prompts():
    """The labelled prompts, once each, in TRL's prompt-only format (for GRPO and RLOO)."""
    return Dataset.from_dict({"prompt": sorted(set(preferences()["prompt"]))})


def common(args, name):
    return dict(
        output_dir=str(args.out / name),
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=args.seed,
        bf16=torch.cuda.is_available(),  # TRL's default, bf16, needs a GPU: plain float32 on a CPU
        use_cpu=not torch.cuda.is_available(),
    )


def train_reward(args):
    tokenizer = AutoTokenizer.from_pretrained(REWARD_MODEL)
    model = AutoModelForSequenceClassification.from_pretrained(REWARD_MODEL, num_labels=1)
    config = RewardConfig(**common(args, "reward-model"), learning_rate=1e-4, weight_decay=0.1, max_length=MAX_LENGTH)
    trainer = RewardTrainer(model=model, args=config, train_dataset=preferences(), processing_class=tokenizer)
    trainer.train()
    trainer.save_model()
    tokenizer.save_pretrained(config.output_dir)
    return Path(config.output_dir)


def train_dpo(args):
    tokenizer = AutoTokenizer.from_pretrained(args.policy)
    config = DPOConfig(**common(args, "dpo"), learning_rate=1e-4, beta=0.1, max_length=MAX_LENGTH)
    trainer = DPOTrainer(model=str(args.policy), args=config, train_dataset=preferences(), processing_class=tokenizer)
    trainer.train()
    trainer.save_model()
    tokenizer.save_pretrained(config.output_dir)


def train_online(args, method):
    tokenizer = AutoTokenizer.from_pretrained(args.policy)
    reward_tokenizer = AutoTokenizer.from_pretrained(args.reward)
    Config, Trainer = (GRPOConfig, GRPOTrainer) if method == "grpo" else (RLOOConfig, RLOOTrainer)
    config = Config(**common(args, method), learning_rate=1e-4, beta=0.05, num_generations=4, max_completion_length=MAX_NEW_TOKENS)
    trainer = Trainer(
        model=str(args.policy),
        reward_funcs=str(args.reward),
        args=config,
        train_dataset=prompts(),
        processing_class=tokenizer,
        reward_processing_classes=reward_tokenizer,
    )
    trainer.train()
    trainer.save_model()
    tokenizer.save_pretrained(config.output_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("method", choices=["reward", "dpo", "grpo", "rloo", "all"])
    parser.add_argument("--policy", type=Path, default=HERE / POLICIES[0], help="a policy folder (default: %(default)s)")
    parser.add_argument("--reward", type=Path, default=REWARD_MODEL, help="a reward-model folder for grpo/rloo (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--max-steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.method in ("reward", "all"):
        trained = train_reward(args)
        if args.method == "all":
            args.reward = trained
    if args.method in ("dpo", "all"):
        train_dpo(args)
    if args.method in ("grpo", "rloo", "all"):
        train_online(args, "grpo" if args.method == "all" else args.method)


if __name__ == "__main__":
    main()
`;
}

/** The zip's README.md. */
export function readme(f: HandOffFacts): string {
  const c = f.config;
  const policyLines = f.policies.map((p) => `- \`${p}/\`: ${f.policyNotes[p] ?? ''} (\`GPT2LMHeadModel\`)`).join('\n');
  return `# RLHF Playground: TRL hand-off

Made on ${f.createdAt}. This folder holds one run of the page, ready for Hugging Face TRL:

${policyLines}
- \`${f.rewardModel}/\`: the page's reward model (\`GPT2ForSequenceClassification\`, \`num_labels: 1\`)
- \`preferences.jsonl\`: ${f.preferences} labels in TRL's standard preference format
- \`ties.jsonl\`: ${f.ties} ties (not preferences: no \`chosen\`/\`rejected\`, so no TRL trainer reads them as one)
- \`${SCRIPT_NAME}\`: trains with RewardTrainer, then DPO, GRPO or RLOO, from exactly these folders

Each model folder is a transformers folder: \`config.json\` (GPT-2: ${c.nLayers} layers, ${c.nHeads} heads,
d = ${c.dModel}, ${c.contextLength} positions, ${c.vocabSize} tokens, \`activation_function: "gelu_new"\`,
\`tie_word_embeddings: false\`), \`model.safetensors\` (float32) and a word-level \`tokenizer.json\`
(\`<pad>\` = 0, \`<eos>\` = 1, which also starts every text, as on the page).

## Quick start

    python3 -m venv venv && venv/bin/pip install trl
    venv/bin/python ${SCRIPT_NAME} all --max-steps 200

## What the files mean

- \`prompt + chosen\` is exactly the text the page showed: each completion starts with the
  separating space (\`{"prompt": "the pizza was", "chosen": " great.", ...}\`), as TRL expects.
  Extra columns (\`id\`, \`chosen_position\`, \`annotator\`, \`annotator_preset\`, \`model\`,
  \`model_steps\`, \`time\`) say who labelled the pair, which model wrote it and when; TRL ignores them.
- A completion that hit the page's ${c.maxNewTokens}-token budget ends in "…"; the tokenizer drops that mark.
  TRL appends \`<eos>\` to every completion, as the page does for completions that ended.
- The policies load with \`AutoModelForCausalLM\` and give the page's log-probabilities (checked
  to 1e-4 by the project's \`npm run check:trl\`). transformers numbers positions from 0 at the
  first token, so feed sequences unpadded or right-padded (the page counts positions from the
  first real token).
- The reward model: the page scores a completion by the sum of a per-token score over its tokens
  (bias included); \`GPT2ForSequenceClassification\` scores the last real token, with no bias. The
  exported one keeps the page's fine-tuned trunk and its score head (\`score.weight\`), so it is a
  warm start: run \`${SCRIPT_NAME} reward\` before using it as GRPO's or RLOO's reward.
- Every file, labels included, came from your browser; nothing was uploaded anywhere.
`;
}
