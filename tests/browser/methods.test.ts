// Several methods on one run, in real Chromium on WASM: the methods control lists every method the
// worker offers (one checkbox each, its summary beside it) and writes the choice into the address;
// ticked methods take turns under autopilot, each with its own charts and rows in the sample strip,
// and the gold numbers the page shows for each method are the worker's own; an offline method runs
// when asked, shows its progress, can be cancelled, and says when newer labels have made it stale.
import { describe, expect, test } from 'vitest';
import type { GoldResult } from '../../src/lib/protocol/messages';
import { DESKTOP, openPage, useServedBuild } from '../support/browser';
import { chartPoints, chartTable, methodRegion, report, saveReadmeScreenshot, waitForChartPoints, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;
/** Several methods take turns with labels and gold evaluations: generous on a 2-core machine. */
const METHODS_MS = 150_000;

/** The methods the contract names, in the registry's order. */
const TITLES = ['PPO', 'GRPO', 'RLOO', 'DPO', 'SFT', 'Best-of-N'];

const app = useServedBuild();

/** The gold numbers as the page prints them (GoldResults.svelte). */
function shown(r: GoldResult): Record<string, string> {
  return {
    goldScore: r.goldScore.toFixed(2),
    winRate: `${(r.winRate * 100).toFixed(0)} %`,
    klPerSequence: r.klPerSequence.toFixed(2),
    distinct: `${(r.distinct * 100).toFixed(0)} %`,
    length: r.length.toFixed(1),
    steps: String(r.steps),
  };
}

describe('methods', () => {
  test('tick GRPO and DPO under autopilot: each gets its charts and strip rows, and the gold numbers in the page are the worker’s', { timeout: METHODS_MS + 2 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      // Small settings keep each step short; no background refit (it would take turns too).
      const small = 'ppo.rolloutsPerIteration=8&grpo.promptsPerIteration=2&grpo.groupSize=4&dpo.steps=4&refitEvery=0';
      await page.goto(`${app.origin}/?seed=3&pace=150&trainAfter=8&${small}`);
      await waitForPair(page, LOAD_MS);

      // The control: one checkbox per method, named by its title, its summary beside it; PPO alone is ticked.
      const group = page.getByRole('group', { name: 'Methods', exact: true });
      const boxes = group.getByRole('checkbox');
      const names = await boxes.evaluateAll((els) => els.map((e) => e.closest('label')?.textContent?.trim() ?? ''));
      expect(names).toEqual(TITLES);
      const checked = await boxes.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).checked));
      expect(checked).toEqual([true, false, false, false, false, false]);
      const summary = await group.getByRole('checkbox', { name: 'GRPO', exact: true }).evaluate((e) => document.getElementById(e.getAttribute('aria-describedby') ?? '')?.textContent ?? '');
      expect(summary).toMatch(/group/i);
      await expect(methodRegion(page, 'GRPO').count()).resolves.toBe(0);

      // GRPO by keyboard, DPO by click; the address follows.
      await group.getByRole('checkbox', { name: 'GRPO', exact: true }).focus();
      await page.keyboard.press('Space');
      await group.getByRole('checkbox', { name: 'DPO', exact: true }).click();
      await expect.poll(() => new URL(page.url()).searchParams.get('methods')).toBe('ppo,grpo,dpo');
      await expect.poll(async () => (await workerLast(page, 'methodsSet'))?.enabled).toEqual(['ppo', 'grpo', 'dpo']);
      for (const title of ['PPO', 'GRPO', 'DPO']) await expect(methodRegion(page, title).getByRole('heading', { name: title, exact: true }).count()).resolves.toBe(1);

      await page.getByRole('button', { name: 'Start autopilot' }).click();
      // DPO runs on the labels by itself (it is ticked); autopilot presses Train for PPO and GRPO.
      await waitForChartPoints(page, 'grpo-reward', 2, METHODS_MS);
      await waitForChartPoints(page, 'ppo-reward', 2, METHODS_MS);
      await waitForChartPoints(page, 'dpo-dpo-loss', 1, METHODS_MS);
      await page.waitForFunction(
        () => ['grpo', 'dpo'].every((m) => document.querySelectorAll(`table[aria-label="Sample strip"] tr[data-model="${m}"]`).length === 4),
        undefined,
        { timeout: METHODS_MS, polling: 200 },
      );
      await page.waitForFunction(
        () => ['base', 'ppo', 'grpo', 'dpo'].every((m) => document.querySelector(`table[aria-label="Gold results"] tr[data-method="${m}"]`)),
        undefined,
        { timeout: METHODS_MS, polling: 200 },
      );

      // Stop: once autopilot is off the worker evaluates no more, so page and worker can be compared.
      await page.getByRole('button', { name: 'Stop autopilot' }).click();
      const pause = page.getByRole('button', { name: 'Pause', exact: true });
      if ((await pause.count()) > 0) await pause.click();
      await expect.poll(async () => (await workerLast(page, 'annotatorSet'))?.annotator ?? 'off').toBe('off');
      await page.waitForTimeout(500);
      const gold = await workerLast(page, 'gold');
      expect(gold).not.toBeNull();
      const table = page.getByRole('table', { name: 'Gold results' });
      const onPage = await table.locator('tbody tr').evaluateAll((rows) =>
        rows.map((tr) => ({
          method: tr.getAttribute('data-method') ?? '',
          cells: Object.fromEntries([...tr.querySelectorAll('td[data-measure]')].map((td) => [td.getAttribute('data-measure'), td.getAttribute('data-measure') === 'steps' ? (td.getAttribute('data-value') ?? '') : (td.textContent ?? '').trim()])),
        })),
      );
      expect(onPage.map((r) => r.method)).toEqual(gold!.results.map((r) => r.method));
      for (const r of gold!.results) expect(onPage.find((p) => p.method === r.method)?.cells).toEqual(shown(r));
      // GRPO is in the last evaluation; DPO may have been starting again on a new label just then
      // (it has no policy for that moment), but the gold curves hold its earlier evaluations.
      expect(gold!.results.find((r) => r.method === 'grpo')?.steps).toBeGreaterThan(0);
      const curves = (await chartTable(page, 'Gold score')).header;
      expect(curves.slice(0, 2)).toEqual(['gold evaluation', 'base model']);
      expect(curves.slice(2).sort()).toEqual(['DPO', 'GRPO', 'PPO']);
      report('gold after autopilot with PPO, GRPO and DPO', gold!.results.map((r) => ({ method: r.method, steps: r.steps, gold: Number(r.goldScore.toFixed(2)), win: Number(r.winRate.toFixed(2)), kl: Number(r.klPerSequence.toFixed(2)) })));

      // Each method's charts are its own: GRPO's reward chart has a point per GRPO iteration.
      const runState = await workerLast(page, 'runState');
      expect(await chartPoints(page, 'grpo-reward')).toBeGreaterThanOrEqual(2);
      expect(runState?.steps.grpo).toBeGreaterThanOrEqual(2);
      await saveReadmeScreenshot(page, 'desktop');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('an offline method runs when asked, with progress and Cancel, and new labels make it stale', async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.goto(`${app.origin}/?methods=ppo,dpo&dpo.steps=400&refitEvery=0`);
      const dpo = methodRegion(page, 'DPO');
      await waitForPair(page, LOAD_MS);
      // No label yet: DPO cannot run, and the page says why.
      await expect(dpo.getByRole('button', { name: 'Run DPO' }).getAttribute('aria-disabled')).resolves.toBe('true');
      await expect(dpo.textContent()).resolves.toMatch(/DPO trains on labels: give one first/);

      // The first label: a ticked offline method starts on it by itself; its progress shows; Cancel stops it.
      await page.getByRole('button', { name: 'A is better', exact: true }).click();
      const progress = dpo.locator('progress');
      await page.waitForFunction(() => Number(document.querySelector('[data-method="dpo"] progress')?.getAttribute('value') ?? 0) >= 2, undefined, { timeout: LOAD_MS, polling: 100 });
      await expect(progress.getAttribute('max')).resolves.toBe('400');
      await dpo.getByRole('button', { name: 'Cancel DPO' }).click();
      await expect.poll(() => dpo.getByRole('status').textContent(), { timeout: LOAD_MS }).toMatch(/^Cancelled after \d+ steps of 400; what it learned so far is kept\.$/);
      const state = await workerLast(page, 'methodState');
      expect(state).toMatchObject({ method: 'dpo', running: false, outcome: 'cancelled' });
      const steps = await chartPoints(page, 'dpo-dpo-loss');
      expect(steps).toBe(state!.step);

      // A new label: what DPO learned is from older labels.
      const id = await waitForPair(page, LOAD_MS);
      await page.getByRole('button', { name: 'B is better', exact: true }).click();
      await waitForPair(page, LOAD_MS, id);
      await dpo.locator('[data-stale="true"]').waitFor({ timeout: LOAD_MS });
      await expect(dpo.locator('[data-stale="true"]').textContent()).resolves.toMatch(/Stale: trained on older labels/);

      // Run again with fewer steps: it starts from the base model on both labels and finishes.
      await dpo.locator('details.settings summary').click();
      const stepsInput = dpo.getByLabel('steps', { exact: true });
      await stepsInput.fill('3');
      await stepsInput.press('Tab');
      await expect.poll(async () => (await workerLast(page, 'methodConfig'))?.config.steps).toBe(3);
      expect(new URL(page.url()).searchParams.get('dpo.steps')).toBe('3');
      await dpo.getByRole('button', { name: 'Run DPO' }).click();
      await expect.poll(() => dpo.getByRole('status').textContent(), { timeout: LOAD_MS }).toBe('Done after 3 steps of 3.');
      await expect(dpo.locator('[data-stale="true"]').count()).resolves.toBe(0);
      expect(await chartPoints(page, 'dpo-dpo-loss')).toBe(3);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
