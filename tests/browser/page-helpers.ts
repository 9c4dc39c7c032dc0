// Shared checks for the page's browser tests: wait for the worker to finish, read the samples,
// the charts and tables, and the worker's own last messages (to compare with what the page shows).
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { FromWorker } from '../../src/lib/protocol/messages';
import { DIST, ROOT, SCREENSHOT_DIR } from '../support/browser';

/** Waits until the status line leaves loading/sampling; returns the final phase and text. */
export async function settle(page: Page, timeoutMs: number): Promise<{ phase: string; text: string }> {
  const status = page.getByRole('status', { name: 'Run status' });
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

// ---- the RLHF loop ----

/** The id of the pair on screen ('' while none). */
export async function pairId(page: Page): Promise<string> {
  return (await page.locator('.pair').getAttribute('data-pair-id')) ?? '';
}

/** Waits until a pair other than `notId` is on screen; returns its id. */
export async function waitForPair(page: Page, timeoutMs: number, notId = ''): Promise<string> {
  const handle = await page.waitForFunction(
    (old) => {
      const id = document.querySelector('.pair')?.getAttribute('data-pair-id') ?? '';
      return id !== '' && id !== old ? id : false;
    },
    notId,
    { timeout: timeoutMs, polling: 20 },
  );
  return (await handle.jsonValue()) as string;
}

/** The label count the status line reports ("N labels"). */
export async function statusLabels(page: Page): Promise<number> {
  const text = (await page.getByRole('status', { name: 'Run status' }).first().textContent()) ?? '';
  const m = /(\d+) labels?\b/.exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Points a chart holds (data-points of its figure; the slug of "Reward model" is "reward-model"). */
export async function chartPoints(page: Page, slug: string): Promise<number> {
  const v = await page.locator(`[data-chart="${slug}"]`).getAttribute('data-points');
  return Number(v ?? NaN);
}

export async function waitForChartPoints(page: Page, slug: string, atLeast: number, timeoutMs: number): Promise<number> {
  const handle = await page.waitForFunction(
    ([s, n]) => {
      const v = Number(document.querySelector(`[data-chart="${s}"]`)?.getAttribute('data-points') ?? NaN);
      return v >= n ? v : false;
    },
    [slug, atLeast] as const,
    { timeout: timeoutMs, polling: 100 },
  );
  return (await handle.jsonValue()) as number;
}

/** Opens a chart's table view (by the chart's name) and reads its header and rows as numbers. */
export async function chartTable(page: Page, name: string): Promise<{ header: string[]; rows: number[][] }> {
  const table = page.getByRole('table', { name: `${name} chart data`, exact: true });
  if (!(await table.isVisible().catch(() => false))) {
    await page.locator(`figure:has(canvas[aria-label="${name} chart"]) summary`).click();
  }
  await table.waitFor();
  // The table follows the chart's throttled redraws: wait until it lists every point (up to its first page).
  await page.waitForFunction(
    (n) => {
      const figure = [...document.querySelectorAll('figure[data-chart]')].find((f) => f.querySelector(`canvas[aria-label="${n} chart"]`));
      const points = Math.min(250, Number(figure?.getAttribute('data-points') ?? 0));
      return (figure?.querySelectorAll('tbody tr').length ?? -1) === points;
    },
    name,
    { timeout: 10_000, polling: 50 },
  );
  return table.evaluate((t) => ({
    header: [...t.querySelectorAll('thead th')].map((th) => th.textContent ?? ''),
    rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent === '' ? NaN : Number(td.textContent)))),
  }));
}

/** Records main-thread long tasks (PerformanceObserver 'longtask') from the first script on. */
export const LONG_TASK_SCRIPT = `
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {}
`;

export async function longTasks(page: Page, since = 0): Promise<{ start: number; duration: number }[]> {
  return page.evaluate((t) => ((window as unknown as { __longTasks?: { start: number; duration: number }[] }).__longTasks ?? []).filter((x) => x.start >= t), since);
}

/**
 * Records, for every key press, the time until the next pair is drawn: from keydown to the first
 * animation frame after the pair's id changed (the frame that shows it).
 */
export const PAIR_LATENCY_SCRIPT = `
  window.__pairLatency = [];
  let pressedAt = null;
  document.addEventListener('keydown', () => { pressedAt = performance.now(); }, true);
  const watch = () => {
    const pair = document.querySelector('.pair');
    if (!pair) { requestAnimationFrame(watch); return; }
    new MutationObserver(() => {
      if (pressedAt === null || pair.getAttribute('data-pair-id') === '') return;
      const t0 = pressedAt;
      pressedAt = null;
      requestAnimationFrame(() => window.__pairLatency.push(performance.now() - t0));
    }).observe(pair, { attributes: true, attributeFilter: ['data-pair-id'] });
  };
  document.addEventListener('DOMContentLoaded', watch);
`;

export async function pairLatencies(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { __pairLatency?: number[] }).__pairLatency ?? []);
}

export function summary(xs: readonly number[]): { n: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, median: s.length ? s[Math.floor(s.length / 2)] : NaN, max: s.length ? s[s.length - 1] : NaN };
}

/** Prints a measured number and appends it to test-results/measurements.jsonl (for the closing note). */
export function report(name: string, value: unknown): void {
  const line = JSON.stringify({ name, value, at: new Date().toISOString() });
  console.log(`[measure] ${name}: ${JSON.stringify(value)}`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  appendFileSync(join(SCREENSHOT_DIR, 'measurements.jsonl'), line + '\n');
}

// ---- the worker's side ----

/** The last message of `type` the worker posted (src/worker/main.ts keeps them in self.lastPosted), or null. */
export async function workerLast<T extends FromWorker['type']>(page: Page, type: T): Promise<Extract<FromWorker, { type: T }> | null> {
  const worker = page.workers()[0];
  if (!worker) throw new Error('the page has no worker');
  const last = await worker.evaluate((t) => (self as unknown as { lastPosted: Record<string, unknown> }).lastPosted[t] ?? null, type);
  return last as Extract<FromWorker, { type: T }> | null;
}

/** The region of one method (its heading is the method's title). */
export function methodRegion(page: Page, title: string): Locator {
  return page.getByRole('region', { name: title, exact: true });
}

/** Opens a method's settings (a details element) if it is closed. */
export async function openSettings(page: Page, title: string): Promise<Locator> {
  const region = methodRegion(page, title);
  const details = region.locator('details.settings');
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator('summary').click();
  return region;
}

/**
 * A full-page screenshot with every chart drawn: charts out of view do not redraw (MetricChart),
 * so the page is scrolled through once, a screen at a time, before the picture is taken.
 */
export async function fullPageShot(page: Page, path: string): Promise<void> {
  const { height, screen } = await page.evaluate(() => ({ height: document.documentElement.scrollHeight, screen: window.innerHeight }));
  for (let y = 0; y < height; y += screen) {
    await page.evaluate((top) => window.scrollTo(0, top), y);
    await page.waitForTimeout(120);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300); // the last redraws (at most one per 250 ms)
  await page.screenshot({ path, fullPage: true });
}

/** With UPDATE_SCREENSHOTS=1, writes the README's screenshot tests/screenshots/<name>.png (full page). */
export async function saveReadmeScreenshot(page: Page, name: 'desktop' | 'phone'): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  await fullPageShot(page, join(ROOT, 'tests', 'screenshots', `${name}.png`));
}
