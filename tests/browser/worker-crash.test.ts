// A crashed worker (issue 12): killed mid-training (an uncaught error thrown inside it, as a real
// crash arrives), the page starts a fresh worker by itself, restores the latest checkpoint and the
// label given after it, resumes PPO from the checkpoint's iteration and says so; no label is lost.
// A worker that keeps crashing is restarted at most 3 times a minute, then the page waits for
// Restart, which starts over from the labels.
import type { Page, Worker } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import type { FromWorker } from '../../src/lib/protocol/messages';
import { openPage, useServedBuild } from '../support/browser';
import { waitForPair } from './page-helpers';

const LOAD_MS = 60_000;
/** Small PPO iterations, so that the periodic checkpoint (every 5) comes within seconds. */
const QUERY = '?ppo.rolloutsPerIteration=8&refitEvery=0';

const app = useServedBuild();

async function answer(page: Page, names: string[]): Promise<void> {
  let id = await waitForPair(page, LOAD_MS);
  for (const name of names) {
    await page.getByRole('button', { name, exact: true }).click();
    id = await waitForPair(page, LOAD_MS, id);
  }
}

async function waitForLabels(page: Page, n: number): Promise<void> {
  await page.waitForFunction((k) => document.querySelector('[role="status"]')?.getAttribute('data-labels') === String(k), n, { timeout: LOAD_MS });
}

async function waitForPhase(page: Page, phase: string): Promise<void> {
  await page.waitForFunction((p) => document.querySelector('[role="status"]')?.getAttribute('data-phase') === p, phase, { timeout: LOAD_MS });
}

/** The last message of `type` a given worker posted (src/worker/main.ts keeps them), polled until `ok`. */
async function waitForPosted<T extends FromWorker['type']>(worker: Worker, type: T, ok: (m: Extract<FromWorker, { type: T }>) => boolean): Promise<Extract<FromWorker, { type: T }>> {
  const until = Date.now() + LOAD_MS;
  for (;;) {
    // As JSON: a checkpoint's bytes were transferred to the page (detached here), and only its meta is read.
    const json = await worker.evaluate((t) => JSON.stringify((self as unknown as { lastPosted: Record<string, unknown> }).lastPosted[t] ?? null), type);
    const last = JSON.parse(json) as Extract<FromWorker, { type: T }> | null;
    if (last && ok(last)) return last;
    if (Date.now() > until) throw new Error(`the worker posted no matching "${type}" within ${LOAD_MS} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Throws inside the worker, outside any handler: the page sees the worker's error event. Resolves with the fresh worker the page starts. */
async function crash(page: Page, worker: Worker): Promise<Worker> {
  const next = page.waitForEvent('worker', { timeout: LOAD_MS });
  await worker.evaluate(() => {
    setTimeout(() => {
      throw new Error('simulated crash');
    }, 0);
  });
  return next;
}

describe('worker crash', () => {
  test('killed mid-training, the worker restarts from the checkpoint by itself: no label lost, PPO goes on from the checkpoint', async () => {
    const { page, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/${QUERY}`);
      await answer(page, ['A is better', 'B is better', 'A is better']);
      await waitForLabels(page, 3);
      const first = page.workers()[0];
      await waitForPosted(first, 'rewardModel', (m) => m.metrics.labels === 3);
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      const checkpoint = await waitForPosted(first, 'checkpoint', (m) => m.reason === 'periodic');
      const savedSteps = checkpoint.meta.steps.ppo;
      expect(checkpoint.meta.labels).toBe(3);
      expect(savedSteps).toBeGreaterThanOrEqual(5);
      // A label given after the checkpoint, while PPO trains: the restart must learn it again.
      await answer(page, ['B is better']);
      await waitForLabels(page, 4);
      await waitForPosted(first, 'rewardModel', (m) => m.metrics.labels === 4);
      const latest = (await waitForPosted(first, 'checkpoint', () => true)).meta;

      const second = await crash(page, first);
      const note = page.getByRole('status', { name: 'Worker restart' });
      await note.waitFor({ timeout: LOAD_MS });
      const iterations = Object.entries(latest.steps).reduce((n, [name, k]) => n + (name === 'reward' ? 0 : k), 0);
      const after = 4 - latest.labels;
      await expect(note.textContent()).resolves.toMatch(
        new RegExp(`The worker stopped \\(.*simulated crash.*\\); restarted from the checkpoint of ${latest.labels} labels, ${iterations} iterations${after > 0 ? `; the ${after} label given after it is learned again` : ''}; training goes on\\.`),
      );
      await waitForLabels(page, 4);
      // The fresh worker holds every label and trains PPO on from the checkpoint's iteration.
      await waitForPosted(second, 'rewardModel', (m) => m.metrics.labels === 4);
      const resumed = await waitForPosted(second, 'iteration', (m) => m.method === 'ppo');
      expect(resumed.step).toBeGreaterThan(latest.steps.ppo);
      expect(resumed.step).toBeLessThanOrEqual(latest.steps.ppo + 3);
      await expect(page.getByRole('status', { name: 'Run status' }).getAttribute('data-running')).resolves.toBe('true');
      // The chart kept the iterations up to the checkpoint and goes on from there.
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
    } finally {
      await close();
    }
  });

  test('a worker that keeps crashing is restarted 3 times in a minute, then the page waits for Restart; the labels stay', async () => {
    const { page, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/${QUERY}`);
      await answer(page, ['A is better', 'Tie']);
      await waitForLabels(page, 2);
      let worker = page.workers()[0];
      for (let i = 0; i < 3; i++) {
        worker = await crash(page, worker);
        await waitForPhase(page, 'ready');
        await waitForPosted(worker, 'rewardModel', (m) => m.metrics.labels === 2);
      }
      await worker.evaluate(() => {
        setTimeout(() => {
          throw new Error('simulated crash');
        }, 0);
      });
      await waitForPhase(page, 'error');
      await expect(page.getByRole('status', { name: 'Run status' }).textContent()).resolves.toMatch(
        /simulated crash.*It stopped 4 times within a minute, so the page does not restart it by itself again: press Restart to start over from your labels\. · 2 labels kept/,
      );
      await page.getByRole('button', { name: 'Restart the worker' }).click();
      await waitForPhase(page, 'ready');
      await waitForLabels(page, 2);
      await answer(page, ['B is better']);
      await waitForLabels(page, 3);
    } finally {
      await close();
    }
  });
});
