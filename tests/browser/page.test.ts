// The first page in real Chromium: the worker loads the shipped base model on the best backend
// (WASM here: the only WebGPU adapter is SwiftShader's), shows samples and says why it chose the
// backend; it works on a phone-sized screen, by keyboard, from a sub-path, and it reports a bad
// address parameter or a broken model file in the page instead of hanging.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { copyDistUnder, DESKTOP, DIST, openPage, PHONE, SCREENSHOT_DIR, serveStatic, useServedBuild } from '../support/browser';
import { backendBadge, report, settle, shownSamples, shippedVocab, unknownWords } from './page-helpers';

const LOAD_MS = 60_000;

/** The code of a built chunk and of every chunk it imports statically (dynamic imports excluded). */
function staticClosure(file: string, seen = new Set<string>()): string {
  if (seen.has(file)) return '';
  seen.add(file);
  const code = readFileSync(join(DIST, file), 'utf8');
  let all = code;
  for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*["'`]\.\/([^"'`]+\.js)["'`]/g)) all += staticClosure(join('assets', m[1]), seen);
  return all;
}

const app = useServedBuild();

beforeAll(() => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
});

describe('the page', () => {
  test('loads the base model on WASM, says why, and shows samples made of vocabulary words', async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.goto(`${app.origin}/`);
      await expect(page.title()).resolves.toBe('RLHF Playground');
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('RLHF Playground');
      const { phase, text } = await settle(page, LOAD_MS);
      expect(text).toMatch(/^Ready/);
      expect(phase).toBe('ready');

      expect(await backendBadge(page)).toBe('WASM');
      const reasons = await page.getByRole('list', { name: 'Backend reasons' }).textContent();
      expect(reasons).toMatch(/WebGPU: software adapter only \(.*swiftshader.*\); using WASM/i);
      expect(reasons).toMatch(/WASM: chosen; SIMD on, 1 thread/);

      const samples = await shownSamples(page);
      expect(samples.map((s) => s.prompt)).toEqual(['the pizza was', 'what a', 'the hotel was', 'we loved', 'the staff']);
      const vocab = shippedVocab();
      expect(samples.some((s) => s.completion.trim().length > 0)).toBe(true);
      for (const s of samples) expect(unknownWords(s.completion, vocab)).toEqual([]);

      const facts = ((await page.getByRole('region', { name: 'Base model' }).locator('dl.facts').textContent()) ?? '').replace(/\s+/g, ' ');
      expect(facts).toMatch(/Parameters [\d,]+ /);
      expect(facts).toMatch(/Vocabulary \d+ tokens/);
      expect(facts).toMatch(/Validation loss \d+\.\d{3} nats\/token/);
      await expect(page.getByLabel('Seed', { exact: true }).textContent()).resolves.toBe('1');

      await page.screenshot({ path: join(SCREENSHOT_DIR, 'page-desktop-1280x800.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('fits a 390 px screen and samples again by keyboard', async () => {
    const { page, errors, close } = await openPage(app.browser, PHONE);
    try {
      await page.goto(`${app.origin}/?seed=7`);
      await settle(page, LOAD_MS);
      await expect(page.getByLabel('Seed', { exact: true }).textContent()).resolves.toBe('7');
      const before = await shownSamples(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);

      // Tab from the top of the page to the button (past the pipeline, the pair and How it works), press Enter: new samples come.
      const button = page.getByRole('button', { name: 'Sample again' });
      let reached = false;
      for (let i = 0; i < 120 && !reached; i++) {
        await page.keyboard.press('Tab');
        reached = await button.evaluate((b) => b === document.activeElement);
      }
      expect(reached).toBe(true);
      await page.keyboard.press('Enter');
      // Sampling is quick on WASM: wait for the shown completions to change, not for a phase.
      const beforeText = before.map((s) => s.completion).join('|');
      await page.waitForFunction((old) => [...document.querySelectorAll('ol.samples .completion')].map((e) => e.getAttribute('data-completion')).join('|') !== old, beforeText, { timeout: LOAD_MS });
      await settle(page, LOAD_MS);
      const after = await shownSamples(page);
      expect(after.map((s) => s.prompt)).toEqual(before.map((s) => s.prompt));
      expect(after.map((s) => s.completion)).not.toEqual(before.map((s) => s.completion));
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'page-phone-390x844.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('the same seed gives the same samples', async () => {
    const runs: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const { page, close } = await openPage(app.browser);
      try {
        await page.goto(`${app.origin}/?seed=42`);
        await settle(page, LOAD_MS);
        runs.push((await shownSamples(page)).map((s) => s.completion));
      } finally {
        await close();
      }
    }
    expect(runs[1]).toEqual(runs[0]);
  });

  test('an unknown ?backend= value, method or method setting gets a clear message and the page still loads', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?backend=bogus&methods=ppo,nosuch&ppo.lr=abc`);
      const alert = page.getByRole('alert').filter({ hasText: 'Bad backend' });
      await expect(alert.textContent()).resolves.toMatch(/Bad backend "bogus" in the address.*use one of webgpu, wasm, webgl, cpu/);
      const { phase } = await settle(page, LOAD_MS);
      expect(phase).toBe('ready');
      expect(await backendBadge(page)).toBe('WASM');
      // The worker checks the methods and their settings (it holds the registry) and says what it refused.
      await expect(page.getByRole('alert').filter({ hasText: 'nosuch' }).textContent()).resolves.toMatch(/Unknown method "nosuch" in the address/);
      await expect(page.getByRole('alert').filter({ hasText: 'ppo.lr' }).textContent()).resolves.toMatch(/Bad PPO learning rate "abc" in the address \(\?ppo\.lr=abc\): use a number from .*; using 0\.0003\./);
      await expect(page.getByRole('checkbox', { name: 'PPO', exact: true }).isChecked()).resolves.toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('works from a sub-path (worker and .wasm files load relative to the page)', async () => {
    const copy = copyDistUnder('sub/dir');
    const sub = await serveStatic(copy.root);
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${sub.origin}/sub/dir/`);
      const { phase, text } = await settle(page, LOAD_MS);
      expect(text).toMatch(/^Ready/);
      expect(phase).toBe('ready');
      expect(await backendBadge(page)).toBe('WASM');
      expect((await shownSamples(page)).length).toBe(5);
      expect(errors).toEqual([]);
    } finally {
      await close();
      await sub.close();
      copy.remove();
    }
  });

  test('a truncated weights.bin shows a clear error instead of hanging', async () => {
    const { page, close } = await openPage(app.browser);
    try {
      await page.route('**/models/base/weights.bin', async (route) => {
        const response = await route.fetch();
        const body = await response.body();
        await route.fulfill({ response, body: body.subarray(0, 1000) });
      });
      await page.goto(`${app.origin}/`);
      const { phase, text } = await settle(page, LOAD_MS);
      expect(phase).toBe('error');
      expect(text).toMatch(/Could not load the base model: weights\.bin has 1000 bytes; the manifest needs \d+ \(truncated or wrong file\?\)/);
      await expect(page.getByRole('heading', { name: 'Something went wrong' }).isVisible()).resolves.toBe(true);
      expect(await backendBadge(page)).toBe('unknown');
      await expect(page.getByRole('button', { name: 'Sample again' }).getAttribute('aria-disabled')).resolves.toBe('true');
    } finally {
      await close();
    }
  });

  test('a missing model file names the file and the HTTP status', async () => {
    const { page, close } = await openPage(app.browser);
    try {
      await page.route('**/models/base/vocab.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
      await page.goto(`${app.origin}/`);
      const { phase, text } = await settle(page, LOAD_MS);
      expect(phase).toBe('error');
      expect(text).toMatch(/Could not load the base model: could not fetch vocab\.json from .*: HTTP 404/);
    } finally {
      await close();
    }
  });

  test('a worker script that does not load is reported in the page', async () => {
    const { page, close } = await openPage(app.browser);
    try {
      await page.route(/\/assets\/main-[^/]+\.js$/, (route) => route.fulfill({ status: 404, body: 'not found' }));
      await page.goto(`${app.origin}/`);
      const { phase, text } = await settle(page, LOAD_MS);
      expect(phase).toBe('error');
      expect(text).toMatch(/The background worker failed/);
    } finally {
      await close();
    }
  });

  test('when the .wasm files are missing, the next backend runs and the reasons say why', async () => {
    const { page, close } = await openPage(app.browser);
    try {
      await page.route('**/*.wasm', (route) => route.fulfill({ status: 404, body: 'not found' }));
      await page.goto(`${app.origin}/`);
      const { phase } = await settle(page, LOAD_MS);
      expect(phase).toBe('ready');
      expect(await backendBadge(page)).toBe('WebGL');
      const reasons = await page.getByRole('list', { name: 'Backend reasons' }).textContent();
      expect(reasons).toMatch(/WASM: failed to start \(.+\); using WebGL/);
    } finally {
      await close();
    }
  });

  test('the main-thread bundle holds no TensorFlow.js (only the worker does)', () => {
    // ESLint's import rule misses dynamic imports and indirect ones; the built chunks are the truth.
    // tfjs-core registers its environment flags by these names, minified or not.
    const TFJS = /IS_BROWSER|WEBGL_VERSION|WASM_HAS_SIMD_SUPPORT/;
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const entry = /<script type="module"[^>]*src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(entry).toBeDefined();
    const mainCode = staticClosure(entry!);
    expect(mainCode).not.toMatch(TFJS);
    // The worker chunk, which the entry only names in new Worker(new URL(...)), does hold tfjs.
    const worker = /new Worker\(new URL\(new URL\(`([^`]+\.js)`/.exec(readFileSync(join(DIST, entry!), 'utf8'))?.[1];
    expect(worker).toBeDefined();
    expect(staticClosure(join('assets', worker!))).toMatch(TFJS);

    // Sizes a user downloads (gzip, as a static host serves them), printed for the closing note.
    const gz = (code: string | Buffer) => Math.round(gzipSync(code, { level: 9 }).length / 100) / 10;
    const css = /<link rel="stylesheet"[^>]*href="\.\/(assets\/[^"]+\.css)"/.exec(html)?.[1];
    const mainSeen = new Set<string>();
    staticClosure(entry!, mainSeen);
    const workerSeen = new Set<string>();
    const workerCode = staticClosure(join('assets', worker!), workerSeen);
    const lazy = readdirSync(join(DIST, 'assets')).filter((f) => f.endsWith('.js')).map((f) => join('assets', f)).filter((f) => !mainSeen.has(f) && !workerSeen.has(f));
    const simd = readdirSync(join(DIST, 'assets')).find((f) => /^tfjs-backend-wasm-simd-.*\.wasm$/.test(f));
    report('bundle sizes, kB gzip', {
      mainThreadJs: gz(mainCode),
      mainThreadCss: css ? gz(readFileSync(join(DIST, css))) : null,
      workerStaticJs: gz(workerCode),
      workerLazyBackendChunks: gz(lazy.map((f) => readFileSync(join(DIST, f), 'utf8')).join('\n')),
      wasmSimdBinary: simd ? gz(readFileSync(join(DIST, 'assets', simd))) : null,
    });
  });
});
