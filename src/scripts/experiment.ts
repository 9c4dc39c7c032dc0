// npm run experiment -- --labels 50 --noise 0.1 --annotator positive --seeds 3 --json FILE
// Runs the page's own RLHF loop headless with a simulated annotator (src/lib/rl/experiment.ts on
// src/lib/rl/run.ts), prints a table (means over seeds per method) and writes every run to FILE as
// {"runs":[...]}. More options:
//   --methods ppo,grpo,...        registry names (default: every method; none: the reward model only)
//   --iterations N                iterations of each online method
//   --best-of 4,16,64             the N of the best-of-N rows
//   --set ppo.targetKl=3,grpo.beta=0.02   method settings, by the keys the page address uses
//   --ppo JSON (any registry name) a method's settings, e.g. --ppo '{"lr":1e-4}' (its fields' rules)
//   --reward JSON                 reward-model recipe overrides, e.g. '{"lr":5e-5}'
//   --pairs JSON                  pair selection overrides, e.g. '{"selection":"most-different"}'
//   --refit-every N               labels between refits (the page's ?refitEvery)
//   --gold grammar|blind          what the annotator's gold sees (blind: the preference alone, as before issue 9)
//   --word W (for --annotator mentions), --backend wasm|cpu, --first-seed N, --model DIR
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkField, checkNumber, fieldRules, int } from '../lib/config/fields';
import { DEFAULT_EXPERIMENT, type ExperimentConfig } from '../lib/config/experiment';
import { DEFAULT_REWARD, REWARD_RULES } from '../lib/config/reward';
import { DEFAULT_PAIRS, DEFAULT_REWARD_SETTINGS, GOLD_KINDS, PAIR_RULES, type GoldKind } from '../lib/config/run';
import { ANNOTATOR_FIELDS, REWARD_FIELDS } from '../lib/config/url';
import { Tokenizer } from '../lib/data/tokenizer';
import { mean } from '../lib/math/stats';
import { loadGpt, WEIGHTS_FILE } from '../lib/model/io';
import { ANNOTATOR_PRESETS, type AnnotatorPreset } from '../lib/rl/annotators';
import { Experiment, type MethodResult } from '../lib/rl/experiment';
import { isMethodName, METHOD_NAMES, METHODS } from '../lib/rl/methods/registry';
import { defaultMethodConfigs, runSettings } from '../lib/rl/run';
import { parseArgs, patchConfig } from './args';
import { initNodeBackend, type NodeBackend } from './node-backend';

/** The N of best-of-N: one sample (the base model) up to what one sampling call keeps fast. */
const BEST_OF_RULE = int(1, 1024);
const METHOD_OPTIONS = Object.fromEntries(METHOD_NAMES.map((name) => [name, 'string' as const]));
const args = parseArgs(process.argv.slice(2), {
  labels: int(0, 100_000), noise: ANNOTATOR_FIELDS.noise.rule, annotator: 'string', gold: 'string', word: 'string', seeds: int(1, 100), 'first-seed': int(0, 0xffffffff), json: 'string',
  iterations: int(0, 100_000), methods: 'string', 'best-of': 'string', set: 'string', reward: 'string', pairs: 'string', 'refit-every': REWARD_FIELDS.refitEvery.rule, backend: 'string', model: 'string',
  ...METHOD_OPTIONS,
});
// --methods none: labels and the reward model only (its held-out accuracy).
const methods = args.methods === 'none' ? [] : (args.methods?.split(',') ?? DEFAULT_EXPERIMENT.methods.filter(isMethodName));
for (const m of methods) if (!isMethodName(m)) throw new Error(`unknown method "${m}"; known: ${METHOD_NAMES.join(', ')}`);
if (args.annotator && !ANNOTATOR_PRESETS.includes(args.annotator as AnnotatorPreset)) {
  throw new Error(`unknown annotator "${args.annotator}"; known: ${ANNOTATOR_PRESETS.join(', ')}`);
}
// --ppo '{"lr":1e-4}', then --set ppo.targetKl=3: each value is checked by the method's own field rules, as the page address is.
const configs = defaultMethodConfigs();
for (const name of METHOD_NAMES) {
  const json = (args as Record<string, unknown>)[name];
  configs[name] = patchConfig(name, typeof json === 'string' ? json : undefined, configs[name], fieldRules(METHODS[name].fields));
}
for (const item of args.set ? args.set.split(',') : []) {
  const [key, raw] = item.split('=');
  const [method, field] = key.split('.');
  const spec = isMethodName(method) ? METHODS[method] : undefined;
  const f = spec?.fields.find((x) => x.key === field);
  if (!spec || !f || raw === undefined) throw new Error(`--set: no setting "${key}" (use method.field=value, e.g. ppo.targetKl=3)`);
  const parsed = checkField(f, raw);
  if (!parsed.ok) throw new Error(`--set ${key}: ${parsed.why}`);
  configs[method as keyof typeof configs][field] = parsed.value;
}
/** One N of --best-of 4,16,64: a whole number of samples, by the same rule as a form's. */
function readBestOf(raw: string): number {
  const parsed = checkNumber(raw, BEST_OF_RULE);
  if (!parsed.ok) throw new Error(`--best-of: ${parsed.why}, got "${raw}"`);
  return parsed.value;
}
if (args.gold && !(GOLD_KINDS as readonly string[]).includes(args.gold)) throw new Error(`--gold: use one of ${GOLD_KINDS.join(', ')}`);
const cfg: ExperimentConfig = {
  ...DEFAULT_EXPERIMENT,
  labels: args.labels ?? DEFAULT_EXPERIMENT.labels,
  noise: args.noise ?? DEFAULT_EXPERIMENT.noise,
  annotator: (args.annotator as AnnotatorPreset | undefined) ?? DEFAULT_EXPERIMENT.annotator,
  word: args.word,
  gold: (args.gold as GoldKind | undefined) ?? DEFAULT_EXPERIMENT.gold,
  iterations: args.iterations ?? DEFAULT_EXPERIMENT.iterations,
  bestOfN: args['best-of']?.split(',').map(readBestOf) ?? DEFAULT_EXPERIMENT.bestOfN,
  methods,
};
const rewardSettings = { ...DEFAULT_REWARD_SETTINGS, refitEvery: args['refit-every'] ?? DEFAULT_REWARD_SETTINGS.refitEvery };
const settings = runSettings(rewardSettings, patchConfig('pairs', args.pairs, DEFAULT_PAIRS, PAIR_RULES), configs);
settings.reward = patchConfig('reward', args.reward, settings.reward, REWARD_RULES);
const seeds = args.seeds ?? 3;
const firstSeed = args['first-seed'] ?? 1;
const backend = await initNodeBackend(args.backend as NodeBackend | undefined);

const dir = args.model ?? 'public/models/base';
const { model: base } = loadGpt(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')), readFileSync(join(dir, WEIGHTS_FILE)));
const tokenizer = Tokenizer.fromVocab(JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')));
const changed = Object.keys(DEFAULT_REWARD).filter((k) => settings.reward[k as keyof typeof DEFAULT_REWARD] !== DEFAULT_REWARD[k as keyof typeof DEFAULT_REWARD]);
console.log(`settings: --set ${args.set ?? 'none'}; reward ${changed.map((k) => `${k}=${settings.reward[k as keyof typeof DEFAULT_REWARD]}`).join(' ') || 'defaults'}; pairs ${JSON.stringify(settings.pairs)}; refit every ${settings.refitEvery}`);
console.log(`experiment on ${backend}: ${cfg.labels} labels, noise ${cfg.noise}, annotator ${cfg.annotator}${cfg.word ? ` (${cfg.word})` : ''}, ${cfg.gold} gold, ${cfg.iterations} iterations per online method, seeds ${firstSeed}..${firstSeed + seeds - 1}`);
const experiment = new Experiment(base, tokenizer, cfg, settings, (m) => console.log(m));
const baseline = await experiment.baseline();
console.log(`base model: gold score ${baseline.goldScore.toFixed(2)}, grammatical ${baseline.grammatical.toFixed(3)}, repeats ${baseline.repeats.toFixed(2)}, distinct ${baseline.distinct.toFixed(2)}, length ${baseline.length.toFixed(1)}`);

const runs: MethodResult[] = [];
const write = () => {
  if (!args.json) return;
  const { completions: _c, ...base } = baseline;
  const json = { config: cfg, settings, backend, baseline: base, rewardModels: experiment.rewardModels, runs: runs.map(({ examples: _e, ...r }) => r), examples: runs.map((r) => ({ method: r.method, seed: r.seed, examples: r.examples })) };
  writeFileSync(args.json, JSON.stringify(json, null, 1) + '\n');
};
for (let s = firstSeed; s < firstSeed + seeds; s++) {
  await experiment.run(s, (r) => {
    console.log(`  seed ${s} ${r.method.padEnd(11)} win ${r.goldWinRate.toFixed(3)} (blind ${r.blindWinRate.toFixed(3)}) gold ${r.goldScore.toFixed(2)} grammatical ${r.grammatical.toFixed(3)} repeats ${r.repeats.toFixed(2)} KL ${r.klPerSequence.toFixed(2)} distinct ${r.distinct.toFixed(2)} length ${r.length.toFixed(1)} (${r.seconds.toFixed(0)} s)  e.g. "${r.examples[0]}"`);
    runs.push(r);
    write();
  });
}

const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
console.log(`\n| method | seeds | RM acc | gold win rate | blind win rate | gold score | grammatical | repeats | KL/seq | distinct | length | s |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|`);
console.log(`| base | - | - | 0.5 | 0.5 | ${baseline.goldScore.toFixed(2)} | ${baseline.grammatical.toFixed(3)} | ${baseline.repeats.toFixed(2)} | 0 | ${baseline.distinct.toFixed(2)} | ${baseline.length.toFixed(1)} | - |`);
for (const m of [...new Set(runs.map((r) => r.method))]) {
  const rs = runs.filter((r) => r.method === m);
  const col = (f: (r: MethodResult) => number, digits = 3) => `${mean(rs.map(f)).toFixed(digits)} (${range(rs.map(f), digits)})`;
  console.log(`| ${m} | ${rs.length} | ${col((r) => r.rmAccuracy)} | ${col((r) => r.goldWinRate)} | ${col((r) => r.blindWinRate)} | ${col((r) => r.goldScore, 2)} | ${col((r) => r.grammatical)} | ${col((r) => r.repeats, 2)} | ${col((r) => r.klPerSequence, 2)} | ${col((r) => r.distinct, 2)} | ${col((r) => r.length, 1)} | ${mean(rs.map((r) => r.seconds)).toFixed(0)} |`);
}
const rms = experiment.rewardModels;
console.log(`reward model: held-out accuracy ${mean(rms.map((r) => r.rmAccuracy)).toFixed(3)} (${range(rms.map((r) => r.rmAccuracy), 3)}), labels and RM ${mean(rms.map((r) => r.rmSeconds)).toFixed(0)} s per seed`);
if (args.json) console.log(`\nwrote ${args.json}`);
