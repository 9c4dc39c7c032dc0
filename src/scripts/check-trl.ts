// npm run check:trl: the TRL hand-off, end to end, outside the browser (issue 12). Trains a few
// PPO iterations headless with the page's own Run (as src/scripts/experiment.ts does), builds the
// hand-off zip with the worker's code (src/lib/export/trl-zip.ts), unzips it, installs TRL into a
// scratch venv and, from the exported folders:
//   1. checks that the Hugging Face tokenizer gives our token ids, and that transformers'
//      log-probabilities of 20 completions of the trained policy match ours within 1e-4;
//   2. loads preferences.jsonl with `datasets` and checks that prompt + chosen is the text shown;
//   3. runs the zip's own train_trl.py for 2 steps each of RewardTrainer, DPOTrainer and GRPOTrainer.
// Not in CI: the install alone takes minutes. Options: --venv DIR reuses (or makes) a venv there,
// --iterations N PPO iterations first (default 3), --keep leaves the scratch folder.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { unzipSync } from 'fflate';
import { Tokenizer } from '../lib/data/tokenizer';
import { generatePrompts } from '../lib/data/corpus';
import { Rng } from '../lib/math/rng';
import { completionLogProbs } from '../lib/model/lm';
import { loadGpt, WEIGHTS_FILE } from '../lib/model/io';
import { SimulatedAnnotator } from '../lib/rl/annotators';
import type { Label } from '../lib/rl/preferences';
import { Run, runSettings } from '../lib/rl/run';
import { completionIds, encodeBatch } from '../lib/rl/sequences';
import { trlZip, ZIP_ROOT } from '../lib/export/trl-zip';
import { SCRIPT_NAME } from '../lib/export/trl-files';
import { initNodeBackend } from './node-backend';

const { values: opts } = parseArgs({
  options: { venv: { type: 'string' }, iterations: { type: 'string', default: '3' }, keep: { type: 'boolean', default: false } },
  strict: true,
});
const iterations = Number(opts.iterations);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations needs a whole number >= 1, got "${opts.iterations}"`);

/** Labels the simulated annotator gives before PPO trains: enough for DPO's and the RM's 2 steps of batch 8. */
const LABELS = 16;
/** Completions whose log-probabilities are compared (issue 12). */
const COMPARED = 20;
/** The largest |ours - transformers'| accepted, in nats per completion (float32 through 2 layers is ~1e-6). */
const TOLERANCE = 1e-4;
const SEED = 1;

const started = Date.now();
const log = (m: string) => console.log(`[check:trl ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}`);

// ---- 1. a trained run, headless ----
const backend = await initNodeBackend();
const dir = 'public/models/base';
const { model: base } = loadGpt(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')), readFileSync(join(dir, WEIGHTS_FILE)));
const tokenizer = Tokenizer.fromVocab(JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')));
const run = new Run(base, tokenizer, new Rng(SEED), runSettings());
const annotator = new SimulatedAnnotator({ preset: 'positive', word: '', noise: 0.1, tieRule: 'random', grammar: true }, tokenizer.vocab);
const rng = run.stream('annotator');
const labels: Label[] = [];
for (let i = 0; i < LABELS; i++) {
  const pair = await run.makePair(null);
  const choice = annotator.label(pair.prompt, pair.a, pair.b, rng);
  const label: Label = { id: `check-${i}`, prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice, source: 'simulated', preset: 'positive', time: Date.now(), origin: { from: pair.from, steps: pair.steps } };
  labels.push(label);
  await run.learn([label]);
}
log(`${backend}: ${labels.length} labels by the simulated annotator (${labels.filter((l) => l.choice === 'tie').length} ties)`);
run.setEnabled(['ppo']);
for (let i = 0; i < iterations; i++) {
  const { metrics } = await run.step('ppo');
  log(`PPO iteration ${i + 1}: objective/scores ${metrics['objective/scores']?.toFixed(3)}, objective/kl ${metrics['objective/kl']?.toFixed(3)}`);
}
const policy = run.trainer('ppo')!.policy!;

// Our log-probabilities of 20 completions of the trained policy (the page's own code path).
const prompts = generatePrompts(COMPARED, 7);
const completions = await run.trainer('ppo')!.complete(prompts, new Rng(11));
const batch = encodeBatch(tokenizer, prompts, completions);
const ours = tf.tidy(() => completionLogProbs(policy, tf.tensor2d(batch.ids, [batch.batch, batch.width], 'int32'), batch.promptWidth).total.arraySync() as number[]);
const cases = prompts.map((prompt, i) => ({
  prompt,
  completion: completions[i],
  ids: [...tokenizer.encodePrompt(prompt), ...completionIds(tokenizer, completions[i])],
  promptLength: tokenizer.encodePrompt(prompt).length,
  logprob: ours[i],
}));

// ---- 2. the hand-off zip, unzipped ----
const zip = await trlZip({ base, rewardModel: run.rewardModel.primary, vocab: tokenizer.vocab, trained: [{ name: 'ppo', note: `PPO after ${iterations} steps`, model: policy }] }, labels);
const scratch = mkdtempSync(join(tmpdir(), 'check-trl-'));
for (const [path, bytes] of Object.entries(unzipSync(zip.bytes))) {
  if (path.endsWith('/')) continue;
  mkdirSync(dirname(join(scratch, path)), { recursive: true });
  writeFileSync(join(scratch, path), bytes);
}
const root = join(scratch, ZIP_ROOT);
writeFileSync(join(root, 'cases.json'), JSON.stringify(cases));
log(`zip of ${(zip.bytes.length / 1024).toFixed(0)} kB: ${zip.models.join(', ')}, ${zip.preferences} preference lines, ${zip.ties} ties -> ${root}`);

// ---- 3. TRL in a venv ----
const venv = opts.venv ?? join(scratch, 'venv');
const python = join(venv, 'bin', 'python');
if (!existsSync(python)) {
  log(`creating a venv in ${venv} and installing trl (a few minutes)`);
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--retries', '0', 'trl'], { stdio: 'inherit' });
}
const versions = execFileSync(python, ['-c', 'import trl, transformers, torch, datasets; print(f"trl {trl.__version__}, transformers {transformers.__version__}, torch {torch.__version__}, datasets {datasets.__version__}")'], { encoding: 'utf8' }).trim();
log(versions);

const CHECK = `
import json, sys
import torch
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer
root = sys.argv[1]
cases = json.load(open(f"{root}/cases.json"))
tok = AutoTokenizer.from_pretrained(f"{root}/policy-ppo")
model = AutoModelForCausalLM.from_pretrained(f"{root}/policy-ppo").eval()
worst = 0.0
for c in cases:
    text = c["prompt"] + (" " + c["completion"] if c["completion"] else "") + tok.eos_token
    ids = tok(text)["input_ids"]
    if c["completion"].endswith("…"):
        ids = ids[:-1]  # a truncated completion has no EOS on the page
    assert ids == c["ids"], f"token ids differ for {text!r}: {ids} vs ours {c['ids']}"
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0]
    logp = torch.log_softmax(logits.double(), -1)
    p = c["promptLength"]
    total = sum(logp[t - 1, ids[t]].item() for t in range(p, len(ids)))
    worst = max(worst, abs(total - c["logprob"]))
print(f"log-probs of {len(cases)} completions: largest difference {worst:.2e} nats (ours vs transformers)")
assert worst < ${TOLERANCE}, "log-probs differ by more than ${TOLERANCE}"
rm = AutoModelForSequenceClassification.from_pretrained(f"{root}/reward-model")
print(f"reward model loads as {type(rm).__name__} with num_labels={rm.config.num_labels}, pad_token_id={rm.config.pad_token_id}")
ds = load_dataset("json", data_files=f"{root}/preferences.jsonl", split="train")
labels = {l["id"]: l for l in json.load(open(f"{root}/labels.json"))}
for row in ds:
    l = labels[row["id"]]
    shown = l["completionB"] if row.get("chosen_position") == "B" else l["completionA"]
    assert row["prompt"] + row["chosen"] == (l["prompt"] + " " + shown if shown else l["prompt"]), row
print(f"datasets read {len(ds)} preference rows, columns {ds.column_names}; prompt + chosen is the text shown on every row")
`;
writeFileSync(join(root, 'check.py'), CHECK);
writeFileSync(join(root, 'labels.json'), JSON.stringify(labels));
const py = (args: string[]) => execFileSync(python, args, { cwd: root, stdio: 'inherit', env: { ...process.env, TOKENIZERS_PARALLELISM: 'false', HF_HUB_OFFLINE: '1' } });
py(['check.py', root]);
log('RewardTrainer, 2 steps:');
py([SCRIPT_NAME, 'reward', '--max-steps', '2', '--batch-size', '8']);
log('DPOTrainer, 2 steps:');
py([SCRIPT_NAME, 'dpo', '--max-steps', '2', '--batch-size', '8']);
log('GRPOTrainer, 2 steps against the exported reward model:');
py([SCRIPT_NAME, 'grpo', '--max-steps', '2', '--batch-size', '8']);
log('all checks passed');
run.dispose();
if (!opts.keep) rmSync(scratch, { recursive: true, force: true });
