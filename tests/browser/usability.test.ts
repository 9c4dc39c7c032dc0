// What new users tripped on (issue 10, item 9), each kept mended: the KL guard's limit is a setting
// and autopilot pauses, saying why, when the guard stops training; charts are titled in plain
// words with TRL's names second, KL and beta axes start at 0, and an empty chart says so; an
// untrained reward model shows "–" for its accuracy and Train asks before running on it; Reset and
// Remove ask first (by keyboard too); keys 1 and 2 answer right after a prompt is picked from the
// list; at 390 px the sample strip stacks its rows so no column is off-screen.
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { openPage, PHONE, useServedBuild } from '../support/browser';
import { chartTable, methodRegion, openSettings, statusLabels, waitForChartPoints, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;
/** A few PPO iterations of a tiny config on WASM with two experiments on the same 2 cores. */
const TRAIN_MS = 120_000;

const app = useServedBuild();

/** Labels the pairs on screen with these buttons, one after another. */
async function answer(page: Page, names: string[]): Promise<void> {
  let id = await waitForPair(page, LOAD_MS);
  for (const name of names) {
    await page.getByRole('button', { name, exact: true }).click();
    id = await waitForPair(page, LOAD_MS, id);
  }
}

/** Waits until the reward model has taken a training step (its accuracy is then shown). */
async function waitLearned(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('[data-metric="accuracy"]')?.getAttribute('data-learned') === 'true', undefined, { timeout: LOAD_MS });
}

/** The text of the element that has focus. */
async function focusedText(page: Page): Promise<string> {
  return page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
}

/** Steps PPO has taken (its region's data-steps). */
async function ppoSteps(page: Page): Promise<number> {
  return Number(await methodRegion(page, 'PPO').locator('[data-steps]').first().getAttribute('data-steps'));
}

describe('usability mends', () => {
  test('the KL guard limit is a PPO setting kept in the address, and autopilot pauses, saying why, when the guard stops training', { timeout: TRAIN_MS + 2 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      // No KL penalty and a large learning rate make the policy leave the base model within a few
      // iterations; a guard limit of 1 nat stops it once the mean KL of 3 iterations passes 1.
      const params = 'ppo.klStop=1&ppo.lr=0.01&ppo.klControl=fixed&ppo.initKlCoef=0&ppo.rolloutsPerIteration=8&ppo.epochs=1&pace=0&trainAfter=2';
      await page.goto(`${app.origin}/?${params}`);
      await waitForPair(page, LOAD_MS);

      const region = await openSettings(page, 'PPO');
      const limit = region.getByLabel('KL guard limit (nats per sequence)');
      await expect(limit.inputValue()).resolves.toBe('1');
      await expect(region.locator('#ppo-klStop-why').textContent()).resolves.toMatch(/last 3 iterations/);

      await page.getByRole('button', { name: 'Start autopilot' }).click();
      const paused = page.locator('[data-autopilot-paused="true"]');
      await paused.waitFor({ timeout: TRAIN_MS });
      const text = (await paused.textContent()) ?? '';
      expect(text).toMatch(/^Autopilot paused because training stopped: PPO: KL guard: mean KL of the last 3 iterations is \d+\.\d nats, above the limit of 1\./);
      expect(text).toMatch(/KL guard limit/);
      // The methods panel says the same, and where the limit is set.
      await expect(page.locator('[data-stop-reason="true"]').textContent()).resolves.toMatch(/PPO: KL guard: .* raise the method's "KL guard limit"/s);
      // Autopilot is off (its button offers to start again) and training is paused.
      await expect(page.getByRole('button', { name: 'Start autopilot' }).getAttribute('aria-pressed')).resolves.toBe('false');
      await expect(page.getByRole('status', { name: 'Run status' }).first().getAttribute('data-running')).resolves.toBe('false');
      const labels = await statusLabels(page);
      await page.waitForTimeout(1500); // autopilot labels every 0 ms when on: it must have stopped
      expect(await statusLabels(page)).toBe(labels);

      // The limit is set in the page as any setting: checked, sent, and kept in the address.
      await limit.fill('30');
      await limit.press('Enter');
      await limit.blur();
      await page.waitForFunction(() => new URLSearchParams(location.search).get('ppo.klStop') === '30', undefined, { timeout: 5000 });
      // The worker's confirmation rewrites the input: wait for it before typing the next value.
      await expect.poll(async () => (await workerLast(page, 'methodConfig'))?.config.klStop, { timeout: 10_000 }).toBe(30);
      await limit.fill('0');
      await limit.blur();
      await expect(region.locator('#ppo-klStop-problem').textContent()).resolves.toMatch(/KL guard limit \(nats per sequence\) ".*" refused: use a number from 0\.5 to 500; .* still runs\./);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('charts: titles in plain words with the TRL names second, "No data yet" until a point, KL and beta axes from 0', { timeout: TRAIN_MS + LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?ppo.rolloutsPerIteration=4&ppo.epochs=1`);
      const reward = methodRegion(page, 'PPO').locator('[data-chart="ppo-reward-model-score"]');
      await expect(reward.locator('.title').evaluate((t) => t.firstChild?.textContent)).resolves.toBe('Reward-model score');
      await expect(reward.locator('.title code').textContent()).resolves.toBe('objective/scores · objective/rlhf_reward');
      await expect(reward.locator('canvas').getAttribute('aria-label')).resolves.toBe('PPO Reward-model score chart');
      await expect(reward.locator('[data-no-data]').textContent()).resolves.toMatch(/^No data yet/);

      await answer(page, ['A is better']);
      await waitLearned(page);
      const beta = methodRegion(page, 'PPO').locator('[data-chart="ppo-kl-coefficient"]');
      for (let i = 0; i < 3; i++) {
        await page.getByRole('button', { name: 'Step', exact: true }).click();
        await page.waitForFunction((n) => Number(document.querySelector('[data-method="ppo"] [data-steps]')?.getAttribute('data-steps')) >= n, i + 1, { timeout: TRAIN_MS });
      }
      await waitForChartPoints(page, 'ppo-kl-coefficient', 3, TRAIN_MS);
      await beta.scrollIntoViewIfNeeded(); // Step is at the top; a chart out of view does not redraw
      await expect.poll(() => beta.locator('[data-no-data]').count(), { timeout: 5000 }).toBe(0);
      // beta is 0.05 or more: an axis fitted to the values would start near 0.05, not at 0.
      await page.waitForFunction(() => document.querySelector('[data-chart="ppo-kl-coefficient"]')?.getAttribute('data-y-min') === '0', undefined, { timeout: 5000 });
      const betas = (await chartTable(page, 'PPO KL coefficient')).rows.map((r) => r[1]);
      expect(Math.min(...betas)).toBeGreaterThanOrEqual(0.05);
      // KL starts at 0, or lower only where an estimate dipped below 0.
      const kl = await chartTable(page, 'PPO KL to the reference');
      const lowest = Math.min(0, ...kl.rows.flatMap((r) => r.slice(1)));
      const klFigure = methodRegion(page, 'PPO').locator('[data-chart="ppo-kl-to-the-reference"]');
      await klFigure.scrollIntoViewIfNeeded();
      await expect.poll(() => klFigure.getAttribute('data-y-min').then(Number), { timeout: 5000 }).toBeLessThanOrEqual(0);
      const klMin = Number(await klFigure.getAttribute('data-y-min'));
      const klMin1 = Number((await klFigure.getAttribute('data-y1-min')) || 0);
      // The table rounds to a few digits: the axis starts where the lowest point is, or at 0.
      expect(Math.min(klMin, klMin1)).toBeCloseTo(lowest, 2);
      // The reward chart now has points: its note is gone, and its table keeps TRL's names as headers.
      await reward.scrollIntoViewIfNeeded();
      await expect.poll(() => reward.locator('[data-no-data]').count(), { timeout: 5000 }).toBe(0);
      expect((await chartTable(page, 'PPO Reward-model score')).header).toEqual(['iteration', 'objective/scores', 'objective/rlhf_reward']);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('an untrained reward model: accuracy "–", and Train asks first; after a reload the run resumes learned', { timeout: 4 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?ppo.rolloutsPerIteration=4&ppo.epochs=1`);
      await waitForPair(page, LOAD_MS);
      const accuracy = page.locator('[data-metric="accuracy"]');
      await expect(accuracy.textContent()).resolves.toMatch(/^\s*–\s*\(not learned yet/);

      // Train with 0 labels asks; "Label first" closes the question, gives focus back, trains nothing.
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      const question = page.getByRole('group', { name: /The reward model has no labels yet: it scores every completion 0/ });
      await question.waitFor({ timeout: 5000 });
      expect(await focusedText(page)).toBe('Train anyway');
      await page.getByRole('button', { name: 'Label first' }).click();
      await expect(question.count()).resolves.toBe(0);
      expect(await focusedText(page)).toBe('Train');
      await expect(page.getByRole('status', { name: 'Run status' }).first().getAttribute('data-running')).resolves.toBe('false');

      // "Train anyway" trains, and the page says on what.
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await page.getByRole('button', { name: 'Train anyway' }).click();
      await page.locator('[data-untrained-rm="true"]').waitFor({ timeout: 5000 });
      await expect(page.locator('[data-untrained-rm="true"]').textContent()).resolves.toMatch(/scores every completion 0/);
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      await page.waitForFunction(() => document.querySelector('[role="status"]')?.getAttribute('data-running') === 'false', undefined, { timeout: TRAIN_MS });

      // After a label it has learned: a percentage, and Train no longer asks.
      await answer(page, ['A is better']);
      await waitLearned(page);
      await expect(accuracy.textContent()).resolves.toMatch(/^\s*\d+ %\s*$/);

      // After a reload the run resumes from its saved state (issue 12): the label is held and the
      // reward model has learned it again at once, with no refit from scratch.
      await page.goto(`${app.origin}/?refitSteps=2000`);
      await waitForPair(page, LOAD_MS);
      await page.waitForFunction(() => document.querySelector('[role="status"]')?.getAttribute('data-labels') === '1', undefined, { timeout: LOAD_MS });
      await expect.poll(() => accuracy.textContent(), { timeout: LOAD_MS }).toMatch(/^\s*\d+ %\s*$/);
      await expect(page.locator('#refit-progress').count()).resolves.toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('Reset and Remove ask first, by mouse or keyboard, and drop nothing until confirmed', { timeout: TRAIN_MS + LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?ppo.rolloutsPerIteration=4&ppo.epochs=1&refitSteps=4`);
      await answer(page, ['A is better', 'B is better']);
      await waitLearned(page);
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await page.waitForFunction(() => Number(document.querySelector('[data-method="ppo"] [data-steps]')?.getAttribute('data-steps')) >= 1, undefined, { timeout: TRAIN_MS });

      // Reset by keyboard: Enter asks, Escape keeps the work and gives focus back.
      const reset = page.getByRole('button', { name: 'Reset', exact: true });
      await reset.focus();
      await page.keyboard.press('Enter');
      const resetQuestion = page.getByRole('group', { name: /^Reset drops what PPO learned in 1 iteration, and its curves\./ });
      await resetQuestion.waitFor({ timeout: 5000 });
      expect(await focusedText(page)).toBe('Yes, reset');
      await page.keyboard.press('Escape');
      await expect(resetQuestion.count()).resolves.toBe(0);
      expect(await focusedText(page)).toBe('Reset');
      expect(await ppoSteps(page)).toBe(1);
      // Asked again and confirmed: PPO is back at the base model; the labels stay.
      await page.keyboard.press('Enter');
      await page.keyboard.press('Enter'); // on "Yes, reset", which has focus
      await page.waitForFunction(() => document.querySelector('[data-method="ppo"] [data-steps]')?.getAttribute('data-steps') === '0', undefined, { timeout: LOAD_MS });
      expect(await statusLabels(page)).toBe(2);

      // Remove a label: asked in place; "Keep it" keeps it; "Yes, remove" removes it.
      await page.getByText('Label history (2)').click();
      await page.getByRole('button', { name: 'Remove label 2' }).click();
      const removeQuestion = page.getByRole('group', { name: 'Remove label 2? The reward model is refitted without it.' });
      await removeQuestion.waitFor({ timeout: 5000 });
      await page.getByRole('button', { name: 'Keep it' }).click();
      expect(await statusLabels(page)).toBe(2);
      await page.getByRole('button', { name: 'Remove label 2' }).click();
      await page.getByRole('button', { name: 'Yes, remove' }).click();
      await page.waitForFunction(() => document.querySelector('[role="status"]')?.getAttribute('data-labels') === '1', undefined, { timeout: 5000 });
      await expect(page.getByText('Label history (1)').count()).resolves.toBe(1);
      expect(await focusedText(page)).toBe('Label history (1)'); // focus stays in the history, not lost with the row
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('keys 1 and 2 answer right after a prompt is picked from the list (focus still on it)', { timeout: 2 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/`);
      await waitForPair(page, LOAD_MS);
      const select = page.locator('#prompt-select');
      await select.focus();
      await select.selectOption('the pizza was');
      await page.waitForFunction(() => document.querySelector('.pair-prompt strong')?.textContent === 'the pizza was', undefined, { timeout: LOAD_MS });
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt-select');
      const first = await waitForPair(page, LOAD_MS);
      await page.keyboard.press('1');
      await page.waitForFunction(() => document.querySelector('[role="status"]')?.getAttribute('data-labels') === '1', undefined, { timeout: 5000 });
      await waitForPair(page, LOAD_MS, first);
      await page.keyboard.press('2');
      await page.waitForFunction(() => document.querySelector('[role="status"]')?.getAttribute('data-labels') === '2', undefined, { timeout: 5000 });
      // The keys did not move the list: the picked prompt is still picked.
      await expect(select.inputValue()).resolves.toBe('the pizza was');
      // A text field still takes the keys as typing.
      await page.locator('#prompt-typed').focus();
      await page.keyboard.press('1');
      await expect(page.locator('#prompt-typed').inputValue()).resolves.toBe('1');
      expect(await statusLabels(page)).toBe(2);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('at 390 px the sample strip stacks each row: model, RM score and completion all on screen', { timeout: 2 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser, PHONE);
    try {
      await page.goto(`${app.origin}/`);
      const strip = page.getByRole('table', { name: 'Sample strip' });
      await strip.waitFor({ timeout: LOAD_MS });
      await strip.scrollIntoViewIfNeeded();
      const cells = await strip.locator('tr[data-model]').evaluateAll((rows) =>
        rows.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => {
          const r = c.getBoundingClientRect();
          return { left: r.left, right: r.right, top: r.top, width: r.width, text: c.textContent ?? '' };
        })),
      );
      expect(cells.length).toBeGreaterThan(0);
      for (const [model, completion, rm] of cells) {
        for (const c of [model, completion, rm]) {
          expect(c.left).toBeGreaterThanOrEqual(0);
          expect(c.right).toBeLessThanOrEqual(PHONE.width);
        }
        // Stacked: the completion has a line of its own under the model and its RM score.
        expect(completion.top).toBeGreaterThan(model.top);
        expect(Math.abs(rm.top - model.top)).toBeLessThan(2);
        expect(completion.width).toBeGreaterThan(PHONE.width * 0.6);
      }
      // The RM cell names itself, since the header row is hidden on a phone.
      const rmLabel = await strip.locator('tr[data-model="base"] td.num').first().evaluate((td) => getComputedStyle(td, '::before').content);
      expect(rmLabel).toBe('"RM "');
      // The strip itself has nothing to scroll sideways.
      expect(await strip.evaluate((t) => t.scrollWidth - t.clientWidth)).toBeLessThanOrEqual(0);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
