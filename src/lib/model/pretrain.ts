// Next-token pretraining of the base model on the procedural corpus (reference/prototype2/
// pretrain_w.py): windows of contextLength + 1 tokens cut from a stream of reviews, each review
// followed by EOS, AdamW with warm-up and linear decay, gradient clipping at 1.
import * as tf from '@tensorflow/tfjs-core';
import type { PretrainConfig } from '../config/pretrain';
import { generateCorpus } from '../data/corpus';
import { EOS_ID, type Tokenizer } from '../data/tokenizer';
import { Rng } from '../math/rng';
import type { Gpt } from './gpt';
import { lmLoss } from './lm';
import { AdamW } from './optim';

/** One batch of windows [batchSize, width] (row-major): each starts with EOS, then whole reviews. */
export function makeWindows(docs: readonly number[][], batchSize: number, width: number, rng: Rng): Int32Array {
  const out = new Int32Array(batchSize * width);
  for (let b = 0; b < batchSize; b++) {
    const row: number[] = [EOS_ID];
    while (row.length < width) row.push(...rng.pick(docs));
    out.set(row.slice(0, width), b * width);
  }
  return out;
}

/** Learning rate at `step`: linear warm-up, then linear decay to finalLrFraction of the peak. */
export function learningRate(cfg: PretrainConfig, step: number): number {
  const warm = Math.min(1, (step + 1) / cfg.warmupSteps);
  const decay = Math.max(cfg.finalLrFraction, 1 - step / cfg.steps);
  return cfg.lr * warm * decay;
}

/** The fixed validation batches of a run: a corpus from its own seed stream, so they never overlap training. */
export function validationWindows(cfg: PretrainConfig, tokenizer: Tokenizer, width: number): Int32Array[] {
  const root = new Rng(cfg.seed);
  const val = generateCorpus(cfg.valReviews, root.fork('val-corpus').seed).map((t) => tokenizer.encodeDocument(t));
  const rng = root.fork('val-batches');
  return Array.from({ length: cfg.valBatches }, () => makeWindows(val, cfg.batchSize, width, rng));
}

/** Mean next-token loss (nats/token) of `model` over batches of windows. */
export async function meanLoss(model: Gpt, batches: Int32Array[], batchSize: number): Promise<number> {
  const width = model.config.contextLength + 1;
  let total = 0;
  for (const w of batches) {
    const loss = tf.tidy(() => lmLoss(model, tf.tensor2d(w, [batchSize, width], 'int32')));
    total += (await loss.data())[0];
    loss.dispose();
  }
  return total / batches.length;
}

export interface PretrainLogEntry {
  step: number;
  seconds: number;
  trainLoss: number;
  valLoss: number;
}

/** Owns the optimizer, data streams and log of one pretraining run (minGPT's Trainer). */
export class Pretrainer {
  readonly log: PretrainLogEntry[] = [];
  step = 0;
  private readonly optimizer: AdamW;
  private readonly train: number[][];
  private readonly valWindows: Int32Array[];
  private readonly batchRng: Rng;
  private readonly width: number;
  private readonly started = Date.now();

  constructor(readonly model: Gpt, readonly cfg: PretrainConfig, tokenizer: Tokenizer) {
    const root = new Rng(cfg.seed);
    this.width = model.config.contextLength + 1;
    this.train = generateCorpus(cfg.trainReviews, root.fork('train-corpus').seed).map((t) => tokenizer.encodeDocument(t));
    this.valWindows = validationWindows(cfg, tokenizer, this.width);
    this.batchRng = root.fork('train-batches');
    this.optimizer = new AdamW(model.params, { lr: cfg.lr, weightDecay: cfg.weightDecay, clipNorm: 1 });
  }

  /** One optimizer step; returns the training loss. */
  async trainStep(): Promise<number> {
    const windows = makeWindows(this.train, this.cfg.batchSize, this.width, this.batchRng);
    const batch = tf.tensor2d(windows, [this.cfg.batchSize, this.width], 'int32');
    try {
      const { loss } = await this.optimizer.step(() => lmLoss(this.model, batch), learningRate(this.cfg, this.step));
      this.step += 1;
      return loss;
    } finally {
      batch.dispose();
    }
  }

  /** Mean loss over the fixed validation batches (nats/token). */
  validationLoss(): Promise<number> {
    return meanLoss(this.model, this.valWindows, this.cfg.batchSize);
  }

  /** Runs the remaining steps, evaluating every evalEvery steps and at the end. */
  async run(onLog: (e: PretrainLogEntry) => void = () => {}): Promise<PretrainLogEntry[]> {
    while (this.step < this.cfg.steps) {
      const trainLoss = await this.trainStep();
      if (this.step % this.cfg.evalEvery === 0 || this.step === this.cfg.steps) {
        const entry = { step: this.step, seconds: (Date.now() - this.started) / 1000, trainLoss, valLoss: await this.validationLoss() };
        this.log.push(entry);
        onLog(entry);
      }
    }
    return this.log;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
