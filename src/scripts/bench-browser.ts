// npm run bench -- --browser: the browser half of the benchmark (issue 11). Builds the real page and
// the bench page (src/bench/) into dist-bench/ with Vite's JS API (an inline config over
// vite.config.ts: one more input, another outDir), serves the folder on 127.0.0.1 with the headers
// that make a page cross-origin isolated (COOP same-origin, COEP require-corp: WASM threads need
// SharedArrayBuffer), drives Debian's Chromium headless through playwright-core, and returns one
// line per backend and bench, as the Node driver prints them, with "where":"chromium". The bench
// page's worker runs the library's table (src/lib/bench/benches.ts) on the shipped model.
// cold_start loads the real index.html in a fresh context per run and times navigation to the
// first pair on screen, with the longest main-thread task before it (PerformanceObserver
// 'longtask', buffered) and the gzip size of the page's main-thread JS and CSS. history_heap
// trains PPO in the real page for HISTORY_ITERATIONS iterations with its charts on screen and
// reads the page's JS heap after a garbage collection at HEAP_AT iterations (issue 11, memory).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import type { BenchLine, BenchName, PageBench } from '../lib/bench/benches';
import { median } from '../lib/math/stats';
import type { BackendName } from '../lib/config/run';
import type { BenchReport } from '../bench/protocol';

const ROOT = resolve(import.meta.dirname, '../..');
/** The bench's own build folder: never dist/, which the browser tests read. */
const DIST = join(ROOT, 'dist-bench');
const BENCH_PAGE = 'src/bench/index.html';

export interface BenchOptions {
  backends: BackendName[];
  names: BenchName[];
  runs?: number;
  warmup?: number;
  /** WASM threads asked of the bench page (?threads=N). */
  threads?: number;
}

/** The flags of tests/support/browser.ts (reference/browser-facts.md); --enable-unsafe-webgpu gives the software adapter. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

/** How long one backend's benches may take in all (rm_refit alone is minutes on the slow backends). */
const BENCH_TIMEOUT_MS = 60 * 60_000;
/** Navigation to the first pair: generous, the machine is shared. */
const COLD_START_TIMEOUT_MS = 120_000;
const COLD_START_WARMUP = 1;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm', // instantiateStreaming needs this type
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** What tests/support/browser.ts's serveStatic does, plus the cross-origin isolation headers. */
async function serveIsolated(root: string): Promise<{ origin: string; close(): Promise<void> }> {
  const base = resolve(root);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = resolve(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

/** The parts of Rollup's output that the bundle size needs. */
interface OutputItem {
  type: 'chunk' | 'asset';
  fileName: string;
  isEntry?: boolean;
  facadeModuleId?: string | null;
  imports?: string[];
  dynamicImports?: string[];
  viteMetadata?: { importedCss: Set<string> };
}

/**
 * Builds the real page into dist-bench/ exactly as `npm run build` builds dist/ (vite.config.ts,
 * only another outDir), then the bench page into the same folder in a second build: one build of
 * both would share chunks between them and change the real page's files. Returns the real page's
 * build output.
 */
async function buildPages(): Promise<OutputItem[]> {
  const { build } = await import('vite');
  const outputOf = (result: unknown) => ((Array.isArray(result) ? result : [result]) as { output?: OutputItem[] }[]).flatMap((o) => o.output ?? []);
  const page = outputOf(await build({ root: ROOT, logLevel: 'error', build: { outDir: DIST, emptyOutDir: true } }));
  await build({
    root: ROOT,
    logLevel: 'error',
    build: { outDir: DIST, emptyOutDir: false, copyPublicDir: false, rollupOptions: { input: { bench: join(ROOT, BENCH_PAGE) } } },
  });
  return page;
}

/** Bytes as kB, one decimal. */
const kb = (n: number) => Math.round((n / 1024) * 10) / 10;

/** The page's main-thread JS and CSS, gzip. */
interface MainBundle {
  /** All of them, kB gzip. */
  kb: number;
  /** gzip bytes per file name (assets/...). */
  sizes: Map<string, number>;
}

/**
 * Gzip sizes of the real page's main-thread JS and CSS: the chunk of src/main.ts and every chunk
 * it imports, statically or lazily, with their CSS. Worker bundles are separate builds that the
 * main build only carries as assets, so they are not counted.
 */
function mainBundle(output: OutputItem[]): MainBundle {
  const chunks = new Map(output.filter((o) => o.type === 'chunk').map((c) => [c.fileName, c]));
  const entry = [...chunks.values()].find((c) => c.isEntry && c.facadeModuleId === join(ROOT, 'index.html'))
    ?? [...chunks.values()].find((c) => c.isEntry && c.facadeModuleId === join(ROOT, 'src/main.ts'));
  if (!entry) throw new Error(`no entry chunk of index.html in the build (entries: ${[...chunks.values()].filter((c) => c.isEntry).map((c) => c.facadeModuleId).join(', ')})`);
  const files = new Set<string>();
  const visit = (c: OutputItem) => {
    if (files.has(c.fileName)) return;
    files.add(c.fileName);
    for (const css of c.viteMetadata?.importedCss ?? []) files.add(css);
    for (const f of [...(c.imports ?? []), ...(c.dynamicImports ?? [])]) {
      const next = chunks.get(f);
      if (next) visit(next);
    }
  };
  visit(entry);
  const sizes = new Map<string, number>();
  for (const f of files) sizes.set(f, gzipSync(readFileSync(join(DIST, f)), { level: 9 }).length);
  console.error(`[bench] main-thread bundle, kB gzip: ${[...sizes].map(([f, n]) => `${f} ${kb(n)}`).join(', ')}`);
  return { kb: kb([...sizes.values()].reduce((a, b) => a + b, 0)), sizes };
}

/** Runs the bench page for one backend; prints and returns its lines. */
async function benchBackend(browser: Browser, origin: string, backend: BackendName, options: BenchOptions, print: (line: object) => void): Promise<BenchLine[]> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const lines: BenchLine[] = [];
    const finished = new Promise<void>((ok, fail) => {
      void page.exposeFunction('benchReport', (r: BenchReport) => {
        switch (r.type) {
          case 'backend':
            console.error(`[bench] chromium ${backend}: ${r.reason} (${r.threads} thread${r.threads === 1 ? '' : 's'})`);
            break;
          case 'line':
            print(r.line);
            lines.push(r.line);
            break;
          case 'done':
            ok();
            break;
          case 'error':
            fail(new Error(`chromium ${backend}: ${r.message}`));
            break;
        }
      });
      page.on('pageerror', (e) => fail(new Error(`chromium ${backend}: ${e.message}`)));
      page.on('console', (m) => {
        if (m.type() === 'error') console.error(`[bench] chromium console: ${m.text()}`);
      });
    });
    const query = new URLSearchParams({ backend, only: options.names.join(',') });
    if (options.runs !== undefined) query.set('runs', String(options.runs));
    if (options.warmup !== undefined) query.set('warmup', String(options.warmup));
    if (options.threads !== undefined) query.set('threads', String(options.threads));
    await page.goto(`${origin}/${BENCH_PAGE}?${query}`);
    if (!(await page.evaluate(() => self.crossOriginIsolated))) console.error('[bench] warning: the bench page is not cross-origin isolated');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`chromium ${backend}: the benches took over ${BENCH_TIMEOUT_MS / 60_000} min`)), BENCH_TIMEOUT_MS);
    });
    try {
      await Promise.race([finished, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return lines;
  } finally {
    await context.close();
  }
}

/**
 * In every frame before the page's scripts: record long tasks and the moment the first pair is on
 * screen (a .pair with a data-pair-id, what tests/browser's waitForPair waits for). A string, not a
 * function: tsx compiles functions with helpers (__name) that do not exist in the page.
 */
const COLD_START_PROBE = `
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  const check = () => {
    if (window.__firstPair === undefined && (document.querySelector('.pair')?.getAttribute('data-pair-id') ?? '') !== '') window.__firstPair = performance.now();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-pair-id'] });
`;

interface ColdStart {
  /** Navigation start (performance.timeOrigin) to the first pair on screen, ms. */
  ms: number;
  /** The longest main-thread task before it, ms (0 when none passed 50 ms). */
  longestTask: number;
  /** The chosen backend's line in the worker's ready reply ("WASM: chosen ...; SIMD on, 2 threads"). */
  reason: string;
  /** The main thread's JS and CSS files fetched by then (assets/...; Resource Timing of the page). */
  loaded: string[];
}

async function coldStartOnce(browser: Browser, origin: string, backend: BackendName, threads: number | undefined): Promise<ColdStart> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } }); // fresh: no cache, no storage
  try {
    await context.addInitScript({ content: COLD_START_PROBE });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await page.goto(`${origin}/index.html?backend=${backend}${threads === undefined ? '' : `&threads=${threads}`}`);
    try {
      // A function, not a string: Playwright evaluates a string predicate with eval, which the page's CSP refuses.
      await page.waitForFunction(() => (window as unknown as { __firstPair?: number }).__firstPair !== undefined, undefined, { timeout: COLD_START_TIMEOUT_MS, polling: 50 });
    } catch (e) {
      const status = await page.locator('[role="status"]').first().textContent().catch(() => null);
      throw new Error(`cold_start ${backend}: no pair on screen (status: ${JSON.stringify(status)}; errors: ${errors.join('; ') || 'none'})`, { cause: e });
    }
    if (errors.length > 0) throw new Error(`cold_start ${backend}: the page failed: ${errors.join('; ')}`);
    const { first, tasks, resources } = await page.evaluate<{ first: number; tasks: { start: number; duration: number }[]; resources: { name: string; end: number }[] }>(
      "({ first: window.__firstPair, tasks: window.__longTasks, resources: performance.getEntriesByType('resource').map((r) => ({ name: r.name, end: r.responseEnd })) })",
    );
    const loaded = resources.filter((r) => r.end <= first).map((r) => new URL(r.name).pathname.replace(/^\//, ''));
    const before = tasks.filter((t) => t.start < first);
    // The page's worker keeps its last message of each type (src/worker/main.ts: lastPosted).
    const worker = page.workers().find((w) => w.url().includes('/assets/'));
    const reason = worker ? await worker.evaluate<string>(`self.lastPosted?.ready?.reasons?.[${JSON.stringify(backend)}] ?? ''`) : '';
    console.error(`[bench] cold_start ${backend}: ${Math.round(first)} ms; ${reason}`);
    return { ms: first, longestTask: Math.max(0, ...before.map((t) => t.duration)), reason, loaded };
  } finally {
    await context.close();
  }
}

/** The thread count the backend's line names ("SIMD on, 2 threads"), else 1. */
function reasonThreads(reason: string): number {
  const m = /(\d+)\s+threads?\b/i.exec(reason);
  return m ? Number(m[1]) : 1;
}

async function coldStart(browser: Browser, origin: string, backend: BackendName, options: BenchOptions, bundle: MainBundle): Promise<BenchLine & Record<string, unknown>> {
  const runs = options.runs ?? 5;
  for (let i = 0; i < (options.warmup ?? COLD_START_WARMUP); i++) await coldStartOnce(browser, origin, backend, options.threads);
  const all: ColdStart[] = [];
  for (let i = 0; i < runs; i++) all.push(await coldStartOnce(browser, origin, backend, options.threads));
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    where: 'chromium',
    backend,
    what: 'cold_start',
    ms: round(median(all.map((c) => c.ms))),
    runs,
    threads: reasonThreads(all[0].reason),
    longest_task_ms: round(median(all.map((c) => c.longestTask))),
    longest_task_max_ms: round(Math.max(...all.map((c) => c.longestTask))),
    main_bundle_gzip_kb: bundle.kb,
    // What the page had fetched of it by its first pair (the first run's; on-demand chunks such as chart.js come later).
    main_loaded_gzip_kb: kb(all[0].loaded.reduce((n, f) => n + (bundle.sizes.get(f) ?? 0), 0)),
  };
}

/** history_heap: PPO iterations trained in the page, and the iterations at which its heap is read. */
const HISTORY_ITERATIONS = 1000;
const HEAP_AT = [100, 250, 500, 1000];
/** The cap README documents: the page's JS heap after a GC with 1000 iterations of history. Measured: 6.1 MB before training, 7.2 at 100 iterations, 7.5 at 1000; 16 leaves room for several methods' charts. */
export const HEAP_CAP_MB = 16;
/**
 * A tiny PPO iteration (4 rollouts, 1 epoch) so that 1000 of them take minutes: the history, not
 * the training, is what is measured. The KL guard is lifted so that training never stops itself.
 */
const HISTORY_PARAMS = 'ppo.rolloutsPerIteration=4&ppo.epochs=1&ppo.klStop=500&refitEvery=0';
const HISTORY_LABELS = 6;
const HISTORY_TIMEOUT_MS = 30 * 60_000;

async function historyHeap(browser: Browser, origin: string, backend: BackendName, threads: number | undefined): Promise<BenchLine & Record<string, unknown>> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const cdp = await context.newCDPSession(page);
    const heapMb = async (): Promise<number> => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = await cdp.send('Runtime.getHeapUsage');
      return Math.round((usedSize / 1e6) * 10) / 10;
    };
    await page.goto(`${origin}/index.html?backend=${backend}&${HISTORY_PARAMS}${threads === undefined ? '' : `&threads=${threads}`}`);
    // A few labels by keyboard (the reward model must have learned one before Train runs unasked).
    let shown = '';
    for (let i = 0; i < HISTORY_LABELS; i++) {
      const handle = await page.waitForFunction((old) => {
        const id = document.querySelector('.pair')?.getAttribute('data-pair-id') ?? '';
        return id !== '' && id !== old ? id : false;
      }, shown, { timeout: COLD_START_TIMEOUT_MS, polling: 20 });
      shown = (await handle.jsonValue()) as string;
      await page.keyboard.press('1');
    }
    await page.waitForFunction((n) => document.querySelector('[role="status"]')?.getAttribute('data-labels') === String(n), HISTORY_LABELS, { timeout: COLD_START_TIMEOUT_MS });
    const region = page.getByRole('region', { name: 'PPO', exact: true });
    await region.scrollIntoViewIfNeeded(); // charts out of view do not draw: these must
    const worker = page.workers().find((w) => w.url().includes('/assets/'));
    if (!worker) throw new Error('history_heap: the page has no worker');
    const step = () => worker.evaluate<number>('self.lastPosted?.iteration?.step ?? 0');
    const startHeap = await heapMb();
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    const t0 = performance.now();
    const heap: Record<string, number> = {};
    let done = 0;
    for (const at of HEAP_AT) {
      while ((done = await step()) < at) {
        if (errors.length > 0) throw new Error(`history_heap: the page failed: ${errors.join('; ')}`);
        if (performance.now() - t0 > HISTORY_TIMEOUT_MS) throw new Error(`history_heap: ${done} of ${HISTORY_ITERATIONS} iterations in ${HISTORY_TIMEOUT_MS / 60_000} minutes`);
        if ((await page.locator('[role="status"]').first().getAttribute('data-running')) === 'false') await page.getByRole('button', { name: 'Train', exact: true }).click();
        await page.waitForTimeout(500);
      }
      heap[`heap_mb_at_${at}`] = await heapMb();
      console.error(`[bench] history_heap ${backend}: ${done} iterations, heap ${heap[`heap_mb_at_${at}`]} MB`);
    }
    const perIteration = (performance.now() - t0) / done;
    const last = heap[`heap_mb_at_${HISTORY_ITERATIONS}`];
    return {
      where: 'chromium',
      backend,
      what: 'history_heap',
      ms: Math.round(perIteration * 10) / 10, // wall time per tiny iteration, page and charts included
      runs: done,
      threads: 1,
      heap_mb_at_start: startHeap,
      ...heap,
      heap_cap_mb: HEAP_CAP_MB,
      within_cap: last <= HEAP_CAP_MB,
    };
  } finally {
    await context.close();
  }
}

/** Builds, serves and benches; prints each line as it comes and returns them all. */
export async function runBrowser(options: BenchOptions, pageBenches: readonly PageBench[], print: (line: object) => void): Promise<BenchLine[]> {
  console.error('[bench] building the page and the bench page into dist-bench/ ...');
  const output = await buildPages();
  const bundle = mainBundle(output);
  const server = await serveIsolated(DIST);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const lines: BenchLine[] = [];
  try {
    for (const backend of options.backends) {
      if (options.names.length > 0) lines.push(...(await benchBackend(browser, server.origin, backend, options, print)));
      if (pageBenches.includes('cold_start')) {
        const line = await coldStart(browser, server.origin, backend, options, bundle);
        print(line);
        lines.push(line);
      }
      if (pageBenches.includes('history_heap')) {
        const line = await historyHeap(browser, server.origin, backend, options.threads);
        print(line);
        lines.push(line);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return lines;
}
