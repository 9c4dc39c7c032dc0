// "How it works" in real Chromium: one explanation per step (details with the ids other views open),
// each opened by keyboard, with formulas as MathML; under autopilot with PPO, GRPO and RLOO ticked,
// the β and KL of the objective's explanation are the last points of each method's KL coefficient
// and KL charts (their table views, in the colour of their line), PPO's penalty is what its chart
// says the objective subtracts, and the Bradley-Terry numbers are the reward model's scores of the
// pair just labelled as the verdict shows them. On a 390 px phone, with every box open, the page does
// not scroll sideways; the large-type class of lecture mode makes it bigger.
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { COLOURS } from '../../src/ui/charts/chart-setup';
import { DESKTOP, openPage, PHONE, ROOT, useServedBuild } from '../support/browser';
import { chartTable, methodRegion, report, waitForChartPoints, waitForPair } from './page-helpers';

const LOAD_MS = 60_000;
/** Autopilot labels, then three methods take turns: generous on a loaded 2-core machine. */
const TRAIN_MS = 240_000;

const IDS = ['how-bt', 'how-objective', 'how-ppo', 'how-grpo', 'how-rloo', 'how-dpo', 'how-sft', 'how-bon'];
const SHOTS = join(ROOT, 'tests', 'screenshots');

/** Each online method: its title, and the charts its β and KL must come from. */
const ONLINE = [
  { name: 'ppo', title: 'PPO', beta: 'objective/kl_coef', kl: 'objective/kl' },
  { name: 'grpo', title: 'GRPO', beta: 'beta', kl: 'kl/sequence' },
  { name: 'rloo', title: 'RLOO', beta: 'beta', kl: 'kl/sequence' },
];

const app = useServedBuild();

/** What a live number says about itself (LiveNumber.svelte). */
interface Live {
  key: string;
  method: string;
  value: string;
  chart: string;
  text: string;
  colour: string;
}

function lives(scope: Locator): Promise<Live[]> {
  return scope.locator('[data-live]').evaluateAll((els) =>
    els.map((e) => ({
      key: e.getAttribute('data-live') ?? '',
      method: e.getAttribute('data-method') ?? '',
      value: e.getAttribute('data-value') ?? '',
      chart: e.getAttribute('data-chart') ?? '',
      text: (e.textContent ?? '').trim(),
      colour: (e as HTMLElement).style.getPropertyValue('--live').trim(),
    })),
  );
}

/** Whether `text` is `x` rounded for reading: at most 3 significant digits, within half a unit of the last digit shown. */
function roundsTo(text: string, x: number): boolean {
  const shown = Number(text);
  const digits = text.replace(/^-?0*\.?0*/, '').replace('.', '').length;
  const decimals = text.includes('.') ? text.length - text.indexOf('.') - 1 : 0;
  return Number.isFinite(shown) && digits <= 3 && Math.abs(shown - x) <= 0.5 * 10 ** -decimals + 1e-12;
}

/** The last row's value of `key` in a chart's table, and the colour of its line (MetricChart: line i is COLOURS[i]). */
async function lastPointOf(page: Page, chart: string, key: string): Promise<{ value: number; colour: string }> {
  const { header, rows } = await chartTable(page, chart);
  const col = header.indexOf(key);
  expect(col, `${chart} draws ${key}`).toBeGreaterThan(0);
  expect(rows.length).toBeGreaterThan(0);
  return { value: rows[rows.length - 1][col], colour: COLOURS[(col - 1) % COLOURS.length] };
}

/** Waits until the charts' point counts stop changing for `quietMs` (training has really stopped). */
async function waitQuiet(page: Page, quietMs: number): Promise<void> {
  let last = '';
  let since = Date.now();
  for (;;) {
    const now = await page.locator('figure[data-chart]').evaluateAll((fs) => fs.map((f) => f.getAttribute('data-points')).join(','));
    const learning = await page.locator('.verdict').textContent();
    const busy = await page.locator('section[data-method] progress').count(); // an offline run in progress
    if (now !== last || busy > 0 || /Learning \d+ more|learning your label/.test(learning ?? '')) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await page.waitForTimeout(200);
  }
}

describe('how it works', () => {
  test('every box opens by keyboard, shows MathML, and its live numbers are the charts’ last points under autopilot', { timeout: TRAIN_MS + 2 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      const small = 'ppo.rolloutsPerIteration=8&grpo.promptsPerIteration=2&grpo.groupSize=4&rloo.promptsPerIteration=2&rloo.groupSize=4&dpo.steps=3&best-of-n.n=4&best-of-n.batches=1';
      await page.goto(`${app.origin}/?seed=5&pace=100&trainAfter=6&refitEvery=0&methods=ppo,grpo,rloo,dpo,best-of-n&${small}`);
      await waitForPair(page, LOAD_MS);

      const region = page.getByRole('region', { name: 'How it works', exact: true });
      await expect(region.getByRole('heading', { level: 2 }).textContent()).resolves.toBe('How it works');
      await region.locator('#how-bon').waitFor({ state: 'attached' }); // the explanations' own chunk
      expect(await region.locator('details').evaluateAll((ds) => ds.map((d) => d.id))).toEqual(IDS);
      expect(await region.locator('details').evaluateAll((ds) => ds.map((d) => (d as HTMLDetailsElement).open))).toEqual(IDS.map(() => false));

      // Before any label or step, the boxes say so, and what would produce their numbers.
      await expect(region.locator('.live-line.empty[data-method="pair"]').textContent()).resolves.toMatch(/No pair labelled/);
      await expect(region.locator('#how-ppo .live-line.empty').textContent()).resolves.toMatch(/has not trained yet.*press Train/);
      await expect(region.locator('#how-objective [data-live]').count()).resolves.toBe(0);

      // Keyboard: Tab reaches each summary in turn; Enter opens its box (and closes it again).
      await region.locator('#how-bt summary').focus();
      for (const [i, id] of IDS.entries()) {
        if (i > 0) await page.keyboard.press('Tab');
        await expect(page.evaluate(() => document.activeElement?.parentElement?.id)).resolves.toBe(id);
        await page.keyboard.press('Enter');
        await expect(region.locator(`#${id}`).evaluate((d) => (d as HTMLDetailsElement).open)).resolves.toBe(true);
        // The boxes hold text and formulas only, so the next Tab reaches the next summary.
        const focusable = await region.locator(`#${id} .body`).evaluate((b) => b.querySelectorAll('a, button, input, select, [tabindex]').length);
        expect(focusable).toBe(0);
      }
      await region.locator('#how-bt summary').focus();
      await page.keyboard.press('Enter');
      await expect(region.locator('#how-bt').evaluate((d) => (d as HTMLDetailsElement).open)).resolves.toBe(false);
      await page.keyboard.press('Enter');
      await expect(region.locator('#how-bt').evaluate((d) => (d as HTMLDetailsElement).open)).resolves.toBe(true);

      // Formulas: one MathML <math> per formula box, no Temml error, laid out by the browser.
      const boxes = region.locator('.math-box');
      const formulas = await boxes.evaluateAll((bs) =>
        bs.map((b) => {
          const math = b.querySelector('math');
          return {
            key: b.getAttribute('data-formula') ?? '',
            namespace: math?.namespaceURI ?? '',
            error: b.querySelector('.temml-error, merror') !== null,
            height: math?.getBoundingClientRect().height ?? 0,
            tex: math?.querySelector('annotation')?.textContent ?? '',
          };
        }),
      );
      expect(formulas.length).toBeGreaterThanOrEqual(IDS.length * 2);
      for (const f of formulas) {
        expect(f.namespace, f.key).toBe('http://www.w3.org/1998/Math/MathML');
        expect(f.error, f.key).toBe(false);
        expect(f.height, f.key).toBeGreaterThan(10);
      }
      // The formulas say what the code does: GRPO's k3 and its 1e-4, best-of-N's bound, BT's sigmoid.
      const tex = Object.fromEntries(formulas.map((f) => [f.key, f.tex]));
      expect(tex['bt-prob']).toMatch(/\\sigma\\big\(r\(x, y_A\) - r\(x, y_B\)\\big\)/);
      expect(tex['grpo-adv']).toContain('10^{-4}');
      expect(tex['grpo-k3']).toMatch(/\\log/);
      expect(tex['bon-kl']).toContain(String.raw`\log N - \frac{N - 1}{N}`);
      report('how-it-works formulas', formulas.length);

      // Autopilot labels 6 pairs, then trains the three ticked methods in turn.
      await page.getByRole('button', { name: 'Start autopilot' }).click();
      for (const m of ONLINE) await waitForChartPoints(page, `${m.name}-kl-to-the-reference`, 2, TRAIN_MS);
      await page.getByRole('button', { name: 'Stop autopilot' }).click();
      const pause = page.getByRole('button', { name: 'Pause', exact: true });
      if ((await pause.count()) > 0) await pause.click();
      // DPO reruns on the labels by itself (it is ticked); best-of-N runs when asked.
      for (const title of ['DPO', 'Best-of-N']) {
        const method = methodRegion(page, title);
        const run = method.getByRole('button', { name: `Run ${title}`, exact: true });
        if ((await run.count()) > 0 && (await run.getAttribute('aria-disabled')) !== 'true') await run.click();
        await method.getByText(/^Done after/).waitFor({ timeout: TRAIN_MS });
      }
      await waitQuiet(page, 2_000);

      // The objective: β and KL of each method are its KL coefficient and KL charts' last points.
      const objective = region.locator('#how-objective');
      for (const m of ONLINE) {
        const line = objective.locator(`.live-line[data-method="${m.name}"]`);
        const shown = await lives(line);
        const beta = shown.find((l) => l.key === m.beta);
        const kl = shown.find((l) => l.key === m.kl);
        expect(beta?.chart, `${m.title} β`).toBe(`${m.title} KL coefficient`);
        expect(kl?.chart, `${m.title} KL`).toBe(`${m.title} KL to the reference`);
        for (const v of [beta!, kl!]) {
          const point = await lastPointOf(page, v.chart, v.key);
          expect(Number(v.value), `${m.title} ${v.key}`).toBe(point.value);
          expect(roundsTo(v.text, point.value), `${v.text} for ${point.value}`).toBe(true);
          expect(v.colour).toBe(point.colour);
          expect(v.method).toBe(m.name);
        }
        await expect(line.textContent()).resolves.toContain(`β = ${beta!.text} now and KL = ${kl!.text} nats`);
        report(`how-it-works ${m.name} beta, kl`, [beta!.value, kl!.value]);
        if (m.name === 'ppo') {
          // PPO's penalty is β·KL, and its chart's objective/rlhf_reward is the score minus exactly that.
          const penalty = Number(shown.find((l) => l.key === 'penalty')?.value);
          expect(penalty).toBeCloseTo(Number(beta!.value) * Number(kl!.value), 6);
          const [scoreShown, rlhfShown] = ['objective/scores', 'objective/rlhf_reward'].map((k) => shown.find((l) => l.key === k)!);
          const score = await lastPointOf(page, scoreShown.chart, 'objective/scores');
          const rlhf = await lastPointOf(page, rlhfShown.chart, 'objective/rlhf_reward');
          expect(Number(scoreShown.value)).toBe(score.value);
          expect(Number(rlhfShown.value)).toBe(rlhf.value);
          expect(score.value - rlhf.value).toBeCloseTo(penalty, 4);
        }
      }

      // Bradley-Terry: the pair just labelled, with the verdict's own numbers.
      const verdict = (await page.locator('.verdict').textContent()) ?? '';
      const [, pText, aText, bText] = /P\(A better\) = ([\d.]+ %)\s*\(r\(A\) = (-?[\d.]+), r\(B\) = (-?[\d.]+)\)/.exec(verdict.replace(/\s+/g, ' ')) ?? [];
      expect(aText, verdict).toBeDefined();
      const bt = Object.fromEntries((await lives(region.locator('#how-bt .live-line[data-method="pair"]'))).map((l) => [l.key, l]));
      expect(bt['rm/scoreA'].text).toBe(aText);
      expect(bt['rm/scoreB'].text).toBe(bText);
      expect(bt['rm/pA'].text).toBe(pText);
      const d = Number(bt['rm/scoreA'].value) - Number(bt['rm/scoreB'].value);
      expect(Number(bt['rm/margin'].value)).toBeCloseTo(d, 5);
      expect(Number(bt['rm/pA'].value)).toBeCloseTo(1 / (1 + Math.exp(-d)), 5);
      report('how-it-works bt pair', { a: aText, b: bText, p: pText });
      // The mean loss over all labels is the reward-model chart's last point.
      const rm = (await lives(region.locator('#how-bt .live-line[data-method="reward-model"]'))).find((l) => l.key === 'loss');
      expect(rm?.chart).toBe('Reward model');
      expect(Number(rm?.value)).toBe((await lastPointOf(page, 'Reward model', 'loss')).value);

      // Every number drawn from a chart, in every box, is that chart's last point, in its line's colour.
      const charted = (await lives(region)).filter((l) => l.chart !== '');
      const byChart = new Map<string, Live[]>();
      for (const l of charted) byChart.set(l.chart, [...(byChart.get(l.chart) ?? []), l]);
      for (const chart of byChart.keys()) {
        const { header, rows } = await chartTable(page, chart);
        const shown = (await lives(region)).filter((l) => l.chart === chart); // read right after the table
        for (const l of shown) {
          const col = header.indexOf(l.key);
          expect(col, `${chart} draws ${l.key}`).toBeGreaterThan(0);
          expect(Number(l.value), `${chart}: ${l.key}`).toBe(rows[rows.length - 1][col]);
          expect(l.colour, `${chart}: ${l.key}`).toBe(COLOURS[(col - 1) % COLOURS.length]);
          if (!l.text.endsWith('%')) expect(roundsTo(l.text, Number(l.value)), `${l.text} for ${l.value}`).toBe(true);
        }
      }
      const methods = new Set(charted.map((l) => l.method));
      expect([...methods].sort()).toEqual(['best-of-n', 'dpo', 'grpo', 'ppo', 'reward-model', 'rloo']);
      report('how-it-works charted numbers checked', { numbers: charted.length, charts: byChart.size });
      // Best-of-N's bound for its N is what its KL chart shows.
      const bon = Object.fromEntries((await lives(region.locator('#how-bon'))).map((l) => [l.key, l]));
      expect(Number(bon['kl-bound'].value)).toBeCloseTo(Math.log(4) - 3 / 4, 6);
      expect(Number(bon['kl'].value)).toBeCloseTo(Number(bon['kl-bound'].value), 6);

      await region.screenshot({ path: join(SHOTS, 'how-it-works-desktop.png') });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('on a 390 px phone every box open scrolls no sideways; lecture mode’s large type makes it bigger', { timeout: 2 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser, PHONE);
    try {
      await page.goto(`${app.origin}/?seed=2`);
      await waitForPair(page, LOAD_MS);
      const region = page.getByRole('region', { name: 'How it works', exact: true });
      await region.locator('#how-bon').waitFor({ state: 'attached' });
      for (const id of IDS) await region.locator(`#${id} summary`).click();
      expect(await region.locator('details').evaluateAll((ds) => ds.every((d) => (d as HTMLDetailsElement).open))).toBe(true);
      // A label by touch, so the Bradley-Terry box has a pair to show.
      await page.getByRole('button', { name: /^A is better/ }).click();
      await region.locator('#how-bt .live-line[data-method="pair"]:not(.empty)').waitFor({ timeout: LOAD_MS });

      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // A formula wider than the phone scrolls inside its own box, which stays on screen.
      const widest = await region.locator('.math-box').evaluateAll((bs) =>
        bs.map((b) => {
          const box = b.getBoundingClientRect();
          const drawn = [...b.querySelectorAll('math *')].map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0);
          const left = Math.min(...drawn.map((r) => r.left));
          const right = Math.max(...drawn.map((r) => r.right));
          return { key: b.getAttribute('data-formula'), box: { left: box.left, right: box.right }, left, width: right - left, scrollWidth: b.scrollWidth, scrolls: b.scrollWidth > b.clientWidth, overflowX: getComputedStyle(b).overflowX };
        }),
      );
      for (const w of widest) {
        expect(w.box.right, w.key ?? '').toBeLessThanOrEqual(390);
        expect(w.overflowX).toBe('auto');
        // Nothing is cut off on the left (a centred formula wider than its box could be), and the scroll reaches its end.
        expect(w.left, w.key ?? '').toBeGreaterThanOrEqual(w.box.left - 1);
        expect(w.scrollWidth + 1, w.key ?? '').toBeGreaterThanOrEqual(w.width);
      }
      report('how-it-works phone: formulas scrolling in their box', widest.filter((w) => w.scrolls).length);
      await region.screenshot({ path: join(SHOTS, 'how-it-works-phone.png') });

      // Projector: the sizes are in rem, so the lecture class on <html> scales the text and the formulas.
      const size = () => region.evaluate((r) => ({ summary: parseFloat(getComputedStyle(r.querySelector('summary')!).fontSize), math: parseFloat(getComputedStyle(r.querySelector('.math-box')!).fontSize) }));
      const before = await size();
      await page.evaluate(() => document.documentElement.classList.add('lecture'));
      const after = await size();
      expect(after.summary).toBeGreaterThan(before.summary * 1.1);
      expect(after.math).toBeGreaterThan(before.math * 1.1);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
