// npm run bench: speed figures as JSON lines, one per backend and measurement, for tools to parse:
//   {"where":"node","backend":"wasm","what":"ppo_iteration","ms":1234.5,"runs":5,"threads":1}
// ms is the median over `runs` timed runs after warm-up. The benches are the library's table
// (src/lib/bench/benches.ts) on the shipped base model (public/models/base), so EOS happens and
// lengths vary as on the page. Options:
//   --backend wasm|cpu (Node) or wasm|webgpu|webgl|cpu (--browser), a comma list; --runs N;
//   --warmup N; --only NAME[,NAME];
//   --browser: build the bench page into dist-bench/ and time the same benches in headless
//     Chromium's worker (src/scripts/bench-browser.ts), plus cold_start of the real page;
//   --threads N: WASM threads asked of the bench page (browser only);
//   --pytorch: then run the native reference (../shared/reference/torchref/ppo_time.sh), print its
//     line and one ratio line per measurement both have.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_NAMES, PAGE_BENCHES, parseBenchNames, timeBench, type BenchLine } from '../lib/bench/benches';
import { parseReference, ratioLines } from '../lib/bench/report';
import { int } from '../lib/config/fields';
import { BACKEND_NAMES, type BackendName } from '../lib/config/run';
import { Tokenizer } from '../lib/data/tokenizer';
import { loadGpt, WEIGHTS_FILE } from '../lib/model/io';
import { disposeParams } from '../lib/model/params';
import { parseArgs } from './args';
import type { BenchOptions } from './bench-browser';

const ROOT = resolve(import.meta.dirname, '../..');
const BASE_DIR = join(ROOT, 'public/models/base');
const REFERENCE = resolve(ROOT, '../shared/reference/torchref/ppo_time.sh');
/** The seed every driver gives the benches (the bench worker uses the same). */
const BENCH_SEED = 2;

/** Prints one JSON line now (a long run shows its figures as they come). */
function printLine(line: object): void {
  console.log(JSON.stringify(line));
}

function readJson(name: string): unknown {
  return JSON.parse(readFileSync(join(BASE_DIR, name), 'utf8'));
}

/** Times the benches in this Node process, on each backend in turn. */
async function runNode(options: BenchOptions): Promise<BenchLine[]> {
  const { initNodeBackend } = await import('./node-backend');
  const manifest = readJson('model.json');
  const weights = readFileSync(join(BASE_DIR, WEIGHTS_FILE));
  const tokenizer = Tokenizer.fromVocab(readJson('vocab.json'));
  const lines: BenchLine[] = [];
  for (const requested of options.backends) {
    if (requested !== 'wasm' && requested !== 'cpu') throw new Error(`--backend ${requested}: Node runs wasm or cpu (add --browser for webgpu and webgl)`);
    const backend = await initNodeBackend(requested);
    const threads = backend === 'wasm' ? (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : 1;
    for (const what of options.names) {
      const { model } = loadGpt(manifest, weights, 'base');
      try {
        const t = await timeBench(what, { model, tokenizer, seed: BENCH_SEED }, { runs: options.runs, warmup: options.warmup });
        const line: BenchLine = { where: 'node', backend, what, ms: t.ms, runs: t.runs, threads };
        printLine(line);
        lines.push(line);
      } finally {
        disposeParams(model.params);
      }
    }
  }
  return lines;
}

/** Runs the native PyTorch reference; its stderr passes through, its stdout is parsed. */
function runReference(): Promise<Record<string, unknown>> {
  return new Promise((ok, fail) => {
    const child = spawn('bash', [REFERENCE], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) fail(new Error(`${REFERENCE} exited with ${code}; its output:\n${out}`));
      else {
        try {
          ok(parseReference(out));
        } catch (e) {
          fail(e);
        }
      }
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), {
    backend: 'string',
    runs: int(1, 1000),
    only: 'string',
    warmup: int(0, 1000),
    browser: 'flag',
    pytorch: 'flag',
    threads: int(1, 256),
  });
  if (args.threads !== undefined && !args.browser) throw new Error('--threads is for --browser (Node runs the WASM backend with its own thread count)');
  const backends = args.backend ? args.backend.split(',').map((b) => b.trim()) : args.browser ? ['wasm'] : ['wasm', 'cpu'];
  for (const b of backends) if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new Error(`unknown backend "${b}"; known: ${BACKEND_NAMES.join(', ')}`);
  const asked = args.only?.split(',').map((n) => n.trim()) ?? null;
  const pageBenches = PAGE_BENCHES.filter((n) => asked === null || asked.includes(n));
  const only = asked?.filter((n) => !(PAGE_BENCHES as readonly string[]).includes(n)).join(',');
  const options: BenchOptions = {
    backends: backends as BackendName[],
    names: only === '' ? [] : parseBenchNames(only, BENCH_NAMES),
    runs: args.runs,
    warmup: args.warmup,
    threads: args.threads,
  };
  let lines: BenchLine[];
  if (args.browser) {
    const { runBrowser } = await import('./bench-browser');
    lines = await runBrowser(options, pageBenches, printLine);
  } else {
    if (asked !== null && pageBenches.length > 0) throw new Error(`${pageBenches.join(', ')}: measured in the browser, add --browser`);
    lines = await runNode(options);
  }
  if (args.pytorch) {
    const reference = await runReference();
    printLine(reference);
    for (const r of ratioLines(lines, reference)) printLine(r);
  }
}

await main();
