// Works offline (issue 12) in real Chromium, served as GitHub Pages serves it: a static host with
// no COOP/COEP headers, from a sub-path. On the first visit the service worker
// (src/sw/service-worker.ts) precaches the build and the page reloads once into a cross-origin
// isolated one (not if the user has already pressed a key or clicked: the next visit is); with
// the network then off, a reload still opens the page, and it labels and trains a PPO step. A new
// build replaces the old one only when the user asks: the page offers "Reload to update" and,
// pressed, runs the new build's files.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { copyDistUnder, ensureBuilt, launchBrowser, openPage, serveStatic, type StaticServer } from '../support/browser';
import { waitForChartPoints, waitForPair } from './page-helpers';

const LOAD_MS = 60_000;
const SUB_PATH = 'course/rlhf';
const SMALL_PPO = 'ppo.rolloutsPerIteration=8&ppo.epochs=1';

let browser: Browser;
let site: { root: string; remove(): void };
let server: StaticServer;

beforeAll(async () => {
  await ensureBuilt();
  site = copyDistUnder(SUB_PATH);
  [browser, server] = await Promise.all([launchBrowser(), serveStatic(site.root)]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  site?.remove();
});

/** Waits until the service worker controls the page and the page is cross-origin isolated. */
async function waitForServiceWorker(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null && self.crossOriginIsolated, undefined, { timeout: LOAD_MS, polling: 100 });
}

async function offlineStatus(page: Page): Promise<string> {
  return ((await page.getByLabel('Offline status', { exact: true }).textContent()) ?? '').trim();
}

describe('offline', () => {
  test('after one visit the page opens, labels and trains with the network off', { timeout: 240_000 }, async () => {
    const { page, errors, close } = await openPage(browser, undefined, { serviceWorkers: 'allow' });
    try {
      const url = `${server.origin}/${SUB_PATH}/?${SMALL_PPO}`;
      await page.goto(url);
      await waitForServiceWorker(page);
      await waitForPair(page, LOAD_MS);
      expect(await offlineStatus(page)).toMatch(/^This page is saved in this browser/);

      await page.context().setOffline(true);
      // The host is gone too: nothing but the service worker's cache can answer.
      await server.close();
      await page.reload();
      await waitForPair(page, LOAD_MS);
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
      await page.getByRole('button', { name: 'A is better', exact: true }).click();
      await waitForChartPoints(page, 'reward-model', 1, LOAD_MS);
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await waitForChartPoints(page, 'ppo-reward-model-score', 1, LOAD_MS * 2);
      await expect(page.getByRole('status', { name: 'Run status' }).textContent()).resolves.toMatch(/paused after PPO 1 iteration\b/);
      expect(errors).toEqual([]);
    } finally {
      await close();
      server = await serveStatic(site.root);
    }
  });

  test('a user who has started before the worker takes over is not reloaded; the next visit is isolated', { timeout: 120_000 }, async () => {
    const { page, errors, close } = await openPage(browser, undefined, { serviceWorkers: 'allow' });
    try {
      // A key press as soon as the page has run its script: long before the precache is done.
      await page.context().addInitScript(() => document.addEventListener('DOMContentLoaded', () => document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Shift' }))));
      await page.goto(`${server.origin}/${SUB_PATH}/`);
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: LOAD_MS, polling: 100 });
      await waitForPair(page, LOAD_MS);
      await page.waitForTimeout(1000); // a reload would have begun by now
      // Still the first document: not one the page reloaded.
      expect(await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).type)).toBe('navigate');
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(false);
      await page.reload();
      await waitForPair(page, LOAD_MS);
      expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('a new build waits until "Reload to update", then replaces the cached one', { timeout: 180_000 }, async () => {
    const { page, errors, close } = await openPage(browser, undefined, { serviceWorkers: 'allow' });
    const folder = join(site.root, SUB_PATH);
    try {
      await page.goto(`${server.origin}/${SUB_PATH}/`);
      await waitForServiceWorker(page);
      await waitForPair(page, LOAD_MS);
      const oldTitle = await page.title();

      // A new build: another index.html, so the precache manifest lists another revision of it.
      const html = readFileSync(join(folder, 'index.html'), 'utf8');
      writeFileSync(join(folder, 'index.html'), html.replace('<title>RLHF Playground</title>', '<title>RLHF Playground, new build</title>'));
      const sw = readFileSync(join(folder, 'service-worker.js'), 'utf8');
      const entry = /\{"revision":"([0-9a-f]+)","url":"index\.html"\}/.exec(sw);
      expect(entry).not.toBeNull();
      writeFileSync(join(folder, 'service-worker.js'), sw.replace(entry![0], entry![0].replace(entry![1], `${entry![1].slice(0, -4)}beef`)));

      // The next load finds the new worker; this tab keeps the old files until the user says so.
      await page.reload();
      await waitForPair(page, LOAD_MS);
      const update = page.getByRole('button', { name: 'Reload to update', exact: true });
      await update.waitFor({ timeout: LOAD_MS });
      expect(await page.title()).toBe(oldTitle);
      await update.click();
      await page.waitForFunction(() => document.title === 'RLHF Playground, new build', undefined, { timeout: LOAD_MS, polling: 100 });
      await waitForPair(page, LOAD_MS);
      expect(await page.getByRole('button', { name: 'Reload to update', exact: true }).count()).toBe(0);
      // The cache holds the new page only.
      const cached = await page.evaluate(async () => {
        const pages: string[] = [];
        for (const name of await caches.keys()) {
          const cache = await caches.open(name);
          for (const request of await cache.keys()) {
            if (/index\.html/.test(request.url)) pages.push((await (await cache.match(request))!.text()).match(/<title>(.*)<\/title>/)?.[1] ?? '');
          }
        }
        return pages;
      });
      expect(cached).toEqual(['RLHF Playground, new build']);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
