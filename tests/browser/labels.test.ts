// Labels are the user's work: they survive a reload, export as TRL preference JSONL and import
// again, a malformed file gets a clear message, a full storage (IndexedDB's quota) is reported without losing a label,
// labels can be changed and removed (the reward model refits in the background), a typed prompt
// names its unknown words (a worker crash: worker-crash.test.ts).
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { openPage, useServedBuild } from '../support/browser';
import { settle, statusLabels, waitForChartPoints, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;

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

describe('labels', () => {
  test('survive a reload, export as TRL JSONL, import back; change and remove refit the reward model', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?refitSteps=6`);
      await answer(page, ['A is better', 'B is better', 'Tie']);
      await waitForLabels(page, 3);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export labels', exact: true }).click()]);
      expect(download.suggestedFilename()).toBe('rlhf-playground-preferences.jsonl');
      const jsonl = readFileSync(await download.path(), 'utf8');
      const records = jsonl.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records).toHaveLength(2); // the tie is not a preference: it is left out, and the message says so
      await page.getByText(/Exported 2 labels as TRL preference JSONL\. 1 tie was left out/).waitFor();
      for (const r of records) {
        expect(typeof r.prompt).toBe('string');
        expect((r.chosen as string).startsWith(' ') || r.chosen === '').toBe(true); // TRL's separating space
        expect(typeof r.rejected).toBe('string');
        expect(r.annotator).toBe('human');
        expect(r.model).toBe('base');
      }
      expect(records[1].chosen_position).toBe('B');

      // Change the first label to B, remove the second: the RM refits (6 steps here) in the background.
      await page.getByText('Label history (3)').click();
      await page.getByLabel('Answer of label 1').selectOption('B');
      await page.getByRole('button', { name: 'Remove label 2' }).click();
      await page.getByRole('button', { name: 'Yes, remove' }).click(); // Remove asks first
      await waitForLabels(page, 2);
      await page.getByText(/The refit finished/).waitFor({ timeout: LOAD_MS });

      await page.reload();
      await settle(page, LOAD_MS);
      await waitForLabels(page, 2);
      await page.getByText('Label history (2)').click();
      await expect(page.getByLabel('Answer of label 1').inputValue()).resolves.toBe('B');
      // The reward model comes back from the stored checkpoint (taken after the refit): learned, no refit again.
      await expect.poll(async () => {
        const m = (await workerLast(page, 'rewardModel'))?.metrics;
        return m ? { cause: m.cause, labels: m.labels, learned: m.steps > 0 } : null;
      }, { timeout: LOAD_MS }).toEqual({ cause: 'restore', labels: 2, learned: true });
      expect(await page.getByText(/The refit finished|Refitting from the base model/).count()).toBe(0);

      // Import the exported file: a preview, then Merge: label 1 is held already, the removed one comes back.
      await page.getByLabel('Import labels', { exact: true }).setInputFiles({ name: 'prefs.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) });
      const preview = page.getByRole('region', { name: 'Import preview' });
      await expect(preview.textContent()).resolves.toMatch(/2 labels in 1 file; 1 not held yet.*prefs\.jsonl: read 2 lines in TRL's standard format/);
      await preview.getByRole('button', { name: 'Merge' }).click();
      await page.getByText(/prefs\.jsonl: imported 1 label; 1 already held/).waitFor({ timeout: LOAD_MS });
      await waitForLabels(page, 3);
      expect(await statusLabels(page)).toBe(3);
      await page.getByText(/The refit finished/).waitFor({ timeout: LOAD_MS }); // after the import

      // A refit on request: the progress shows, then the reward model is replaced.
      await page.getByRole('button', { name: 'Refit from scratch' }).click();
      await page.getByText(/The refit finished/).waitFor({ state: 'detached', timeout: LOAD_MS });
      await page.getByText(/The refit finished/).waitFor({ timeout: LOAD_MS });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('a malformed file gets a message naming the lines, and nothing changes', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/`);
      await answer(page, ['A is better']);
      await waitForLabels(page, 1);
      const bad = ['{"prompt": "the pizza was", "chosen": "good."', 'not json at all', '{"prompt": "x"}', '{"prompt": "the pizza was", "chosen": "zzyzx.", "rejected": "bad."}'].join('\n');
      await page.getByLabel('Import labels', { exact: true }).setInputFiles({ name: 'broken.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(bad) });
      const alert = page.getByRole('alert').filter({ hasText: 'broken.jsonl' });
      await expect(alert.textContent()).resolves.toMatch(/Nothing imported, your labels are unchanged\. broken\.jsonl: no label could be read \(4 lines\)\. line 1: not valid JSON.*line 2: not valid JSON.*line 3: missing "chosen"/);
      await expect(alert.textContent()).resolves.toMatch(/line 4: a completion has unknown words: "zzyzx"/);
      expect(await statusLabels(page)).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('a full storage is reported and no label is lost', async () => {
    const { page, close } = await openPage(app.browser);
    try {
      // IndexedDB refuses every label record, as a full disk does (the run's own record is written).
      await page.addInitScript(() => {
        const add = IDBObjectStore.prototype.add;
        IDBObjectStore.prototype.add = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>) {
          if (this.name === 'labels') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return add.apply(this, args);
        };
      });
      await page.goto(`${app.origin}/`);
      await answer(page, ['A is better', 'B is better']);
      await waitForLabels(page, 2);
      await expect(page.getByRole('alert').filter({ hasText: 'Could not save' }).textContent()).resolves.toMatch(
        /Could not save the labels: the browser storage is full\. Nothing is lost.*export them/,
      );
      // The labels are still in the page, learned and exportable.
      await waitForChartPoints(page, 'reward-model', 1, LOAD_MS);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export labels', exact: true }).click()]);
      expect(readFileSync(await download.path(), 'utf8').trim().split('\n')).toHaveLength(2);
    } finally {
      await close();
    }
  });

  test('a typed prompt names its unknown words; a known one is used for the next pairs', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/`);
      await waitForPair(page, LOAD_MS);
      const input = page.getByLabel('or your own');
      await input.fill('the pizza was yummy and xyz');
      await page.getByRole('button', { name: 'Use prompt' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toMatch(/does not know the words "yummy", "xyz"/);
      await input.fill('The cafe was');
      await input.press('Enter');
      await page.waitForFunction(() => document.querySelector('.pair-prompt strong')?.textContent === 'the cafe was', undefined, { timeout: LOAD_MS });
      await expect(page.getByRole('alert').count()).resolves.toBe(0);
      // A list entry works the same way.
      await page.locator('#prompt-select').selectOption('what a');
      await page.waitForFunction(() => document.querySelector('.pair-prompt strong')?.textContent === 'what a', undefined, { timeout: LOAD_MS });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
