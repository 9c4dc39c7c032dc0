// Helpers for the browser tests: build the page once (if dist/ is missing), serve a folder over
// HTTP on 127.0.0.1 (port 0: the system picks a free one), launch Debian's Chromium through
// playwright-core, and open pages that record every console error and uncaught exception,
// from the page and from its workers.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '../..');
/** The built page; RLHF_DIST names another build folder, so that two builds at once do not collide. */
export const DIST = resolve(ROOT, process.env.RLHF_DIST ?? 'dist');

/** Flags measured in reference/browser-facts.md; --enable-unsafe-webgpu gives the software adapter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

/** RLHF_LONG=1 also runs the slow checks that CI leaves out (its 20-minute budget): training on the software WebGPU adapter, the 500-iteration run. */
export const LONG_TESTS = process.env.RLHF_LONG === '1';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Builds dist/ with Vite unless it is there already (`npm run test:browser` builds first). */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(join(DIST, 'index.html'))) return;
  const { build } = await import('vite');
  await build({ root: ROOT, logLevel: 'warn', build: { outDir: DIST } });
}

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

export interface StaticServer {
  /** http://127.0.0.1:PORT (no trailing slash). */
  origin: string;
  close(): Promise<void>;
}

/** The headers that make a page cross-origin isolated (what vite.config.ts sends from dev and preview). */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/**
 * Serves `root` as a static site: a folder answers with its index.html; anything else is a 404.
 * `headers` go on every file (e.g. ISOLATION_HEADERS); by default none, as on GitHub Pages.
 */
export async function serveStatic(root: string, options: { headers?: Readonly<Record<string, string>> } = {}): Promise<StaticServer> {
  const base = resolve(root);
  const extra = options.headers ?? {};
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
    res.writeHead(200, { ...extra, 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
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

/** A copy of dist/ at `subPath` (e.g. 'sub/dir') inside a fresh temporary folder; returns the folder. */
export function copyDistUnder(subPath: string): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'rlhf-subpath-'));
  cpSync(DIST, join(root, subPath), { recursive: true });
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export interface TrackedPage {
  page: Page;
  /** Console errors and uncaught exceptions, from the page and its workers, in order. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * A page in a fresh context (no shared cache or storage) that records errors. Service workers are
 * off unless `serviceWorkers` is 'allow': on this headerless server the page's service worker
 * would otherwise reload every page once to make it cross-origin isolated (threads.test.ts and
 * offline.test.ts let it).
 */
export async function openPage(browser: Browser, viewport = DESKTOP, options: { serviceWorkers?: 'allow' | 'block' } = {}): Promise<TrackedPage> {
  const block = (options.serviceWorkers ?? 'block') === 'block';
  const context = await browser.newContext({ viewport, serviceWorkers: block ? 'block' : 'allow' });
  // Blocked, register() resolves to undefined (no browser does that): the page sees no service
  // workers at all instead, like a browser without them.
  if (block) await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'serviceWorker', { configurable: true, get: () => undefined }));
  const page = await context.newPage();
  const errors: string[] = [];
  // In Chromium the page's console event also carries its dedicated workers' messages, and an
  // uncaught error in a worker arrives as a pageerror (checked with playwright-core 1.65).
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { page, errors, close: () => context.close() };
}

export const SCREENSHOT_DIR = join(ROOT, 'test-results');

/** The browser and the served build of one test file (see useServedBuild). */
export interface ServedBuild {
  readonly browser: Browser;
  /** Origin of the server that serves dist/. */
  readonly origin: string;
}

/**
 * Registers the hooks every browser test file needs: build dist/ if missing, launch Chromium and
 * serve dist/ before the file's tests; close both after them. Read the fields inside tests only.
 */
export function useServedBuild(): ServedBuild {
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  beforeAll(async () => {
    await ensureBuilt();
    [browser, server] = await Promise.all([launchBrowser(), serveStatic(DIST)]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useServedBuild: read browser or origin inside a test, after beforeAll');
    return value;
  };
  return {
    get browser() {
      return ready(browser);
    },
    get origin() {
      return ready(server).origin;
    },
  };
}
