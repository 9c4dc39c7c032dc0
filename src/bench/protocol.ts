// Messages between the bench page and its worker (src/bench/worker.ts). The page relays every
// worker message to the driver (src/scripts/bench-browser.ts) through window.benchReport.
import type { BenchLine } from '../lib/bench/benches';
import type { BackendName } from '../lib/config/run';

/** What the page asks of the worker, from its address (?backend=wasm&only=a,b&runs=5&warmup=2&threads=2). */
export interface BenchRequest {
  type: 'bench';
  backend: BackendName;
  /** The benches to run, a comma list (?only=); absent: all. The worker checks the names. */
  only?: string;
  /** Overrides each bench's own count when set. */
  runs?: number;
  warmup?: number;
  /** WASM threads asked for (?threads=N); null: the backend's default. */
  threads: number | null;
  /** Folder of the shipped base model (model.json, weights.bin, vocab.json), absolute URL. */
  modelUrl: string;
}

export type BenchReport =
  | { type: 'backend'; backend: BackendName; reason: string; threads: number }
  | { type: 'line'; line: BenchLine }
  | { type: 'done' }
  | { type: 'error'; message: string };
