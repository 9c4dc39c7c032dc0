// The bench page's worker: starts the asked-for backend (and WASM threads, ?threads=N) through the
// page's own backend start (src/worker/backend.ts), fetches the shipped base model as the page's session does, and runs the
// library's bench table (src/lib/bench/benches.ts) one bench at a time, each on a fresh copy of the
// model, reporting one line per bench in the Node driver's format with "where":"chromium".
import { parseBenchNames, timeBench, type BenchLine } from '../lib/bench/benches';
import { BACKEND_NAMES } from '../lib/config/run';
import { Tokenizer } from '../lib/data/tokenizer';
import { loadGpt, WEIGHTS_FILE } from '../lib/model/io';
import { disposeParams } from '../lib/model/params';
import { errorText, start, type WebGpuProbe } from '../worker/backend';
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

/**
 * The adapter's name for start()'s description of WebGPU (backend.ts keeps its own probe to
 * itself); here the software adapter is what Chromium gives without a GPU: a functional figure.
 */
async function webGpuProbe(): Promise<WebGpuProbe | null> {
  const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return null;
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return { kind: info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|warp/i.test(name) ? 'software' : 'hardware', adapter: name };
}

async function bench(request: BenchRequest): Promise<void> {
  const names = parseBenchNames(request.only);
  if (!BACKEND_NAMES.includes(request.backend)) throw new Error(`unknown backend "${request.backend}"; known: ${BACKEND_NAMES.join(', ')}`);
  // The page's own start of a backend (no fallback: a backend that cannot start is an error here).
  const probe = request.backend === 'webgpu' ? await webGpuProbe() : null;
  const started = await start(request.backend, request.threads === null ? {} : { threads: request.threads }, probe);
  const threads = started.threads ?? 1; // the GPU and CPU backends: one JS thread drives them
  post({ type: 'backend', backend: started.backend, reason: started.detail, threads });
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
      const line: BenchLine = { where: 'chromium', backend: started.backend, what, ms: t.ms, runs: t.runs, threads };
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
