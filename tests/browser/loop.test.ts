// The whole RLHF loop in real Chromium on WASM: the first pair comes fast, labels given by keyboard
// reach the reward model (count, verdict, chart), Train makes the PPO curves grow and Pause stops
// them, a hyperparameter change applies within an iteration, autopilot raises the gold score, and
// the page stays responsive (long tasks and click-to-next-pair latency are measured and printed;
// only generous sanity bounds are asserted: the targets are 50 ms and 100 ms).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DESKTOP, openPage, PHONE, SCREENSHOT_DIR, useServedBuild } from '../support/browser';
import {
  chartPoints,
  chartTable,
  LONG_TASK_SCRIPT,
  longTasks,
  PAIR_LATENCY_SCRIPT,
  pairLatencies,
  report,
  settle,
  statusLabels,
  summary,
  waitForChartPoints,
  waitForPair,
} from './page-helpers';

const LOAD_MS = 60_000;
/** One PPO iteration is ~1 s on WASM here; CI machines may be slower. */
const ITERATION_MS = 30_000;

const app = useServedBuild();

describe('the RLHF loop', () => {
  test('10 labels by keyboard: the count, the verdict and the reward-model chart follow; the next pair is instant', async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.addInitScript(PAIR_LATENCY_SCRIPT);
      await page.goto(`${app.origin}/`);
      let id = await waitForPair(page, LOAD_MS);
      const firstPairMs = await page.evaluate(() => performance.now());
      report('first pair on screen after navigation (ms)', Math.round(firstPairMs));
      expect(firstPairMs).toBeLessThan(LOAD_MS);
      expect(await page.getByRole('article', { name: 'Completion A' }).textContent()).toBeTruthy();

      // At a reader's pace: each press comes once the pair behind the one on screen is ready (a
      // person reads two completions in well over the ~0.3 s a label's update takes).
      const keys = ['1', '2', '=', '1', 's', '2', '1', '1', '2', '=', '1'];
      for (const key of keys) {
        await page.waitForFunction(() => Number(document.querySelector('.pair')?.getAttribute('data-queued')) >= 2, undefined, { timeout: LOAD_MS, polling: 20 });
        await page.keyboard.press(key);
        id = await waitForPair(page, LOAD_MS, id);
      }
      // 11 presses, one a skip: 10 labels.
      await page.waitForFunction(() => /\b10 labels\b/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: 5_000 });
      expect(await statusLabels(page)).toBe(10);
      const latency = summary(await pairLatencies(page));
      report('key press to next pair drawn (ms)', { median: Math.round(latency.median), max: Math.round(latency.max), n: latency.n });
      expect(latency.n).toBe(keys.length);
      expect(latency.max).toBeLessThan(1_000); // target 100 ms; a bound that only catches a broken prefetch

      // Every label reaches the reward model: its chart's last row counts 10 labels.
      await page.waitForFunction(() => document.querySelector('.verdict')?.getAttribute('data-agreed') !== '', undefined, { timeout: LOAD_MS });
      await expect(page.locator('.verdict').textContent()).resolves.toMatch(/P\(A better\) = [\d.]+ %/);
      await waitForChartPoints(page, 'reward-model', 1, LOAD_MS);
      await page.waitForFunction(() => !/Learning \d+ more/.test(document.querySelector('.verdict')?.textContent ?? ''), undefined, { timeout: LOAD_MS });
      const rm = await chartTable(page, 'Reward model');
      expect(rm.header).toEqual(['update', 'loss', 'accuracy']);
      expect(rm.rows.length).toBeGreaterThanOrEqual(1);
      const labelsColumn = await page.locator('[data-metric="labels"]').textContent();
      expect(labelsColumn).toBe('10');
      for (const row of rm.rows) expect(row[1]).toBeGreaterThan(0);
      await page.getByText('Label history (10)').click();
      await expect(page.getByRole('list', { name: 'Label history' }).locator('li').count()).resolves.toBe(10);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'loop-labels-desktop-1280x800.png') });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('Train grows the reward and KL charts, a new beta applies at the next iteration, Pause stops them; no long tasks', async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.addInitScript(LONG_TASK_SCRIPT);
      await page.goto(`${app.origin}/`);
      let id = await waitForPair(page, LOAD_MS);
      for (const name of ['A is better', 'B is better', 'A is better', 'Tie', 'B is better']) {
        await page.getByRole('button', { name, exact: true }).click();
        id = await waitForPair(page, LOAD_MS, id);
      }
      const trainStart = await page.evaluate(() => performance.now());
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await expect(page.getByRole('status').textContent()).resolves.toMatch(/PPO training/);
      await waitForChartPoints(page, 'reward', 2, ITERATION_MS * 2);
      await waitForChartPoints(page, 'kl', 2, ITERATION_MS);

      // Fixed beta 0.2, while training: the KL chart's beta column shows it from the next iteration on.
      await page.getByLabel('KL control').selectOption('fixed');
      const beta = page.getByLabel('β (KL coefficient)');
      await beta.fill('0.2');
      await beta.press('Tab');
      const changedAt = await chartPoints(page, 'kl');
      await waitForChartPoints(page, 'kl', changedAt + 2, ITERATION_MS * 2);
      await expect(page.getByRole('status').textContent()).resolves.toMatch(/PPO training/);
      const labelsDuringTraining = await page.getByRole('region', { name: 'Your preferences' }).isVisible();
      expect(labelsDuringTraining).toBe(true);

      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      const trainEnd = await page.evaluate(() => performance.now());
      await expect(page.getByRole('status').textContent()).resolves.toMatch(/PPO paused after \d+ iterations?/);
      await page.waitForTimeout(2_500); // an iteration in flight when Pause was pressed may still land
      const stopped = await chartPoints(page, 'reward');
      await page.waitForTimeout(3_000);
      expect(await chartPoints(page, 'reward')).toBe(stopped);
      expect(await chartPoints(page, 'kl')).toBe(stopped);

      const kl = await chartTable(page, 'KL');
      expect(kl.header).toEqual(['iteration', 'KL', 'β']);
      expect(kl.rows.length).toBe(stopped);
      const betas = kl.rows.map((r) => r[2]);
      expect(betas[betas.length - 1]).toBeCloseTo(0.2, 5);
      expect(betas[0]).toBeCloseTo(0.05, 5);
      const reward = await chartTable(page, 'Reward');
      expect(reward.rows.map((r) => r[0])).toEqual(Array.from({ length: stopped }, (_, i) => i + 1));

      // The CSV has every row, with TRL's metric names.
      const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download KL chart as CSV' }).click()]);
      expect(csv.suggestedFilename()).toBe('kl.csv');
      const csvLines = readFileSync(await csv.path(), 'utf8').trim().split('\n');
      expect(csvLines[0]).toBe('iteration,objective/kl,objective/kl_coef');
      expect(csvLines).toHaveLength(stopped + 1);

      const tasks = await longTasks(page, trainStart);
      const during = tasks.filter((t) => t.start <= trainEnd);
      const max = Math.max(0, ...during.map((t) => t.duration));
      report('main-thread long tasks while training (count, max ms)', { count: during.length, maxMs: Math.round(max), trainingSeconds: Math.round((trainEnd - trainStart) / 1000), iterations: stopped });
      expect(max).toBeLessThan(500); // target: none over 50 ms; this bound only catches a blocked main thread
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'loop-trained-desktop-1280x800.png'), fullPage: true });

      // Reset: back to the base policy, the PPO curves start over, the labels stay.
      await page.getByRole('button', { name: 'Reset', exact: true }).click();
      await page.waitForFunction(() => /PPO not started/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: ITERATION_MS });
      await page.waitForFunction(() => document.querySelector('[data-chart="reward"]')?.getAttribute('data-points') === '0', undefined, { timeout: ITERATION_MS });
      expect(await statusLabels(page)).toBe(5);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('autopilot labels, trains and raises the gold score above the base model', async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      // A fast pace and 32 rollouts keep this to about a minute on WASM. The seed matters: with
      // seed 1 the first 30 labels teach the reward model that "worse than ..." is good (the
      // positive annotator prefers the milder of two negative completions), and PPO exploits that
      // (reward hacking: the gold score falls while the RM score climbs). Seed 3 learns the intent.
      await page.goto(`${app.origin}/?seed=3&pace=100&trainAfter=30&rollouts=32`);
      await waitForPair(page, LOAD_MS);
      await page.getByRole('button', { name: 'Start autopilot' }).click();
      await waitForChartPoints(page, 'gold', 1, LOAD_MS);
      await page.waitForFunction(() => /PPO training/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: LOAD_MS });
      await waitForChartPoints(page, 'gold', 18, 180_000); // a gold point every 2 iterations
      await page.getByRole('button', { name: 'Stop autopilot' }).click();
      const gold = await chartTable(page, 'Gold');
      expect(gold.header).toEqual(['iteration', 'gold score', 'base', 'win rate']);
      const first = gold.rows[0];
      const last3 = gold.rows.slice(-3);
      const meanGold = last3.reduce((a, r) => a + r[1], 0) / 3;
      const meanWin = last3.reduce((a, r) => a + r[3], 0) / 3;
      report('autopilot gold score (base -> mean of last 3 evaluations)', { base: first[2], gold: Number(meanGold.toFixed(2)), winRate: Number(meanWin.toFixed(2)), iteration: last3[2][0] });
      expect(first[3]).toBe(0.5); // before PPO the policy is the base model, sampled from the same stream
      expect(meanGold).toBeGreaterThan(first[2]);
      expect(await statusLabels(page)).toBeGreaterThanOrEqual(30);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'autopilot-desktop-1280x800.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('a 1000-iteration run keeps the page responsive (charts decimate and redraw a few times a second)', { timeout: 400_000 }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.addInitScript(LONG_TASK_SCRIPT);
      // Two rollouts and one epoch make an iteration ~60 ms; a fixed high beta keeps the KL guard quiet.
      await page.goto(`${app.origin}/?rollouts=2&epochs=1&kl=fixed&beta=1`);
      await waitForPair(page, LOAD_MS);
      await page.getByRole('button', { name: 'A is better', exact: true }).click();
      const trainStart = await page.evaluate(() => performance.now());
      await page.getByRole('button', { name: 'Train', exact: true }).click();
      await waitForChartPoints(page, 'reward', 1000, 300_000);
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      const trainEnd = await page.evaluate(() => performance.now());
      const opened = Date.now();
      const kl = await chartTable(page, 'KL');
      const openMs = Date.now() - opened;
      expect(kl.rows.length).toBe(250); // the newest rows; "Show all" and the CSV have the rest
      const during = (await longTasks(page, trainStart)).filter((t) => t.start <= trainEnd);
      const max = Math.max(0, ...during.map((t) => t.duration));
      report('1000-iteration run: main-thread long tasks while training, table open', {
        iterations: await chartPoints(page, 'reward'),
        seconds: Math.round((trainEnd - trainStart) / 1000),
        longTasks: during.length,
        maxMs: Math.round(max),
        tableOpenMs: openMs,
      });
      expect(max).toBeLessThan(500);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('on a 390 px phone: no sideways scrolling, answer by touch, one Step', async () => {
    const { page, errors, close } = await openPage(app.browser, PHONE);
    try {
      await page.goto(`${app.origin}/?rollouts=16`);
      let id = await waitForPair(page, LOAD_MS);
      for (const name of ['B is better', 'A is better', 'Skip', 'A is better']) {
        await page.getByRole('button', { name, exact: true }).click();
        id = await waitForPair(page, LOAD_MS, id);
      }
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await waitForChartPoints(page, 'reward', 1, ITERATION_MS);
      await settle(page, LOAD_MS);
      expect(await statusLabels(page)).toBe(3);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'loop-phone-390x844.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
