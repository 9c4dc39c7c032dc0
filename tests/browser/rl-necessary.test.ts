// "Is RL necessary?" in real Chromium on WASM: a demonstration typed in the region reaches the
// worker (a word outside the vocabulary is named and refused); after a short autopilot run with
// PPO, GRPO and SFT ticked, the reward-KL plane draws one series per method that ran (best-of-N's
// sweep included), its table rows are the worker's own `plane` message, the y axis is the gold
// score, and the sentence names the leading method with the numbers the table shows. Screenshots
// of the region on a desktop and on a 390 px phone, which must not scroll sideways.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import type { PlanePoint } from '../../src/lib/protocol/messages';
import { DESKTOP, LONG_TESTS, openPage, PHONE, ROOT, SCREENSHOT_DIR, useServedBuild } from '../support/browser';
import { report, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;
/** Labels, three methods, gold evaluations and best-of-N's 4,096 candidates share 2 cores. */
const RUN_MS = 420_000;
const PROGRESS = join(SCREENSHOT_DIR, 'rl-necessary-progress.log');

const app = useServedBuild();

/** The page's names for the methods on the plane (the legend's best-of-N entry names its Ns). */
const SERIES: Record<string, string> = { ppo: 'PPO', grpo: 'GRPO', rloo: 'RLOO', dpo: 'DPO', sft: 'SFT', 'best-of-n': 'Best-of-N (N = 1 … 64)' };

function region(page: Page) {
  return page.getByRole('region', { name: 'Is RL necessary?', exact: true });
}

/** A number as the plane prints it: 2 decimals, and a sampled KL of -0.001 as 0.00. */
function shown(x: number): string {
  const text = x.toFixed(2);
  return text === '-0.00' ? '0.00' : text;
}

/** Each method's standing, computed here from the worker's points: an online method's latest, best-of-N's highest (fewest N among equals), else its point. */
function leader(points: PlanePoint[]): { name: string; y: string; kl: string; level: boolean } {
  const stand = new Map<string, PlanePoint>();
  for (const p of points) {
    const held = stand.get(p.method);
    const y = Number(p.y.toFixed(2));
    if (!held || (p.kind === 'online' ? p.steps > held.steps : y > Number(held.y.toFixed(2)))) stand.set(p.method, p);
  }
  const ranked = [...stand.values()].sort((a, b) => Number(b.y.toFixed(2)) - Number(a.y.toFixed(2)) || a.kl - b.kl);
  const top = ranked[0];
  return {
    name: top.n === 1 ? 'The base model (best-of-1)' : top.n !== null ? `Best-of-${top.n}` : SERIES[top.method],
    y: shown(top.y),
    kl: shown(top.kl),
    level: ranked.length > 1 && shown(ranked[1].y) === shown(top.y),
  };
}

/** The table's rows as the page shows them. */
function tableRows(page: Page) {
  return region(page)
    .locator('table[aria-label="Reward-KL plane points"] tbody tr')
    .evaluateAll((rows) =>
      rows.map((tr) => ({
        method: tr.getAttribute('data-method') ?? '',
        n: tr.getAttribute('data-n') ?? '',
        steps: tr.getAttribute('data-steps') ?? '',
        kl: tr.querySelector('[data-measure="kl"]')?.textContent ?? '',
        y: tr.querySelector('[data-measure="y"]')?.textContent ?? '',
      })),
    );
}

function expectedRows(points: PlanePoint[]) {
  return points.map((p) => ({ method: p.method, n: p.n === null ? '' : String(p.n), steps: String(p.steps), kl: shown(p.kl), y: shown(p.y) }));
}

describe('is RL necessary?', () => {
  test('a typed demonstration reaches the worker; after autopilot with PPO, GRPO and SFT the plane holds one series per method, its table is the worker’s message, and the sentence names the leader', { timeout: RUN_MS + 2 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    let progress: ReturnType<typeof setInterval> | undefined;
    try {
      const small = 'ppo.rolloutsPerIteration=8&grpo.promptsPerIteration=2&grpo.groupSize=4&sft.steps=4&refitEvery=0';
      await page.goto(`${app.origin}/?seed=4&pace=120&trainAfter=6&methods=ppo,grpo,sft&${small}`);
      await waitForPair(page, LOAD_MS);
      const r = region(page);
      await expect(r.getByRole('heading', { level: 2 }).textContent()).resolves.toBe('Is RL necessary?');

      // A demonstration, by keyboard: the worker accepts it and the list shows it.
      await r.getByLabel('Prompt', { exact: true }).fill('the pizza was');
      await r.getByLabel('Completion', { exact: true }).fill('great. i would go again.');
      await r.getByLabel('Completion', { exact: true }).press('Enter');
      await expect.poll(async () => (await workerLast(page, 'demonstrationsSet'))?.count).toBe(1);
      await expect(r.getByRole('list', { name: 'Demonstrations' }).locator('li').count()).resolves.toBe(1);
      // A word outside the vocabulary is named, and the worker keeps the one it has.
      await r.getByLabel('Prompt', { exact: true }).fill('the pizza was');
      await r.getByLabel('Completion', { exact: true }).fill('splendiferous.');
      await r.getByRole('button', { name: 'Add demonstration' }).click();
      await expect.poll(() => r.getByRole('alert').textContent()).toContain('"splendiferous"');
      expect((await workerLast(page, 'demonstrationsSet'))?.count).toBe(1);
      await expect(r.getByRole('list', { name: 'Demonstrations' }).locator('li').count()).resolves.toBe(1);

      // Autopilot labels, trains PPO and GRPO, runs SFT (on the chosen completions and the demonstration).
      await page.getByRole('button', { name: 'Start autopilot' }).click();
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      // Progress for whoever waits on a busy machine: the plane's methods, the status line, warnings.
      progress = setInterval(() => {
        void (async () => {
          try {
            const last = await workerLast(page, 'plane');
            const status = await page.getByRole('status', { name: 'Run status' }).first().textContent();
            appendFileSync(PROGRESS, `${new Date().toISOString()} ${last ? last.points.map((p) => `${p.method}${p.n ?? '@' + p.steps}`).join(' ') : 'no plane yet'} | ${status}\n`);
          } catch {
            // the page is closing
          }
        })();
      }, 15_000);
      // The plane, like every chart, draws only near the viewport.
      await r.locator('figure[data-chart="reward-kl-plane"]').scrollIntoViewIfNeeded();
      const handle = await page.waitForFunction(
        () => {
          const figure = document.querySelector('figure[data-chart="reward-kl-plane"]');
          const series = figure?.getAttribute('data-series') ?? '';
          return ['PPO', 'GRPO', 'SFT', 'Best-of-N'].every((s) => series.includes(s)) ? series : false;
        },
        undefined,
        { timeout: RUN_MS, polling: 250 },
      );
      clearInterval(progress);
      report('plane series after autopilot', await handle.jsonValue());
      // With RLHF_LONG=1, both online paths have at least two evaluations on them (about 30 s more;
      // CI leaves it out for its budget: tests/unit/plane.test.ts merges paths point by point).
      if (LONG_TESTS) {
        await expect
          .poll(async () => {
            const pts = (await workerLast(page, 'plane'))?.points ?? [];
            return ['ppo', 'grpo'].every((m) => pts.filter((p) => p.method === m).length >= 2);
          }, { timeout: RUN_MS, interval: 500 })
          .toBe(true);
      }

      // The table view is the worker's last plane message, row for row (a plane may arrive while reading: read both again).
      await r.locator('figure[data-chart="reward-kl-plane"] summary').click();
      let plane = await workerLast(page, 'plane');
      await expect
        .poll(async () => {
          plane = await workerLast(page, 'plane');
          return JSON.stringify(await tableRows(page)) === JSON.stringify(expectedRows(plane!.points));
        }, { timeout: 20_000, interval: 200 })
        .toBe(true);
      expect(plane!.axis).toBe('gold');
      const methods = [...new Set(plane!.points.map((p) => p.method))];
      expect(methods.sort()).toEqual(['best-of-n', 'grpo', 'ppo', 'sft']);
      // One series per method, in the worker's order; best-of-N has a point for every N.
      const series = await r.locator('figure[data-chart="reward-kl-plane"]').getAttribute('data-series');
      expect(series).toBe([...new Set(plane!.points.map((p) => p.method))].map((m) => SERIES[m]).join('|'));
      expect(plane!.points.filter((p) => p.method === 'best-of-n').map((p) => p.n)).toEqual([1, 2, 4, 8, 16, 32, 64]);
      for (const p of plane!.points.filter((q) => q.n !== null)) expect(p.kl).toBeCloseTo(Math.log(p.n!) - (p.n! - 1) / p.n!, 6);
      const header = await r.locator('table[aria-label="Reward-KL plane points"] thead th').allTextContents();
      expect(header).toEqual(['Method', 'N or steps', 'KL (nats)', 'Gold score']);
      await expect(r.locator('canvas').getAttribute('aria-label')).resolves.toContain('reward-KL plane');

      // The sentence, for the same message: the leader's name and its numbers as the table shows them.
      await expect
        .poll(async () => {
          plane = await workerLast(page, 'plane');
          const lead = leader(plane!.points);
          const text = (await r.locator('p.lead').textContent()) ?? '';
          return text.startsWith(lead.name) && text.includes(`gold score ${lead.y}`) && text.includes(`KL ${lead.kl} nats`) && text.includes(lead.level ? 'are level' : 'is ahead');
        }, { timeout: 20_000, interval: 200 })
        .toBe(true);
      report('plane sentence', await r.locator('p.lead').textContent());
      report(
        'plane standings',
        plane!.points.map((p) => ({ method: p.method, n: p.n, steps: p.steps, kl: Number(p.kl.toFixed(2)), gold: Number(p.y.toFixed(2)) })),
      );

      await page.getByRole('button', { name: 'Stop autopilot' }).click();
      const pause = page.getByRole('button', { name: 'Pause', exact: true });
      if ((await pause.count()) > 0) await pause.click();
      await r.scrollIntoViewIfNeeded();
      await page.waitForTimeout(400);
      await r.screenshot({ path: join(ROOT, 'tests', 'screenshots', 'rl-necessary-desktop.png') });

      // On a phone the region fits its width (no sideways scroll), the table scrolls in its box.
      await page.setViewportSize(PHONE);
      await page.waitForTimeout(400);
      const fit = await r.evaluate((el) => ({ overflow: el.scrollWidth - el.clientWidth, right: el.getBoundingClientRect().right }));
      expect(fit.overflow).toBeLessThanOrEqual(0);
      expect(fit.right).toBeLessThanOrEqual(PHONE.width);
      // every column of the table is on screen, none hidden off to the side of its box
      const table = await r.locator('.table-box').evaluate((box) => ({ box: box.clientWidth, table: box.querySelector('table')!.scrollWidth }));
      expect(table.table).toBeLessThanOrEqual(table.box);
      await r.scrollIntoViewIfNeeded();
      await r.screenshot({ path: join(ROOT, 'tests', 'screenshots', 'rl-necessary-phone.png') });

      // Autopilot is off: a new plane on the RM axis, the trained methods measured by the reward model, and the page says so.
      await expect.poll(async () => (await workerLast(page, 'plane'))?.axis, { timeout: 60_000, interval: 500 }).toBe('rm');
      await expect
        .poll(async () => {
          const rm = await workerLast(page, 'plane');
          const head = await r.locator('table[aria-label="Reward-KL plane points"] thead th').allTextContents();
          return head[3] === 'RM score' && JSON.stringify(await tableRows(page)) === JSON.stringify(expectedRows(rm!.points));
        }, { timeout: 20_000, interval: 200 })
        .toBe(true);
      const rmPlane = (await workerLast(page, 'plane'))!;
      expect(rmPlane.points.some((p) => p.method === 'ppo')).toBe(true);
      await expect(r.locator('canvas').getAttribute('aria-label')).resolves.toContain('RM score');
      report('plane on the RM axis', rmPlane.points.map((p) => ({ method: p.method, n: p.n, steps: p.steps, kl: Number(p.kl.toFixed(2)), rm: Number(p.y.toFixed(2)) })));
      expect(errors).toEqual([]);
    } finally {
      clearInterval(progress);
      await close();
    }
  });
});
