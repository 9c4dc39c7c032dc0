// npm run pretrain: trains the base model from a fixed seed on the procedural corpus and writes
// public/models/base/ (model.json, weights.bin, vocab.json, training-log.json), which the page ships.
// Options: --steps N, --seed N, --out DIR, --backend wasm|cpu.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { int } from '../lib/config/fields';
import { DEFAULT_MODEL_CONFIG } from '../lib/config/model';
import { DEFAULT_PRETRAIN, type PretrainConfig } from '../lib/config/pretrain';
import { Tokenizer } from '../lib/data/tokenizer';
import { Rng } from '../lib/math/rng';
import { createGpt } from '../lib/model/gpt';
import { saveGpt, WEIGHTS_FILE } from '../lib/model/io';
import { countParams } from '../lib/model/params';
import { Pretrainer } from '../lib/model/pretrain';
import { sampleCompletions } from '../lib/model/sample';
import { initNodeBackend, type NodeBackend } from './node-backend';
import { parseArgs } from './args';

const args = parseArgs(process.argv.slice(2), { steps: int(1, 10_000_000), seed: int(0, 0xffffffff), out: 'string', backend: 'string' });
const cfg: PretrainConfig = { ...DEFAULT_PRETRAIN, steps: args.steps ?? DEFAULT_PRETRAIN.steps, seed: args.seed ?? DEFAULT_PRETRAIN.seed };
const outDir = args.out ?? 'public/models/base';
const backend = await initNodeBackend(args.backend as NodeBackend | undefined);

const tokenizer = new Tokenizer();
const config = { ...DEFAULT_MODEL_CONFIG, vocabSize: tokenizer.size };
const model = createGpt(config, new Rng(cfg.seed).fork('init'), 'base');
console.log(`pretraining on ${backend}: ${countParams(model.params)} parameters, vocabulary ${tokenizer.size}, ${cfg.steps} steps of ${cfg.batchSize} x ${config.contextLength + 1} tokens, seed ${cfg.seed}`);
const trainer = new Pretrainer(model, cfg, tokenizer);
const log = await trainer.run((e) => {
  console.log(`step ${String(e.step).padStart(5)}  ${e.seconds.toFixed(1).padStart(6)} s  train ${e.trainLoss.toFixed(4)}  val ${e.valLoss.toFixed(4)} nats/token`);
});
const final = log[log.length - 1];

const samples = await sampleCompletions(model, Array.from({ length: 12 }, () => tokenizer.encodePrompt('')), { rng: new Rng(cfg.seed).fork('samples') });
const texts = samples.completions.map((c) => tokenizer.decode(c));
texts.forEach((t) => console.log(`  | ${t}`));

const meta = { seed: cfg.seed, steps: cfg.steps, backend, validationLoss: final.valLoss, seconds: final.seconds, pretrainConfig: cfg };
const { manifest, weights } = await saveGpt(model, meta);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'model.json'), JSON.stringify(manifest, null, 1) + '\n');
writeFileSync(join(outDir, WEIGHTS_FILE), weights);
writeFileSync(join(outDir, 'vocab.json'), JSON.stringify(tokenizer.vocab) + '\n');
writeFileSync(join(outDir, 'training-log.json'), JSON.stringify({ backend, config: cfg, log, samples: texts }, null, 1) + '\n');
console.log(`final validation loss ${final.valLoss.toFixed(4)} nats/token after ${final.seconds.toFixed(1)} s; wrote ${outDir} (${weights.byteLength} bytes of weights)`);
trainer.dispose();
tf.disposeVariables();
