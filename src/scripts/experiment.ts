// npm run experiment -- --labels 50 --noise 0.1 --annotator positive --seeds 3 --json FILE
// Runs the whole RLHF loop headless with a simulated annotator (src/lib/rl/experiment.ts), prints
// a table (means over seeds per method) and writes every run to FILE as {"runs":[...]}.
// More options: --ppo-iterations N, --selection random|most-different|disagreement, --rounds N,
// --methods ppo,best-of-n,dpo,sft, --word W (for --annotator mentions), --backend wasm|cpu, --first-seed N,
// --ppo JSON (PPO overrides, e.g. '{"targetKl":3}'), --reward JSON, --dpo JSON (reward-model and DPO overrides), --model DIR (another base model).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PPO } from '../lib/config/ppo';
import { DEFAULT_REWARD } from '../lib/config/reward';
import { DEFAULT_EXPERIMENT, METHODS, type ExperimentConfig, type Method, type PairSelection } from '../lib/config/experiment';
import { Tokenizer } from '../lib/data/tokenizer';
import { loadGpt, WEIGHTS_FILE } from '../lib/model/io';
import { ANNOTATOR_PRESETS, type AnnotatorPreset } from '../lib/rl/annotators';
import { DEFAULT_DPO } from '../lib/rl/dpo';
import { Experiment, type MethodResult } from '../lib/rl/experiment';
import { mean } from '../lib/math/stats';
import { parseArgs, patchConfig } from './args';
import { initNodeBackend, type NodeBackend } from './node-backend';

const args = parseArgs(process.argv.slice(2), {
  labels: 'int', noise: 'number', annotator: 'string', word: 'string', seeds: 'int', 'first-seed': 'int', json: 'string',
  'ppo-iterations': 'int', selection: 'string', rounds: 'int', methods: 'string', backend: 'string', model: 'string', ppo: 'string', reward: 'string', dpo: 'string',
});
// --ppo '{"targetKl":3}', --reward '{"ensembleSize":3}' and --dpo '{"lr":3e-5}' override those defaults.
const ppoConfig = patchConfig('ppo', args.ppo, DEFAULT_PPO);
const rewardConfig = patchConfig('reward', args.reward, DEFAULT_REWARD);
const dpoConfig = patchConfig('dpo', args.dpo, DEFAULT_DPO);
const methods = (args.methods?.split(',') ?? METHODS) as Method[];
for (const m of methods) if (!METHODS.includes(m)) throw new Error(`unknown method "${m}"; known: ${METHODS.join(', ')}`);
if (args.annotator && !ANNOTATOR_PRESETS.includes(args.annotator as AnnotatorPreset)) {
  throw new Error(`unknown annotator "${args.annotator}"; known: ${ANNOTATOR_PRESETS.join(', ')}`);
}
const selections: PairSelection[] = ['random', 'most-different', 'disagreement'];
if (args.selection && !selections.includes(args.selection as PairSelection)) throw new Error(`--selection must be one of ${selections.join(', ')}`);
const cfg: ExperimentConfig = {
  ...DEFAULT_EXPERIMENT,
  labels: args.labels ?? DEFAULT_EXPERIMENT.labels,
  noise: args.noise ?? DEFAULT_EXPERIMENT.noise,
  annotator: (args.annotator as AnnotatorPreset | undefined) ?? DEFAULT_EXPERIMENT.annotator,
  word: args.word,
  ppoIterations: args['ppo-iterations'] ?? DEFAULT_EXPERIMENT.ppoIterations,
  selection: (args.selection as PairSelection | undefined) ?? DEFAULT_EXPERIMENT.selection,
  rounds: args.rounds ?? DEFAULT_EXPERIMENT.rounds,
  methods,
};
const seeds = args.seeds ?? 3;
const firstSeed = args['first-seed'] ?? 1;
const backend = await initNodeBackend(args.backend as NodeBackend | undefined);

const dir = args.model ?? 'public/models/base';
const { model: base } = loadGpt(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')), readFileSync(join(dir, WEIGHTS_FILE)));
const tokenizer = Tokenizer.fromVocab(JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')));
console.log(`overrides: PPO ${args.ppo ?? 'none'}; reward model ${args.reward ?? 'none'}; DPO ${args.dpo ?? 'none'}`);
console.log(`experiment on ${backend}: ${cfg.labels} labels, noise ${cfg.noise}, annotator ${cfg.annotator}${cfg.word ? ` (${cfg.word})` : ''}, selection ${cfg.selection}, ${cfg.rounds} round(s), ${cfg.ppoIterations} PPO iterations, seeds ${firstSeed}..${firstSeed + seeds - 1}`);
const experiment = new Experiment(base, tokenizer, cfg, { log: (m) => console.log(m), ppo: ppoConfig, reward: rewardConfig, dpo: dpoConfig });
const baseline = await experiment.baseline();
console.log(`base model: gold score ${baseline.goldScore.toFixed(2)}, distinct ${baseline.distinct.toFixed(2)}`);

const runs: MethodResult[] = [];
for (let s = firstSeed; s < firstSeed + seeds; s++) {
  const results = await experiment.run(s);
  for (const r of results) {
    console.log(`  seed ${s} ${r.method.padEnd(9)} win ${r.goldWinRate.toFixed(3)} gold ${r.goldScore.toFixed(2)} KL ${r.klPerSequence.toFixed(2)} distinct ${r.distinct.toFixed(2)} (${r.seconds.toFixed(0)} s)  e.g. "${r.examples[0]}"`);
  }
  runs.push(...results);
  if (args.json) writeFileSync(args.json, JSON.stringify({ config: cfg, ppo: ppoConfig, reward: rewardConfig, dpo: dpoConfig, backend, baseline, runs: runs.map(({ examples: _e, ...r }) => r), examples: runs.map((r) => ({ method: r.method, seed: r.seed, examples: r.examples })) }, null, 1) + '\n');
}

const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
console.log(`\n| method | seeds | RM acc | gold win rate | gold score | KL/seq | distinct | s |`);
console.log(`|---|---|---|---|---|---|---|---|`);
console.log(`| base | - | - | 0.5 | ${baseline.goldScore.toFixed(2)} | 0 | ${baseline.distinct.toFixed(2)} | - |`);
for (const m of methods) {
  const rs = runs.filter((r) => r.method === m);
  if (rs.length === 0) continue;
  const col = (f: (r: MethodResult) => number, digits = 3) => `${mean(rs.map(f)).toFixed(digits)} (${range(rs.map(f))})`;
  console.log(`| ${m} | ${rs.length} | ${col((r) => r.rmAccuracy)} | ${col((r) => r.goldWinRate)} | ${col((r) => r.goldScore, 2)} | ${col((r) => r.klPerSequence, 2)} | ${col((r) => r.distinct, 2)} | ${mean(rs.map((r) => r.seconds)).toFixed(0)} |`);
}
if (args.json) console.log(`\nwrote ${args.json}`);
