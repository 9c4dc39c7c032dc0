// Lecture mode: the tour is walked by keyboard alone (Tab to its button, Enter, arrows, Esc), each
// step outlines its region and says the run's live numbers; the lecture link runs the loop
// hands-free and Space pauses and resumes it; ?hide= leaves regions out; a bad view parameter is
// named in the page; at 1920x1080 the lecture layout shows the pipeline, the pair and key charts
// on one screen.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { DESKTOP, openPage, SCREENSHOT_DIR, useServedBuild } from '../support/browser';
import { statusLabels, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;
const app = useServedBuild();

const REGIONS = ['Base model', 'Your preferences', 'Reward model', 'Train the policy', 'Reward hacking', 'Is RL necessary?'];

async function tourStep(page: Page): Promise<{ step: string | null; title: string; text: string; focused: string[] }> {
  return page.evaluate(() => {
    const card = document.querySelector('[data-step]');
    const focused = [...document.querySelectorAll('[data-tour-focus]')].map((el) => (el.querySelector('h2')?.textContent ?? '').replace(/^\s*\d\s*/, '').trim());
    return { step: card?.getAttribute('data-step') ?? null, title: card?.querySelector('h3')?.textContent ?? '', text: card?.querySelector('.tour-text')?.textContent ?? '', focused };
  });
}

/** Presses Tab until the named button has focus (at most `limit` presses). */
async function tabTo(page: Page, name: string, limit = 400): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate(() => (document.activeElement instanceof HTMLButtonElement ? document.activeElement.textContent?.trim() : ''));
    if (at === name) return;
  }
  throw new Error(`no focusable button "${name}" within ${limit} Tab presses`);
}

/** Answers two pairs by keyboard (each after its pair is on screen) and waits until the reward model has learned both. */
async function twoLabels(page: Page): Promise<void> {
  const first = await waitForPair(page, LOAD_MS);
  await page.keyboard.press('1');
  await waitForPair(page, LOAD_MS, first);
  await page.keyboard.press('2');
  await expect.poll(async () => (await workerLast(page, 'rewardModel'))?.metrics.labels, { timeout: LOAD_MS }).toBe(2);
}

describe('lecture mode', () => {
  test('the tour is walked by keyboard alone, each step on its region with live numbers', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?seed=2`);
      await waitForPair(page, LOAD_MS);
      await expect(page.getByRole('heading', { name: 'Lecture mode', exact: true }).count()).resolves.toBe(1);
      // Two labels by keyboard, so the Bradley-Terry step has numbers to say.
      await twoLabels(page);
      await tabTo(page, 'Start the tour');
      await page.keyboard.press('Enter');
      const seen: Awaited<ReturnType<typeof tourStep>>[] = [];
      for (let i = 1; i <= REGIONS.length; i++) {
        await page.waitForFunction((s) => document.querySelector('[data-step]')?.getAttribute('data-step') === String(s), i, { timeout: 5_000 });
        const s = await tourStep(page);
        seen.push(s);
        expect(s.focused).toEqual([REGIONS[i - 1]]);
        if (i < REGIONS.length) await page.keyboard.press('ArrowRight');
      }
      // The texts carry the run's numbers: the model's size, the labels, the reward model's accuracy.
      const info = (await workerLast(page, 'ready'))?.modelInfo;
      expect(seen[0].text).toContain(info!.parameters.toLocaleString('en'));
      expect(seen[1].text).toContain('2 labels so far');
      const rm = await workerLast(page, 'rewardModel');
      expect(seen[2].text).toContain(`agrees with ${Math.round(rm!.metrics.accuracy * 100)} %`);
      expect(new URL(page.url()).searchParams.get('tour')).toBe(String(REGIONS.length));
      // ArrowRight at the last step stays; ArrowLeft goes back; Esc closes, and the address forgets it.
      await page.keyboard.press('ArrowRight');
      expect((await tourStep(page)).step).toBe(String(REGIONS.length));
      await page.keyboard.press('ArrowLeft');
      expect((await tourStep(page)).step).toBe(String(REGIONS.length - 1));
      await page.keyboard.press('Escape');
      expect(await tourStep(page)).toMatchObject({ step: null, focused: [] });
      expect(new URL(page.url()).searchParams.has('tour')).toBe(false);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('the lecture link runs the loop hands-free; Space pauses and resumes it; large type', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?lecture=1&autopilot=1&pace=150&trainAfter=0`);
      await waitForPair(page, LOAD_MS);
      await expect(page.evaluate(() => document.documentElement.classList.contains('lecture'))).resolves.toBe(true);
      await expect.poll(() => page.getByRole('button', { name: 'Stop autopilot' }).count(), { timeout: LOAD_MS }).toBe(1);
      await page.waitForFunction(() => Number(document.querySelector('[role="status"]')?.getAttribute('data-labels')) >= 3, undefined, { timeout: LOAD_MS });
      await page.locator('body').focus();
      await page.keyboard.press('Space');
      await expect.poll(() => page.getByRole('button', { name: 'Start autopilot' }).count(), { timeout: 15_000 }).toBe(1);
      const paused = await statusLabels(page);
      await page.waitForTimeout(1_000);
      expect(await statusLabels(page)).toBeLessThanOrEqual(paused + 1); // one label may have been on its way
      await page.keyboard.press('Space');
      await expect.poll(() => page.getByRole('button', { name: 'Stop autopilot' }).count(), { timeout: 15_000 }).toBe(1);
      await page.waitForFunction((n) => Number(document.querySelector('[role="status"]')?.getAttribute('data-labels')) > n + 1, paused, { timeout: LOAD_MS });
      await page.keyboard.press('Space');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('?hide= leaves regions out, the checkboxes change it, and a bad view parameter is named', async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?hide=run,base&tour=next`);
      await waitForPair(page, LOAD_MS);
      await expect(page.getByRole('heading', { name: 'This run', exact: true }).count()).resolves.toBe(0);
      await expect(page.getByRole('heading', { name: /Base model$/ }).count()).resolves.toBe(0);
      await expect(page.getByRole('alert').filter({ hasText: 'Bad tour step "next" in the address (?tour=next)' }).count()).resolves.toBe(1);
      await page.getByText(/^Regions shown/).click();
      await page.getByRole('checkbox', { name: /^This run/ }).check();
      await expect(page.getByRole('heading', { name: 'This run', exact: true }).count()).resolves.toBe(1);
      expect(new URL(page.url()).searchParams.get('hide')).toBe('base');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('at 1280x800 the first screen shows the pipeline and the pair with its answer buttons', async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.goto(`${app.origin}/`);
      await waitForPair(page, LOAD_MS);
      const shown = await page.evaluate(() => {
        const within = (el: Element | null | undefined) => {
          if (!el) return null;
          const r = el.getBoundingClientRect();
          return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight ? Math.round(r.bottom) : -Math.round(r.bottom);
        };
        const pipeline = [...document.querySelectorAll('h2')].find((h) => (h.textContent ?? '').trim() === 'Pipeline')?.closest('section');
        const answer = [...document.querySelectorAll('.answers button')].find((b) => (b.textContent ?? '').trim().startsWith('B is better'));
        return { pipeline: within(pipeline), pair: within(document.querySelector('.pair')), answer: within(answer) };
      });
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'first-screen-1280x800.png') });
      for (const [what, bottom] of Object.entries(shown)) expect(bottom, `${what} ends at ${bottom} px`).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('at 1920x1080 the lecture layout shows the pipeline, the pair and key charts on one screen', async () => {
    const { page, errors, close } = await openPage(app.browser, { width: 1920, height: 1080 });
    try {
      await page.goto(`${app.origin}/?lecture=1`);
      await waitForPair(page, LOAD_MS);
      // Two labels and one PPO step, so the reward model's and PPO's charts have points to draw.
      await twoLabels(page);
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await page.waitForFunction(() => Number(document.querySelector('[data-chart^="ppo-"]')?.getAttribute('data-points') ?? 0) >= 1, undefined, { timeout: LOAD_MS });
      const inView = await page.evaluate(() => {
        const visible = (el: Element | null) => {
          if (!el) return false;
          const r = el.getBoundingClientRect();
          return r.width > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
        };
        const heading = (name: string) => [...document.querySelectorAll('h2')].find((h) => (h.textContent ?? '').trim() === name) ?? null;
        return {
          pipeline: visible(heading('Pipeline')?.closest('section') ?? null),
          pair: visible(document.querySelector('.pair')),
          charts: [...document.querySelectorAll('canvas')].filter(visible).length,
        };
      });
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'lecture-1920x1080.png') });
      expect(inView.pipeline).toBe(true);
      expect(inView.pair).toBe(true);
      expect(inView.charts).toBeGreaterThanOrEqual(2);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
