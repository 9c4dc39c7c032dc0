// Export checkpoint / Import checkpoint (issue 12): a trained run exported from one browser profile
// and imported in a fresh one brings its labels and models (PPO's step count, the reward model's
// labels); a file with a bad checksum, truncated, or for another model size is refused in an alert
// that names the problem, and the page's labels stay as they were.
import { readFileSync } from 'node:fs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import type { Page, Worker } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import type { FromWorker } from '../../src/lib/protocol/messages';
import { openPage, useServedBuild } from '../support/browser';
import { waitForPair } from './page-helpers';

const LOAD_MS = 60_000;
const QUERY = '?ppo.rolloutsPerIteration=8&refitEvery=0';

const app = useServedBuild();

async function waitForLabels(page: Page, n: number): Promise<void> {
  await page.waitForFunction((k) => document.querySelector('[role="status"][aria-label="Run status"]')?.getAttribute('data-labels') === String(k), n, { timeout: LOAD_MS });
}

/** The last message of `type` the worker posted, as JSON (transferred bytes left out), polled until `ok`. */
async function waitForPosted<T extends FromWorker['type']>(worker: Worker, type: T, ok: (m: Extract<FromWorker, { type: T }>) => boolean): Promise<Extract<FromWorker, { type: T }>> {
  const until = Date.now() + LOAD_MS;
  for (;;) {
    const json = await worker.evaluate((t) => JSON.stringify((self as unknown as { lastPosted: Record<string, unknown> }).lastPosted[t] ?? null), type);
    const last = JSON.parse(json) as Extract<FromWorker, { type: T }> | null;
    if (last && ok(last)) return last;
    if (Date.now() > until) throw new Error(`the worker posted no matching "${type}" within ${LOAD_MS} ms (last: ${json})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('checkpoint file', () => {
  test('exported from one profile, imported in a fresh one with its labels and models; bad files are refused and change nothing', async () => {
    let file: Buffer;
    {
      const { page, close } = await openPage(app.browser);
      try {
        await page.goto(`${app.origin}/${QUERY}`);
        let id = await waitForPair(page, LOAD_MS);
        for (const name of ['A is better', 'B is better', 'Tie']) {
          await page.getByRole('button', { name, exact: true }).click();
          id = await waitForPair(page, LOAD_MS, id);
        }
        await waitForLabels(page, 3);
        const worker = page.workers()[0];
        await waitForPosted(worker, 'rewardModel', (m) => m.metrics.labels === 3);
        await page.getByRole('button', { name: 'Step', exact: true }).click();
        await waitForPosted(worker, 'iteration', (m) => m.method === 'ppo' && m.step === 1);
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export checkpoint' }).click()]);
        expect(download.suggestedFilename()).toBe('rlhf-playground-checkpoint.zip');
        file = readFileSync(await download.path());
        await expect(page.locator('[aria-label="Checkpoint file"]').textContent()).resolves.toMatch(/^Exported the checkpoint of 3 labels, PPO 1 step \(\d+\.\d MB\)\.$/);
      } finally {
        await close();
      }
    }
    const parts = unzipSync(new Uint8Array(file));
    expect(Object.keys(parts).sort()).toEqual(['labels.jsonl', 'model.json', 'run.json', 'vocab.json', 'weights.bin']);
    expect(JSON.parse(strFromU8(parts['model.json'])).weightsManifest[0].weights.length).toBeGreaterThan(0);
    expect(strFromU8(parts['labels.jsonl']).trim().split('\n')).toHaveLength(3);

    const { page, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/${QUERY}`);
      await waitForPair(page, LOAD_MS);
      const input = page.getByLabel('Import checkpoint');
      const refused = async (name: string, bytes: Uint8Array, why: RegExp) => {
        const alert = page.getByRole('alert').filter({ hasText: `${name} was not imported` });
        await input.setInputFiles({ name, mimeType: 'application/zip', buffer: Buffer.from(bytes) });
        await alert.waitFor({ timeout: LOAD_MS });
        await expect(alert.textContent()).resolves.toMatch(why);
        await expect(page.getByRole('status', { name: 'Run status' }).getAttribute('data-labels')).resolves.toBe('0');
      };
      const weights = parts['weights.bin'].slice();
      weights[weights.length >> 1] ^= 0xff;
      await refused('flipped.zip', zipSync({ ...parts, 'weights.bin': weights }, { level: 0 }), /^flipped\.zip was not imported: .*the checkpoint's weights are corrupted: their CRC-32 is [0-9a-f]+, model\.json says [0-9a-f]+\. Your labels and models are unchanged\.$/);
      await refused('half.zip', file.subarray(0, file.length >> 1), /^half\.zip was not imported: .*truncated.*Your labels and models are unchanged\.$/);
      const manifest = JSON.parse(strFromU8(parts['model.json']));
      manifest.config.dModel *= 2;
      await refused('wide.zip', zipSync({ ...parts, 'model.json': strToU8(JSON.stringify(manifest)) }, { level: 0 }), /^wide\.zip was not imported: .*another model size \(.*width 128.*\); this page's model has .*width 64/);

      await input.setInputFiles({ name: 'run.zip', mimeType: 'application/zip', buffer: file });
      // The message replaces the last refusal's in the same place once the restore is done.
      const done = page.locator('[aria-label="Checkpoint file"]');
      await expect.poll(() => done.textContent(), { timeout: LOAD_MS }).toMatch(/^run\.zip: restored the checkpoint of 3 labels, PPO 1 step, seed 1\.$/);
      await waitForLabels(page, 3);
      const worker = page.workers()[0];
      const restored = await waitForPosted(worker, 'checkpointRestored', () => true);
      expect(restored.steps).toMatchObject({ ppo: 1 });
      expect(restored.labels).toHaveLength(3);
      await waitForPosted(worker, 'rewardModel', (m) => m.metrics.cause === 'restore' && m.metrics.labels === 3 && m.metrics.steps > 0);
    } finally {
      await close();
    }
  });
});
