// The Pipeline overview in real Chromium: it is the first region of the page; its boxes show the
// worker's own numbers (the ready reply's parameter count, the last pair's id, the labels, the
// reward model's accuracy and steps, PPO's last objective/scores, objective/kl and
// objective/kl_coef, equal to the last rows of PPO's chart tables); each step button changes
// exactly what it should (Label one pair: labels +1; One reward-model step: RM steps +1, labels
// unchanged; One policy iteration: PPO's iteration +1, RM steps unchanged) and is disabled with
// its reason before it can run; the labels -> reward model arrow lights on a label; a click or
// Enter on a box focuses its panel and opens its explanation; the region fits 1280x800, 1920x1080
// and a 390 px phone without sideways scrolling, where a label still lights its arrow under
// prefers-reduced-motion, without the pulse. Screenshots: tests/screenshots/pipeline-*.png.
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { openPage, PHONE, ROOT, useServedBuild } from '../support/browser';
import { chartTable, methodRegion, report, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;
/** A label, a reward-model step or a PPO iteration on WASM, on a loaded 2-core machine. */
const STEP_MS = 60_000;
const SHOTS = join(ROOT, 'tests', 'screenshots');

const app = useServedBuild();

function region(page: Page): Locator {
  return page.getByRole('region', { name: 'Pipeline', exact: true });
}

function box(page: Page, name: string): Locator {
  return region(page).locator(`[data-box="${name}"]`);
}

async function boxValue(page: Page, name: string): Promise<number> {
  const v = await box(page, name).getAttribute('data-value');
  return v === null || v === '' ? NaN : Number(v);
}

async function flowCount(page: Page, arrow: string): Promise<number> {
  return Number(await region(page).locator(`[data-arrow="${arrow}"]`).getAttribute('data-flow-count'));
}

/** The worker's last reward-model report's steps (0 before one). */
async function rmSteps(page: Page): Promise<number> {
  return (await workerLast(page, 'rewardModel'))?.metrics.steps ?? 0;
}

async function labels(page: Page): Promise<number> {
  return Number(await page.getByRole('status', { name: 'Run status' }).first().getAttribute('data-labels'));
}

/** The animation of an arrow's drawing now ('none' when it does not move). */
function arrowMotion(page: Page, arrow: string): Promise<string> {
  return region(page).locator(`[data-arrow="${arrow}"] svg`).evaluate((svg) => getComputedStyle(svg).animationName);
}

/** Whether the element has no sideways scroll in the page, and the region's box in the viewport. */
async function layout(page: Page): Promise<{ scrollWidth: number; clientWidth: number; left: number; right: number; top: number; bottom: number; boxes: { top: number; left: number; width: number }[] }> {
  return region(page).evaluate((el) => {
    const r = el.getBoundingClientRect();
    const boxes = [...el.querySelectorAll('[data-box]')].map((b) => {
      const q = b.getBoundingClientRect();
      return { top: q.top, left: q.left, width: q.width };
    });
    return { scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth, left: r.left, right: r.right, top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, boxes };
  });
}

describe('pipeline', () => {
  test('boxes show the worker numbers; each step button changes exactly its phase; arrows light; boxes open their panels', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?seed=3`);
      await waitForPair(page, LOAD_MS);
      // The first region of the page, with the contract's heading.
      await expect(page.evaluate(() => document.querySelector('main > section h2')?.textContent?.trim())).resolves.toBe('Pipeline');
      const ready = await workerLast(page, 'ready');
      expect(await boxValue(page, 'base')).toBe(ready!.modelInfo.parameters);
      await expect(box(page, 'base').getAttribute('title')).resolves.toContain(ready!.modelInfo.parameters.toLocaleString('en-US'));
      await expect.poll(async () => (await boxValue(page, 'pairs')) === (await workerLast(page, 'pair'))!.pair.id, { timeout: 10_000 }).toBe(true);
      const queued = await page.locator('.pair').getAttribute('data-queued');
      await expect(box(page, 'pairs').textContent()).resolves.toContain(`${queued} waiting`);
      expect(await boxValue(page, 'labels')).toBe(0);
      expect(Number.isNaN(await boxValue(page, 'rm'))).toBe(true);
      await expect(box(page, 'rm').textContent()).resolves.toContain('–');

      // Before any label: the reward-model step and the policy iteration say why they cannot run.
      const rmButton = region(page).getByRole('button', { name: 'One reward-model step' });
      const iterButton = region(page).getByRole('button', { name: 'One policy iteration' });
      await expect(rmButton.getAttribute('aria-disabled')).resolves.toBe('true');
      await expect(page.locator('#pipe-rm-why').textContent()).resolves.toContain('no labels yet');
      await expect(iterButton.getAttribute('aria-disabled')).resolves.toBe('true');
      await expect(page.locator('#pipe-iter-why').textContent()).resolves.toContain('has not learned yet');
      await rmButton.click({ force: true }); // refused: nothing is sent
      await page.waitForTimeout(300);
      expect(await workerLast(page, 'rewardStepped')).toBeNull();

      // Label one pair: the annotator answers once; labels +1; the labels -> reward model arrow lights.
      const flowsBefore = await flowCount(page, 'labels-rm');
      await region(page).getByRole('button', { name: 'Label one pair' }).click();
      await page.waitForFunction(() => document.querySelector('[data-arrow="labels-rm"]')?.getAttribute('data-lit') === 'true', undefined, { timeout: STEP_MS, polling: 20 });
      expect(await flowCount(page, 'labels-rm')).toBe(flowsBefore + 1);
      expect(await arrowMotion(page, 'labels-rm')).not.toBe('none'); // it pulses (motion is not reduced here)
      // ... and goes dark again once nothing more flows (FLOW_LIT_MS).
      await page.waitForFunction(() => document.querySelector('[data-arrow="labels-rm"]')?.getAttribute('data-lit') === 'false', undefined, { timeout: 5_000, polling: 50 });
      expect(await region(page).getAttribute('data-last-flow')).toMatch(/^(label|pair)$/);
      expect(await labels(page)).toBe(1);
      await page.waitForTimeout(1_500);
      expect(await labels(page)).toBe(1); // once, not autopilot
      expect(await boxValue(page, 'labels')).toBe(1);
      const annotation = await workerLast(page, 'annotation');
      expect(['A', 'B', 'tie']).toContain(annotation!.choice);
      expect(await workerLast(page, 'gold')).toBeNull(); // no gold evaluation was turned on
      // The reward model's box is its accuracy on the labels, after its steps.
      const afterLabel = (await workerLast(page, 'rewardModel'))!.metrics;
      expect(afterLabel.steps).toBeGreaterThan(0);
      await expect.poll(() => boxValue(page, 'rm'), { timeout: 10_000 }).toBeCloseTo(afterLabel.accuracy, 6);
      await expect(box(page, 'rm').textContent()).resolves.toContain(`${afterLabel.steps} steps`);

      // One reward-model step: steps +1, labels unchanged; the reward model -> policy arrow lights.
      const rmFlows = await flowCount(page, 'rm-policy');
      await expect.poll(() => rmButton.getAttribute('aria-disabled'), { timeout: 10_000 }).toBe('false');
      await rmButton.click();
      await expect.poll(async () => (await workerLast(page, 'rewardStepped')) !== null, { timeout: STEP_MS }).toBe(true);
      const stepped = (await workerLast(page, 'rewardStepped'))!.metrics;
      expect(stepped.steps).toBe(afterLabel.steps + 1);
      expect(stepped.labels).toBe(1);
      expect(stepped.cause).toBe('step');
      await expect.poll(() => box(page, 'rm').textContent(), { timeout: 10_000 }).toContain(`${stepped.steps} steps`);
      expect(await boxValue(page, 'rm')).toBeCloseTo(stepped.accuracy, 6);
      expect(await flowCount(page, 'rm-policy')).toBe(rmFlows + 1);
      expect(await labels(page)).toBe(1);

      // One policy iteration: PPO's iteration +1; labels and the reward model's steps unchanged.
      const ppo = methodRegion(page, 'PPO');
      expect(await ppo.locator('[data-steps]').getAttribute('data-steps')).toBe('0');
      await expect.poll(() => iterButton.getAttribute('aria-disabled'), { timeout: 10_000 }).toBe('false');
      const t0 = Date.now();
      await iterButton.click();
      await expect.poll(() => ppo.locator('[data-steps]').getAttribute('data-steps'), { timeout: STEP_MS }).toBe('1');
      report('pipeline_policy_iteration_ms', Date.now() - t0);
      await page.waitForTimeout(500);
      expect(await ppo.locator('[data-steps]').getAttribute('data-steps')).toBe('1');
      expect(await labels(page)).toBe(1);
      expect(await rmSteps(page)).toBe(stepped.steps);
      const iteration = (await workerLast(page, 'iteration'))!;
      expect(iteration).toMatchObject({ method: 'ppo', step: 1 });
      await expect.poll(() => boxValue(page, 'policy'), { timeout: 10_000 }).toBeCloseTo(iteration.metrics['objective/scores'], 5);
      expect(await boxValue(page, 'reference')).toBeCloseTo(iteration.metrics['objective/kl'], 5);
      await expect(box(page, 'reference').getAttribute('title')).resolves.toContain('objective/kl_coef');
      expect(await flowCount(page, 'policy-reference')).toBe(1);
      // The same numbers as the last rows of PPO's chart tables.
      // (The charts are named "<method> <chart title>", each chart title from the worker's descriptor.)
      const charts = ready!.methods.find((m) => m.name === 'ppo')!.charts;
      const tableOf = (key: string) => chartTable(page, `PPO ${charts.find((c) => c.keys.includes(key))!.title}`);
      const col = (t: { header: string[]; rows: number[][] }, key: string) => t.rows.at(-1)![t.header.indexOf(key)];
      expect(await boxValue(page, 'policy')).toBe(col(await tableOf('objective/scores'), 'objective/scores'));
      expect(await boxValue(page, 'reference')).toBe(col(await tableOf('objective/kl'), 'objective/kl'));
      const beta = await tableOf('objective/kl_coef');
      await expect(box(page, 'reference').getAttribute('title')).resolves.toContain(`β is ${col(beta, 'objective/kl_coef')}`);

      // A click on a box focuses its panel and opens its explanation; Enter on a box does the same.
      await page.evaluate(() => window.scrollTo(0, 0));
      await box(page, 'rm').click();
      await expect.poll(() => page.evaluate(() => document.activeElement?.querySelector('h2')?.id ?? '')).toBe('rm-title');
      const bt = page.locator('details#how-bt');
      if ((await bt.count()) > 0) expect(await bt.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
      await box(page, 'policy').focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-method') ?? '')).toBe('ppo');
      const how = page.locator('details#how-ppo');
      if ((await how.count()) > 0) expect(await how.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
      await box(page, 'base').focus();
      await page.keyboard.press('Space');
      await expect.poll(() => page.evaluate(() => document.activeElement?.querySelector('h2')?.id ?? '')).toBe('base-title');

      // One screen: the region fits 1280x800 (width and height) with no sideways scroll.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(300);
      const l = await layout(page);
      report('pipeline_region_px_1280', { top: Math.round(l.top), bottom: Math.round(l.bottom) });
      expect(l.scrollWidth).toBeLessThanOrEqual(l.clientWidth);
      expect(l.left).toBeGreaterThanOrEqual(0);
      expect(l.right).toBeLessThanOrEqual(1280);
      expect(l.bottom).toBeLessThanOrEqual(800);
      expect(new Set(l.boxes.map((b) => Math.round(b.top))).size).toBe(1); // one row
      await page.screenshot({ path: join(SHOTS, 'pipeline-desktop.png') });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('on a 390 px phone the boxes stack with no sideways scroll; at 1920x1080 it is one row on one screen', async () => {
    for (const viewport of [PHONE, { width: 1920, height: 1080 }]) {
      const { page, errors, close } = await openPage(app.browser, viewport);
      try {
        await page.goto(`${app.origin}/?seed=3`);
        await waitForPair(page, LOAD_MS);
        const l = await layout(page);
        report(`pipeline_region_px_${viewport.width}`, { top: Math.round(l.top), bottom: Math.round(l.bottom) });
        expect(l.scrollWidth).toBeLessThanOrEqual(l.clientWidth);
        expect(l.right).toBeLessThanOrEqual(viewport.width);
        expect(l.boxes).toHaveLength(6);
        if (viewport.width === PHONE.width) {
          // A column: each box below the one before, each nearly the region's width.
          for (let i = 1; i < l.boxes.length; i++) expect(l.boxes[i].top).toBeGreaterThan(l.boxes[i - 1].top);
          for (const b of l.boxes) expect(b.width).toBeGreaterThan((l.right - l.left) * 0.8);
          await region(page).screenshot({ path: join(SHOTS, 'pipeline-phone.png') });
          // With reduced motion asked for, a label still lights its arrow, without the pulse.
          await page.emulateMedia({ reducedMotion: 'reduce' });
          await region(page).getByRole('button', { name: 'Label one pair' }).click();
          await page.waitForFunction(() => document.querySelector('[data-arrow="labels-rm"]')?.getAttribute('data-lit') === 'true', undefined, { timeout: LOAD_MS, polling: 20 });
          expect(await arrowMotion(page, 'labels-rm')).toBe('none');
          expect(await flowCount(page, 'labels-rm')).toBeGreaterThanOrEqual(1);
        } else {
          expect(new Set(l.boxes.map((b) => Math.round(b.top))).size).toBe(1);
          expect(l.bottom).toBeLessThanOrEqual(viewport.height);
        }
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }
  });
});
