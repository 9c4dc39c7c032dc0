// WASM threads (issue 11, section 3). Served with COOP/COEP the page is cross-origin isolated:
// ?threads=2 runs two WASM threads, which needs the build's fix for the threaded factory
// (src/scripts/threads-plugins.ts) and the worker's lift of tfjs-backend-wasm's cap at half the
// cores (src/worker/backend.ts): the helper workers must start without a ReferenceError and a PPO
// iteration must train. By default the library's choice runs (half the logical cores; one on this
// 2-core machine) and the page says so. Without the headers and with no service worker the badge
// says one thread and the page says why. Without the headers but with service workers (GitHub
// Pages), the page's service worker (src/sw/service-worker.ts, which adds the headers) reloads the
// page once and it ends isolated, with no further reload.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { DIST, ensureBuilt, ISOLATION_HEADERS, launchBrowser, openPage, serveStatic, type StaticServer } from '../support/browser';
import { backendBadge, chartTable, report, waitForChartPoints, waitForPair } from './page-helpers';

const LOAD_MS = 60_000;
const NOT_ISOLATED = /WASM: chosen; SIMD on, 1 thread: the page is not cross-origin isolated \(inside a cross-origin iframe, or a host without COOP\/COEP headers and no service worker\)/;

let browser: Browser;
let isolated: StaticServer;
let plain: StaticServer;

beforeAll(async () => {
  await ensureBuilt();
  [browser, isolated, plain] = await Promise.all([launchBrowser(), serveStatic(DIST, { headers: ISOLATION_HEADERS }), serveStatic(DIST)]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([isolated?.close(), plain?.close()]);
});

async function backendDetail(page: Page): Promise<string> {
  return ((await page.getByLabel('Backend detail', { exact: true }).textContent()) ?? '').trim();
}

async function wasmReason(page: Page): Promise<string> {
  const reasons = page.getByRole('list', { name: 'Backend reasons' });
  return ((await reasons.locator('li', { hasText: /^WASM:/ }).textContent()) ?? '').trim();
}

/** Labels `count` pairs with A, waiting for the reward model to learn each. */
async function label(page: Page, count: number): Promise<void> {
  let id = '';
  for (let i = 1; i <= count; i++) {
    id = await waitForPair(page, LOAD_MS, id);
    await page.getByRole('button', { name: 'A is better', exact: true }).click();
    await waitForChartPoints(page, 'reward-model', i, LOAD_MS);
  }
}

describe('WASM threads', () => {
  test('with COOP/COEP and ?threads=2 the page is isolated, WASM runs two threads, and PPO trains', { timeout: 180_000 }, async () => {
    const { page, errors, close } = await openPage(browser);
    try {
      await page.goto(`${isolated.origin}/?backend=wasm&threads=2`);
      await waitForPair(page, LOAD_MS);
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
      expect(await page.evaluate(() => navigator.hardwareConcurrency)).toBeGreaterThanOrEqual(2); // the URL's bound
      expect(await backendBadge(page)).toBe('WASM');
      expect(await backendDetail(page)).toBe('SIMD on, 2 threads');
      expect(await wasmReason(page)).toBe('WASM: chosen (asked for with ?backend=wasm); SIMD on, 2 threads');
      await label(page, 3);
      const stepAt = Date.now();
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await waitForChartPoints(page, 'ppo-reward-model-score', 1, LOAD_MS);
      await expect(page.getByRole('status', { name: 'Run status' }).textContent()).resolves.toMatch(/paused after PPO 1 iteration\b/);
      const reward = await chartTable(page, 'PPO Reward-model score');
      expect(reward.rows).toHaveLength(1);
      expect(reward.rows[0].every(Number.isFinite)).toBe(true);
      report('WASM 2 threads: one PPO iteration after 3 labels, click to chart point (s)', { iteration: Math.round((Date.now() - stepAt) / 100) / 10 });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('by default an isolated page runs the library\'s choice, half the logical cores, and says so', { timeout: 90_000 }, async () => {
    const { page, errors, close } = await openPage(browser);
    try {
      await page.goto(`${isolated.origin}/`);
      await waitForPair(page, LOAD_MS);
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      const threads = Math.min(8, Math.max(1, Math.floor(cores / 2)));
      if (threads === 1) {
        expect(await backendDetail(page)).toBe('SIMD on, 1 thread');
        expect(await wasmReason(page)).toBe(
          `WASM: chosen; SIMD on, 1 thread: tfjs-backend-wasm's default, half the ${cores} logical cores (it counts two per physical core); ?threads=${cores} asks for more`,
        );
      } else {
        expect(await backendDetail(page)).toBe(`SIMD on, ${threads} threads`);
      }
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('?threads=1 on an isolated page runs one thread and says it was asked for', { timeout: 90_000 }, async () => {
    const { page, errors, close } = await openPage(browser);
    try {
      await page.goto(`${isolated.origin}/?threads=1`);
      await waitForPair(page, LOAD_MS);
      expect(await backendDetail(page)).toBe('SIMD on, 1 thread');
      expect(await wasmReason(page)).toBe('WASM: chosen; SIMD on, 1 thread: as asked with ?threads=1');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('without the headers (and no service worker) the badge says 1 thread and the page says why', { timeout: 90_000 }, async () => {
    const { page, errors, close } = await openPage(browser);
    try {
      await page.goto(`${plain.origin}/`);
      await waitForPair(page, LOAD_MS);
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(false);
      expect(await backendDetail(page)).toBe('SIMD on, 1 thread');
      expect(await page.getByLabel('Backend detail', { exact: true }).getAttribute('title')).toMatch(/^SIMD on, 1 thread: the page is not cross-origin isolated/);
      expect(await wasmReason(page)).toMatch(NOT_ISOLATED);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('without the headers, the service worker reloads the page once and it ends isolated', { timeout: 120_000 }, async () => {
    const { page, errors, close } = await openPage(browser, undefined, { serviceWorkers: 'allow' });
    try {
      // The reload may come before the first document's load event: count the main frame's document
      // requests (framenavigated also fires for the page's history.replaceState of the address).
      let loads = 0;
      page.on('request', (request) => {
        if (request.isNavigationRequest() && request.frame() === page.mainFrame()) loads += 1;
      });
      await page.goto(`${plain.origin}/?threads=2`);
      await page.waitForFunction(() => self.crossOriginIsolated, undefined, { timeout: LOAD_MS, polling: 100 });
      await waitForPair(page, LOAD_MS);
      expect(await backendDetail(page)).toBe('SIMD on, 2 threads');
      await page.waitForTimeout(2000); // no reload loop
      expect(loads).toBe(2);
      // A later visit is controlled by the service worker from the start: no reload.
      await page.goto(`${plain.origin}/?threads=2&seed=2`);
      await waitForPair(page, LOAD_MS);
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
      expect(loads).toBe(3);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
