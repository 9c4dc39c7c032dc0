// Shared checks for the page's browser tests: wait for the worker to finish, read the samples.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { DIST } from '../support/browser';

/** Waits until the status line leaves loading/sampling; returns the final phase and text. */
export async function settle(page: Page, timeoutMs: number): Promise<{ phase: string; text: string }> {
  const status = page.getByRole('status');
  await page.waitForFunction(
    () => {
      const phase = document.querySelector('[role="status"]')?.getAttribute('data-phase');
      return phase === 'ready' || phase === 'error';
    },
    undefined,
    { timeout: timeoutMs, polling: 100 },
  );
  return { phase: (await status.getAttribute('data-phase')) ?? '', text: (await status.textContent()) ?? '' };
}

export interface ShownSample {
  prompt: string;
  completion: string;
}

export async function shownSamples(page: Page): Promise<ShownSample[]> {
  return page.locator('ol.samples li').evaluateAll((items) =>
    items.map((li) => ({
      prompt: li.querySelector('.prompt')?.textContent ?? '',
      completion: li.querySelector('.completion')?.getAttribute('data-completion') ?? '',
    })),
  );
}

/** The shipped vocabulary (PAD and EOS included). */
export function shippedVocab(): Set<string> {
  return new Set(JSON.parse(readFileSync(join(DIST, 'models/base/vocab.json'), 'utf8')) as string[]);
}

const WORD_RE = /[a-z']+|[.,]/g; // the tokenizer's split (src/lib/data/corpus.ts)

/** Tokens of a shown completion that are not in the vocabulary (empty when all are). */
export function unknownWords(text: string, vocab: Set<string>): string[] {
  return (text.match(WORD_RE) ?? []).filter((w) => !vocab.has(w));
}

export async function backendBadge(page: Page): Promise<string> {
  return ((await page.getByLabel('Backend', { exact: true }).textContent()) ?? '').trim();
}
