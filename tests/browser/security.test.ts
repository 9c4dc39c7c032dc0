// Security (issue 12) in real Chromium: the built page carries the strict Content-Security-Policy
// of src/sw/policy.ts and breaks none of it, and it asks no other origin for anything, while it
// loads, labels, trains one PPO step, opens every explanation (MathML and its font) and exports the
// labels. The build is served as a careful host would (COOP/COEP and the policy as headers, so the
// policy covers the training worker and its WASM too); every request of the context, the
// worker's included, goes through a route that fails the test on a foreign origin. Each detector is
// shown to work: the route sees the worker's fetches, and an inline script is refused and caught.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { contentSecurityPolicy } from '../../src/sw/policy';
import { DIST, ensureBuilt, ISOLATION_HEADERS, launchBrowser, openPage, serveStatic, type StaticServer } from '../support/browser';
import { waitForChartPoints, waitForPair } from './page-helpers';

const LOAD_MS = 60_000;
const LABELS = 3;
// Two WASM threads: the pthread helpers start from Blob URLs, which the policy must allow.
const RUN_QUERY = 'threads=2&ppo.rolloutsPerIteration=8&ppo.epochs=1';

/** Collects securitypolicyviolation events of the page (the console also logs those of workers). */
const VIOLATION_SCRIPT = `
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
  });
`;

let browser: Browser;
let server: StaticServer;

beforeAll(async () => {
  await ensureBuilt();
  const headers = { ...ISOLATION_HEADERS, 'content-security-policy': contentSecurityPolicy() };
  [browser, server] = await Promise.all([launchBrowser(), serveStatic(DIST, { headers })]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('security', () => {
  test('the page loads, labels, trains and exports with no CSP violation and no request to another origin', { timeout: 240_000 }, async () => {
    const { page, errors, close } = await openPage(browser);
    const context = page.context();
    const own: string[] = [];
    const foreign: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === server.origin) {
        own.push(url);
        return route.continue();
      }
      foreign.push(url);
      return route.abort('blockedbyclient');
    });
    await context.addInitScript(VIOLATION_SCRIPT);
    try {
      await page.goto(`${server.origin}/?${RUN_QUERY}`);
      // The policy the build wrote is the one in policy.ts, before any script.
      const meta = await page.evaluate(() => {
        const m = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
        return { content: m?.getAttribute('content') ?? null, beforeScripts: m !== null && [...document.scripts].every((s) => m.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING) };
      });
      expect(meta).toEqual({ content: contentSecurityPolicy(), beforeScripts: true });
      expect(await page.evaluate(() => document.querySelectorAll('script:not([src])').length)).toBe(0);

      let id = '';
      await waitForPair(page, LOAD_MS);
      expect(((await page.getByLabel('Backend detail', { exact: true }).textContent()) ?? '').trim()).toBe('SIMD on, 2 threads');
      for (let i = 1; i <= LABELS; i++) {
        id = await waitForPair(page, LOAD_MS, id);
        await page.getByRole('button', { name: 'A is better', exact: true }).click();
        await waitForChartPoints(page, 'reward-model', i, LOAD_MS);
      }
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await waitForChartPoints(page, 'ppo-reward-model-score', 1, LOAD_MS * 2);
      // Every explanation open: the MathML formulas and Temml's font.
      await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
      await page.waitForFunction(() => document.fonts.status === 'loaded', undefined, { timeout: 10_000 });
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Export labels/ }).click()]);
      expect(await download.failure()).toBeNull();

      expect(foreign).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);
      expect(errors).toEqual([]);
      // The route saw the worker's requests (the model, the .wasm files), not only the page's.
      expect(own.some((u) => u.endsWith('/models/base/weights.bin'))).toBe(true);
      expect(own.some((u) => u.endsWith('.wasm'))).toBe(true);
      // And the violation detector works: an inline script does not run and is reported.
      const ran = await page.evaluate(() => {
        const script = document.createElement('script');
        script.textContent = 'window.__inlineRan = true;';
        document.head.append(script);
        return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
      });
      expect(ran).toBe(false);
      await expect.poll(() => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations.join('\n'))).toMatch(/^script-src-elem inline/);
    } finally {
      await close();
    }
  });
});
