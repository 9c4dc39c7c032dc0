// The run survives a reload (issue 12, persistence): 20 labels and the charts come back from
// IndexedDB, and a trained PPO policy through its stored checkpoint (the strip is the same); "New run" asks first and keeps the old run in the list, which can be reopened and
// deleted. Two tabs never lose each other's labels: the second opens read-only, keeps its labels
// in memory, and takes over (the first becomes read-only and says so), and the unload warning asks
// only while something is unsaved. Without IndexedDB the page works in memory, says so and exports.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { openPage, useServedBuild } from '../support/browser';
import { chartTable, report, settle, statusLabels, waitForChartPoints, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;
/** Learning 20 labels and a PPO step on WASM, with other work on 2 cores. */
const TRAIN_MS = 180_000;

/** Long enough for the worker's idle turn to post a fresh strip after a pause. */
const STRIP_SETTLE_MS = 2000;

const app = useServedBuild();

/** Labels the page counts (the status line's data-labels): stored ones only. */
async function pageLabels(page: Page): Promise<number> {
  return Number(await page.getByRole('status', { name: 'Run status' }).getAttribute('data-labels'));
}

/** The worker's last checkpoint event, its meta only (its bytes went to the page: read as JSON, they are detached here). */
async function lastCheckpoint(page: Page): Promise<{ reason: string; meta: { steps: Record<string, number> } } | null> {
  const json = await page.workers()[0].evaluate(() => JSON.stringify((self as unknown as { lastPosted: Record<string, unknown> }).lastPosted.checkpoint ?? null));
  return JSON.parse(json) as { reason: string; meta: { steps: Record<string, number> } } | null;
}

async function waitForLabels(page: Page, n: number, timeout = LOAD_MS): Promise<void> {
  await expect.poll(() => pageLabels(page), { timeout, interval: 100 }).toBe(n);
}

/** Answers `n` pairs with key 1, each once it is on screen. */
async function label(page: Page, n: number): Promise<void> {
  let id = await waitForPair(page, LOAD_MS);
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('1');
    if (i < n - 1) id = await waitForPair(page, LOAD_MS, id);
  }
}

describe('persistence', () => {
  test('a reload keeps 20 labels and the charts; New run keeps the old run, which opens again', { timeout: LOAD_MS * 4 + TRAIN_MS * 2 }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?refitSteps=6`);
      await label(page, 20);
      await waitForLabels(page, 20);
      await expect.poll(async () => (await workerLast(page, 'rewardModel'))?.metrics.labels ?? 0, { timeout: TRAIN_MS, interval: 250 }).toBe(20);
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      const anyway = page.getByRole('button', { name: 'Step anyway' });
      if (await anyway.isVisible().catch(() => false)) await anyway.click();
      await waitForChartPoints(page, 'ppo-reward-model-score', 1, TRAIN_MS);
      const rewardBefore = await chartTable(page, 'Reward model');
      const ppoBefore = await chartTable(page, 'PPO Reward-model score');
      await page.waitForTimeout(2500); // the charts are saved within 2 s (METRICS_SAVE_MS)

      await page.reload();
      await settle(page, LOAD_MS);
      await waitForLabels(page, 20);
      expect(await statusLabels(page)).toBe(20);
      const rewardAfter = await chartTable(page, 'Reward model');
      const ppoAfter = await chartTable(page, 'PPO Reward-model score');
      expect(rewardAfter.rows.slice(0, rewardBefore.rows.length)).toEqual(rewardBefore.rows);
      expect(ppoAfter.rows).toEqual(ppoBefore.rows);
      report('persistence: rows restored after a reload', { reward: rewardBefore.rows.length, ppo: ppoBefore.rows.length });

      // New run asks first; the page loads again with no labels; the old run is listed and opens again.
      await page.getByRole('button', { name: 'New run', exact: true }).click();
      await expect(page.getByRole('group').filter({ hasText: 'Start a new run?' }).textContent()).resolves.toMatch(/Run 1 \(20 labels, its charts and models\) stays in the list/);
      await page.getByRole('button', { name: 'Yes, start a new run' }).click();
      await page.waitForURL(/refitSteps=6/, { waitUntil: 'load' });
      await settle(page, LOAD_MS);
      await waitForLabels(page, 0);
      const runs = page.getByRole('list', { name: 'Stored runs' });
      await expect.poll(() => runs.getByRole('listitem').allTextContents(), { timeout: LOAD_MS }).toEqual([
        expect.stringMatching(/^Run 2 \(this run\) · started .* · 0 labels/),
        expect.stringMatching(/^Run 1 · started .* · 20 labels/),
      ]);
      await label(page, 1);
      await waitForLabels(page, 1);

      // Run 1's labels export from the list without opening it.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: "Export Run 1's labels as JSONL" }).click()]);
      expect(readFileSync(await download.path(), 'utf8').trim().split('\n')).toHaveLength(20);

      await page.getByRole('button', { name: 'Open Run 1' }).click();
      await page.waitForFunction(() => document.querySelector('[role="status"]')?.getAttribute('data-labels') === '20', undefined, { timeout: LOAD_MS });
      await settle(page, LOAD_MS);
      expect((await chartTable(page, 'PPO Reward-model score')).rows).toEqual(ppoBefore.rows);
      await page.getByRole('button', { name: 'Delete Run 2' }).click();
      await page.getByRole('button', { name: 'Yes, delete' }).click();
      await expect.poll(() => runs.getByRole('listitem').count(), { timeout: LOAD_MS }).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('a reload keeps the trained policy (its stored checkpoint): PPO\'s iterations, its chart and the sample strip equal those before', { timeout: LOAD_MS * 4 + TRAIN_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?ppo.rolloutsPerIteration=8&refitEvery=0`);
      await label(page, 3);
      await waitForLabels(page, 3);
      await expect.poll(async () => (await workerLast(page, 'rewardModel'))?.metrics.labels ?? 0, { timeout: TRAIN_MS, interval: 250 }).toBe(3);
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      const anyway = page.getByRole('button', { name: 'Train anyway' });
      if (await anyway.isVisible().catch(() => false)) await anyway.click();
      await waitForChartPoints(page, 'ppo-reward-model-score', 2, TRAIN_MS);
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      // Paused: the worker posts a checkpoint, the page stores it, and the strip shows PPO's samples.
      await expect.poll(async () => (await workerLast(page, 'runState'))?.running, { timeout: TRAIN_MS }).toBe(false);
      await expect.poll(async () => (await lastCheckpoint(page))?.reason, { timeout: TRAIN_MS }).toBe('pause');
      const strip = page.locator('table[aria-label="Sample strip"] tbody tr[data-model="ppo"] td.policy');
      await expect.poll(() => strip.count(), { timeout: TRAIN_MS }).toBeGreaterThan(0);
      // During training the strip is redrawn at most every few seconds; once paused the worker
      // samples it again from the paused policy: wait until it stops changing.
      let before = await strip.allTextContents();
      for (;;) {
        await page.waitForTimeout(STRIP_SETTLE_MS);
        const again = await strip.allTextContents();
        if (again.join('\n') === before.join('\n')) break;
        before = again;
      }
      const steps = (await lastCheckpoint(page))?.meta.steps.ppo ?? 0;
      const ppoRows = (await chartTable(page, 'PPO Reward-model score')).rows;
      await expect.poll(() => page.evaluate(() => new Promise<number>((resolve) => {
        const open = indexedDB.open('rlhf-playground');
        open.onsuccess = () => {
          const get = open.result.transaction('checkpoints').objectStore('checkpoints').getAll();
          get.onsuccess = () => resolve((get.result as { meta: { steps: Record<string, number> } }[]).reduce((n, c) => Math.max(n, c.meta.steps.ppo ?? 0), 0));
        };
      })), { timeout: LOAD_MS }).toBe(steps); // the stored checkpoint is the paused one

      await page.reload();
      await settle(page, LOAD_MS);
      await expect.poll(async () => (await workerLast(page, 'runState'))?.steps.ppo ?? 0, { timeout: TRAIN_MS }).toBe(steps);
      await expect.poll(() => strip.count(), { timeout: TRAIN_MS }).toBe(before.length);
      expect(await strip.allTextContents()).toEqual(before);
      expect((await chartTable(page, 'PPO Reward-model score')).rows).toEqual(ppoRows);
      await waitForLabels(page, 3);
      report('persistence: PPO iterations kept over a reload', steps);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('two tabs: the second is read-only, takes over, and both tabs\' labels are kept (5 + 5 = 10, then + 1 when the writer closes)', { timeout: LOAD_MS * 4 }, async () => {
    const { page: first, errors, close } = await openPage(app.browser);
    try {
      await first.goto(`${app.origin}/`);
      await settle(first, LOAD_MS);
      const second = await first.context().newPage();
      await second.goto(`${app.origin}/`);
      await settle(second, LOAD_MS);
      const banner = (p: Page) => p.getByRole('alert', { name: 'Read-only' });
      await expect(banner(second).textContent()).resolves.toMatch(/This run is open in another tab, so this tab is read-only/);
      await expect(banner(first).count()).resolves.toBe(0);

      await label(first, 5);
      await label(second, 5);
      await waitForLabels(first, 5);
      await waitForLabels(second, 5); // held in memory: counted, and the banner says they are not saved
      await expect(banner(second).textContent()).resolves.toMatch(/5 label changes made here are kept in this tab only/);

      await second.getByRole('button', { name: 'Take over' }).click();
      await waitForLabels(second, 10);
      await expect(banner(second).count()).resolves.toBe(0);
      await expect(banner(first).textContent()).resolves.toMatch(/Another tab took over this run, so this tab is read-only now/);

      // The unload warning asks only while something is unsaved: the first tab's new label is.
      const dialogs: string[] = [];
      first.on('dialog', (d) => void (dialogs.push(`first:${d.type()}`), d.dismiss()));
      second.on('dialog', (d) => void (dialogs.push(`second:${d.type()}`), d.accept()));
      await label(first, 1);
      await waitForLabels(first, 6);
      await expect(banner(first).textContent()).resolves.toMatch(/1 label change made here is kept in this tab only/);
      await first.close({ runBeforeUnload: true }); // asks, and stays open (dismissed)
      await expect.poll(() => dialogs).toEqual(['first:beforeunload']);
      // The writer closes with nothing unsaved (no question); the first tab gets the lock and writes its label.
      await second.close({ runBeforeUnload: true });
      await waitForLabels(first, 11);
      await expect(banner(first).count()).resolves.toBe(0);
      expect(dialogs, JSON.stringify(dialogs)).toEqual(['first:beforeunload']);
      await first.reload();
      await settle(first, LOAD_MS);
      await waitForLabels(first, 11);
      report('persistence: two tabs, labels stored', await pageLabels(first));
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('without IndexedDB the page works in memory, says so, and exports the labels', { timeout: LOAD_MS * 3 }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.addInitScript(() => Object.defineProperty(window, 'indexedDB', { configurable: true, get: () => undefined }));
      await page.goto(`${app.origin}/`);
      await settle(page, LOAD_MS);
      const alert = page.getByRole('alert', { name: 'Storage' });
      await expect(alert.textContent()).resolves.toMatch(/Could not save the labels: this browser gives the page no storage .*kept in memory only.*export them as JSONL/);
      await label(page, 2);
      await waitForLabels(page, 2);
      await expect(alert.textContent()).resolves.toMatch(/2 label changes not saved/);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export the labels now' }).click()]);
      expect(readFileSync(await download.path(), 'utf8').trim().split('\n')).toHaveLength(2);
      await expect(page.getByRole('button', { name: 'New run' }).getAttribute('aria-disabled')).resolves.toBe('true');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
