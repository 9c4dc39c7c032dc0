// The bench page's worker: starts the asked-for backend through the page's own backend choice
// (src/worker/backend.ts), fetches the shipped base model as the page's session does, and runs the
// library's bench table (src/lib/bench/benches.ts) one bench at a time, each on a fresh copy of the
// model, reporting one line per bench in the Node driver's format with "where":"chromium".
import { parseBenchNames, timeBench, type BenchLine } from '../lib/bench/benches';
import type { BackendName } from '../lib/config/run';
import { Tokenizer } from '../lib/data/tokenizer';
import { loadGpt, WEIGHTS_FILE } from '../lib/model/io';
import { disposeParams } from '../lib/model/params';
import { chooseBackend, errorText } from '../worker/backend';
import type { BenchReport, BenchRequest } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (r: BenchReport) => scope.postMessage(r);
/** The seed every driver gives the benches. */
const BENCH_SEED = 2;

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`could not fetch ${url}: HTTP ${r.status}`);
  return r;
}

/** Threads of the running backend: the WASM backend's thread pool, 1 for the others (one JS thread drives them). */
async function threadsOf(backend: BackendName): Promise<number> {
  if (backend !== 'wasm') return 1;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  return wasm.getThreadsCount();
}

async function bench(request: BenchRequest): Promise<void> {
  const names = parseBenchNames(request.only);
  const choice = await chooseBackend(request.backend);
  if (choice.backend !== request.backend) throw new Error(`${request.backend} did not start: ${choice.reasons[request.backend]}`);
  const threads = await threadsOf(choice.backend);
  post({ type: 'backend', backend: choice.backend, reason: choice.reasons[choice.backend], threads });
  const [manifest, weights, vocab] = await Promise.all([
    fetchOk(new URL('model.json', request.modelUrl).href).then((r) => r.json() as Promise<unknown>),
    fetchOk(new URL(WEIGHTS_FILE, request.modelUrl).href).then((r) => r.arrayBuffer()),
    fetchOk(new URL('vocab.json', request.modelUrl).href).then((r) => r.json() as Promise<unknown>),
  ]);
  const tokenizer = Tokenizer.fromVocab(vocab);
  for (const what of names) {
    const { model } = loadGpt(manifest, weights, 'base');
    try {
      const t = await timeBench(what, { model, tokenizer, seed: BENCH_SEED }, { runs: request.runs, warmup: request.warmup });
      const line: BenchLine = { where: 'chromium', backend: choice.backend, what, ms: t.ms, runs: t.runs, threads };
      post({ type: 'line', line });
    } finally {
      disposeParams(model.params);
    }
  }
  post({ type: 'done' });
}

scope.addEventListener('message', (e: MessageEvent<BenchRequest>) => {
  bench(e.data).catch((err: unknown) => post({ type: 'error', message: errorText(err) }));
});
