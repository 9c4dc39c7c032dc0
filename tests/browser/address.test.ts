// A hand-edited address in real Chromium (issue 12): values out of range in the query and after
// # are pulled to their bounds, hex, wrong types and unknown keys are ignored, a repeated key
// takes its last value; the page says so in one dismissible line that does not push the page
// down, and rewrites the address to what runs, so reloading the link says nothing more.
// A refused value typed into a method's form names the range and the box shows what still runs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openPage, SCREENSHOT_DIR, useServedBuild } from '../support/browser';
import { openSettings, settle } from './page-helpers';

const LOAD_MS = 60_000;
/** Five notices or more must take about two lines at most (a line of the page is ~24 px). */
const MAX_NOTICE_HEIGHT_PX = 60;

const app = useServedBuild();

describe('the address', () => {
  test('hand-edited query and hash values are clamped or ignored with one dismissible notice, and the address is rewritten to what runs', { timeout: 3 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?seed=3&beta=0x1&noise=abc&ppo.lr=5&grpo.beta=0x1#seed=7&candidates=9&tour=9`);
      const { phase } = await settle(page, LOAD_MS);
      expect(phase).toBe('ready');
      const notices = page.locator('[data-notices]');
      // The page's own seven: seed given twice, beta unknown, noise not a number, candidates and
      // tour clamped; then the worker's: PPO's learning rate clamped, GRPO's beta in hex refused.
      await expect.poll(() => notices.getAttribute('data-notices'), { timeout: LOAD_MS }).toBe('7');
      await expect(page.getByRole('alert').filter({ hasText: 'changed or ignored' }).count()).resolves.toBe(1);
      const text = (await notices.textContent()) ?? '';
      expect(text).toContain('The address gives seed 2 times (seed=3, seed=7); using the last, seed=7.');
      expect(text).toContain('Unknown setting "beta" in the address (?beta=0x1): ignored.');
      expect(text).toMatch(/The candidates per pair "9" in the address \(\?candidates=9\) is out of range \(use a whole number from 2 to 8\); using 8\./);
      expect(text).toMatch(/The PPO learning rate "5" .* is out of range \(use a number from 0\.000001 to 0\.01\); using 0\.01\./);
      expect(text).toMatch(/Bad GRPO KL coefficient beta "0x1" .*; using 0\.\d+\./);
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await notices.screenshot({ path: join(SCREENSHOT_DIR, 'address-notices.png') });
      const height = (await notices.boundingBox())?.height ?? Infinity;
      expect(height).toBeLessThanOrEqual(MAX_NOTICE_HEIGHT_PX);
      await expect(page.getByRole('group', { name: 'Seed' }).textContent()).resolves.toBe('7');

      // The address now holds what runs, and nothing after #.
      const url = new URL(page.url());
      expect(url.hash).toBe('');
      expect(Object.fromEntries(url.searchParams)).toEqual({ seed: '7', candidates: '8', tour: '6', 'ppo.lr': '0.01' });

      // The list opens from its one line; Dismiss is reached and pressed by keyboard.
      await notices.locator('summary').click();
      await expect(notices.locator('li').count()).resolves.toBe(7);
      const dismiss = notices.getByRole('button', { name: 'Dismiss' });
      await dismiss.focus();
      await page.keyboard.press('Enter');
      await expect(notices.count()).resolves.toBe(0);

      // A form refuses a learning rate of 5, names the range, and the box shows the one that runs.
      const ppo = await openSettings(page, 'PPO');
      const lr = ppo.getByLabel('learning rate');
      await lr.fill('5');
      await lr.press('Tab');
      await expect(ppo.getByRole('alert').textContent()).resolves.toBe('learning rate "5" refused: use a number from 0.000001 to 0.01; 0.01 still runs.');
      await expect(lr.inputValue()).resolves.toBe('0.01');

      // Settings typed after # on the open page do not reload it: the page says when they apply.
      await page.evaluate(() => (location.hash = '#seed=9'));
      await expect.poll(() => page.getByRole('alert').filter({ hasText: 'reload the page to apply them' }).count()).toBe(1);
      await page.evaluate(() => history.replaceState(history.state, '', location.pathname + location.search));

      // The rewritten link, opened again, has nothing to say.
      await page.reload();
      await settle(page, LOAD_MS);
      await expect(page.getByRole('group', { name: 'Seed' }).textContent()).resolves.toBe('7');
      await expect(notices.count()).resolves.toBe(0);
      expect(new URL(page.url()).searchParams.get('candidates')).toBe('8');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
