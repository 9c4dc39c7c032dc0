// Sharing and importing labels in real Chromium (issue 12): a share link with labels opened in a
// fresh browser profile gives exactly the same label list; an imported HTML or script payload is
// shown as text and runs nothing; an empty file and a 50 MB file are refused by name with the
// labels untouched; several students' files merge after a preview that states their agreement;
// and "Export for TRL" downloads a zip of Hugging Face folders, the labels, a README and a script.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { openPage, useServedBuild } from '../support/browser';
import { settle, statusLabels, waitForPair } from './page-helpers';

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

/** The label list as the page shows it: each row's id and text, newest first. */
async function labelRows(page: Page): Promise<{ id: string; text: string }[]> {
  const summary = page.locator('summary', { hasText: 'Label history' });
  if ((await summary.locator('xpath=..').getAttribute('open')) === null) await summary.click();
  return page.locator('li[data-label-id]').evaluateAll((items) =>
    items.map((li) => ({ id: li.getAttribute('data-label-id') ?? '', text: (li.querySelector('.text')?.textContent ?? '').replace(/\s+/g, ' ').trim() })),
  );
}

async function exportedJsonl(page: Page): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export labels', exact: true }).click()]);
  return readFileSync(await download.path(), 'utf8');
}

const line = (prompt: string, chosen: string, rejected: string, extra: Record<string, unknown> = {}) => JSON.stringify({ prompt, chosen, rejected, ...extra });

describe('sharing labels', () => {
  test('a share link with labels reproduces the label list in a fresh browser profile', async () => {
    const first = await openPage(app.browser);
    let link: string;
    let rows: { id: string; text: string }[];
    let jsonl: string;
    try {
      await first.page.goto(`${app.origin}/?seed=5&refitSteps=6`);
      await answer(first.page, ['A is better', 'B is better', 'Tie', 'A is better']);
      await waitForLabels(first.page, 4);
      rows = await labelRows(first.page);
      jsonl = await exportedJsonl(first.page);
      await first.page.getByLabel('with the labels').check();
      await first.page.getByRole('button', { name: 'Copy share link', exact: true }).click();
      link = await first.page.getByLabel('Share link', { exact: true }).inputValue();
      expect(link).toMatch(/[?&]seed=5/);
      expect(link).toMatch(/[?&]labels=[A-Za-z0-9_-]+/);
    } finally {
      await first.close();
    }
    const second = await openPage(app.browser); // a new context: no storage shared with the first
    try {
      await second.page.goto(link);
      await settle(second.page, LOAD_MS);
      await second.page.getByText('Loaded 4 labels from the link.').waitFor({ timeout: LOAD_MS });
      await waitForLabels(second.page, 4);
      expect(await labelRows(second.page)).toEqual(rows);
      expect(await exportedJsonl(second.page)).toBe(jsonl); // ids, prompts, completions, answers, provenance
      expect(second.page.url()).not.toMatch(/labels=/); // loaded once: a reload does not load them again
      expect(second.page.url()).toMatch(/seed=5/);
      expect(second.errors).toEqual([]);
    } finally {
      await second.close();
    }
  });

  test('a share link over the size cap is refused with the labels file offered instead', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?refitSteps=1&refitEvery=0`);
      await settle(page, LOAD_MS);
      // 2,000 labels of random known words: they deflate far less than real labels, past 32,000 characters.
      const words = ['great', 'good', 'bad', 'awful', 'nice', 'pizza', 'the', 'was', 'it', 'loved', 'i', 'and', 'but'];
      let seed = 7;
      const pick = () => words[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % words.length];
      const text = (n: number) => ` ${Array.from({ length: n }, pick).join(' ')}.`;
      const file = Array.from({ length: 2000 }, () => line('the pizza was', text(8), text(8))).join('\n');
      await page.getByLabel('Import labels', { exact: true }).setInputFiles({ name: 'many.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(file) });
      await page.getByRole('button', { name: 'Merge', exact: true }).click({ timeout: LOAD_MS });
      await waitForLabels(page, 2000);
      await page.getByLabel('with the labels').check();
      await page.getByRole('button', { name: 'Copy share link', exact: true }).click();
      await expect(page.getByRole('alert').filter({ hasText: 'share the labels' }).textContent()).resolves.toMatch(
        /With 2000 labels the link would be [\d,]+ characters, over the 32,000 that mail and chat programs pass on\. Share the labels as a file instead \("Export labels"\)/i,
      );
      expect(await page.getByLabel('Share link', { exact: true }).count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('an imported HTML or script payload is shown as text and runs nothing', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/`);
      await settle(page, LOAD_MS);
      const payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
      const file = [line('the pizza was', ' great.', ' bad.'), line('the pizza was', ` ${payload}`, ' bad.'), line(payload, ' great.', ' bad.')].join('\n');
      const images = await page.locator('img').count();
      await page.getByLabel('Import labels', { exact: true }).setInputFiles({ name: 'payload.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(file) });
      const alert = page.getByRole('region', { name: 'Import preview' }).getByRole('alert');
      await expect(alert.textContent()).resolves.toMatch(/line 2: a completion has unknown words: "<img".*line 3: its prompt has unknown words: "<img"/);
      await expect(alert.textContent()).resolves.toContain('"onerror="window.__pwned=1"><script>window.__pwned=2</script>"');
      await page.getByRole('button', { name: 'Merge', exact: true }).click();
      await waitForLabels(page, 1);
      expect(await page.locator('img').count()).toBe(images);
      expect(await page.locator('section script, .problem script').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('an empty file and a 50 MB file are refused by name; the labels stay as they were', async () => {
    const { page, errors, close } = await openPage(app.browser);
    const dir = mkdtempSync(join(tmpdir(), 'big-import-'));
    try {
      await page.goto(`${app.origin}/`);
      await answer(page, ['A is better']);
      await waitForLabels(page, 1);
      const input = page.getByLabel('Import labels', { exact: true });
      await input.setInputFiles({ name: 'empty.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from('\n\n') });
      await expect(page.getByRole('alert').filter({ hasText: 'empty.jsonl' }).textContent()).resolves.toMatch(/Nothing imported, your labels are unchanged\. empty\.jsonl is empty: it holds no label/);
      const big = join(dir, 'big.jsonl');
      writeFileSync(big, '');
      truncateSync(big, 50 * 1024 * 1024);
      await input.setInputFiles(big);
      await expect(page.getByRole('alert').filter({ hasText: 'big.jsonl' }).textContent()).resolves.toMatch(/big\.jsonl is 50\.0 MB; the page reads label files up to 8 MB/);
      expect(await statusLabels(page)).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await close();
    }
  });

  test("several students' files merge after a preview with their agreement", async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/`);
      await settle(page, LOAD_MS);
      const alice = [line('the pizza was', ' great.', ' bad.'), line('the pizza was', ' good.', ' awful.'), line('i loved', ' it.', ' the pizza.')].join('\n');
      // Bob saw the first pair with its sides swapped (same answer), disagrees on the second, and has one of his own.
      const bob = [
        JSON.stringify({ chosen: [{ role: 'user', content: 'the pizza was' }, { role: 'assistant', content: 'great.' }], rejected: [{ role: 'user', content: 'the pizza was' }, { role: 'assistant', content: 'bad.' }] }),
        line('the pizza was', ' awful.', ' good.'),
        line('the pizza was', ' nice.', ' bad.'),
      ].join('\n');
      await page.getByLabel('Import labels', { exact: true }).setInputFiles([
        { name: 'alice.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(alice) },
        { name: 'bob.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(bob) },
      ]);
      const preview = page.getByRole('region', { name: 'Import preview' });
      const text = (await preview.textContent()) ?? '';
      expect(text).toMatch(/5 labels in 2 files/); // Bob's first line is Alice's first label (same pair, same answer, no id): one label
      expect(text).toMatch(/bob\.jsonl: read 2 lines in TRL's standard format, 1 line in TRL's conversational format with an implicit prompt/);
      expect(text).toMatch(/Agreement between annotators: these 2 files share 2 pairs, and 1 of them \(50 %\) got the same answer from everyone who labelled them\./);
      await preview.getByRole('button', { name: 'Merge' }).click();
      await waitForLabels(page, 5);
      await page.getByText(/alice\.jsonl, bob\.jsonl: imported 5 labels\./).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('Export for TRL downloads Hugging Face folders, the labels, a README and a script', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/`);
      await answer(page, ['A is better', 'Tie']);
      await waitForLabels(page, 2);
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: LOAD_MS }), page.getByRole('button', { name: 'Export for TRL', exact: true }).click()]);
      expect(download.suggestedFilename()).toBe('rlhf-playground-trl.zip');
      const files = unzipSync(readFileSync(await download.path()));
      const root = 'rlhf-playground-trl';
      for (const f of ['policy-base/config.json', 'policy-base/model.safetensors', 'policy-base/tokenizer.json', 'reward-model/config.json', 'reward-model/model.safetensors', 'preferences.jsonl', 'ties.jsonl', 'README.md', 'train_trl.py']) {
        expect(Object.keys(files)).toContain(`${root}/${f}`);
      }
      const config = JSON.parse(strFromU8(files[`${root}/policy-base/config.json`])) as Record<string, unknown>;
      expect(config).toMatchObject({ architectures: ['GPT2LMHeadModel'], activation_function: 'gelu_new', tie_word_embeddings: false, n_layer: 2, n_head: 4, n_embd: 64 });
      expect(strFromU8(files[`${root}/preferences.jsonl`]).trim().split('\n')).toHaveLength(1);
      expect(strFromU8(files[`${root}/ties.jsonl`]).trim().split('\n')).toHaveLength(1);
      await page.getByText(/Exported for TRL: policy-base, reward-model, 1 preference and 1 tie/).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
