// The bench page's main thread: reads the request from the address, starts the bench worker and
// relays each of its reports to the driver (window.benchReport, exposed by playwright-core) and to
// the page's log. It imports no module of the library (types only), so that the build, which holds
// the real page too, gives the real page the same chunks as `npm run build`; the worker checks
// the request's names.
import type { BackendName } from '../lib/config/run';
import type { BenchReport, BenchRequest } from './protocol';

declare global {
  interface Window {
    benchReport?: (report: BenchReport) => void;
  }
}

const log = document.getElementById('log');

function report(r: BenchReport): void {
  if (log) log.textContent += `${JSON.stringify(r)}\n`;
  window.benchReport?.(r);
}

function positiveInt(raw: string | null, name: string): number | undefined {
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`?${name}= needs a whole number, got "${raw}"`);
  return n;
}

function readRequest(params: URLSearchParams): BenchRequest {
  return {
    type: 'bench',
    backend: (params.get('backend') ?? 'wasm') as BackendName,
    only: params.get('only') ?? undefined,
    runs: positiveInt(params.get('runs'), 'runs'),
    warmup: positiveInt(params.get('warmup'), 'warmup'),
    threads: positiveInt(params.get('threads'), 'threads') ?? null,
    // The page is built at src/bench/index.html; the model is public/models/base at the build's root.
    modelUrl: new URL(params.get('model') ?? '../../models/base/', location.href).href,
  };
}

try {
  const request = readRequest(new URLSearchParams(location.search));
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'rlhf-bench' });
  worker.addEventListener('message', (e: MessageEvent<BenchReport>) => report(e.data));
  worker.addEventListener('error', (e) => report({ type: 'error', message: `the bench worker failed: ${e.message}` }));
  worker.postMessage(request);
} catch (e) {
  report({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
