// Several methods on one run, in real Chromium on WASM: the methods control lists every method the
// worker offers (one checkbox each, its summary beside it) and writes the choice into the address;
// ticked methods take turns under autopilot, each with its own charts and rows in the sample strip,
// and the gold numbers the page shows for each method are the worker's own (grammatical share beside
// the gold score, the hacking alarms, the strip's marks where the grammar breaks), the gold judge's
// select round-trips through the address and reaches the worker; an offline method runs
// when asked, shows its progress, can be cancelled, and says when newer labels have made it stale.
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import type { GoldResult } from '../../src/lib/protocol/messages';
import { DESKTOP, openPage, useServedBuild } from '../support/browser';
import { chartPoints, chartTable, methodRegion, report, saveReadmeScreenshot, shownSamples, waitForChartPoints, waitForPair, workerLast } from './page-helpers';

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
    grammatical: `${(r.grammatical * 100).toFixed(0)} %`,
    winRate: `${(r.winRate * 100).toFixed(0)} %`,
    blindWinRate: `${(r.blindWinRate * 100).toFixed(0)} %`,
    repeats: r.repeats.toFixed(2),
    klPerSequence: r.klPerSequence.toFixed(2),
    distinct: `${(r.distinct * 100).toFixed(0)} %`,
    length: r.length.toFixed(1),
    steps: String(r.steps),
  };
}

/** What the strip shows of a completion's grammar: its data-broken-at, the marked token ('✗' at the end), and whether the mark is the end one. */
interface ShownMark {
  at: string;
  mark: string | null;
  end: boolean;
}

/** Each strip row's completions by model (SampleStrip.svelte), the mark's screen-reader words left out. */
function stripMarks(page: Page): Promise<Record<string, ShownMark>[]> {
  return page.locator('table[aria-label="Sample strip"] tbody').evaluateAll((bodies) =>
    bodies.map((body) =>
      Object.fromEntries(
        [...body.querySelectorAll('tr[data-model]')].map((tr) => {
          const td = tr.querySelector('td')!;
          const mark = td.querySelector('mark.broken');
          const hidden = mark?.querySelector('.sr-only')?.textContent ?? '';
          return [tr.getAttribute('data-model') ?? '', { at: td.getAttribute('data-broken-at') ?? '', mark: mark ? (mark.textContent ?? '').replace(hidden, '') : null, end: mark?.classList.contains('end') ?? false }];
        }),
      ),
    ),
  );
}

/** What the strip should show for a completion that breaks at token `at` (null: grammatical). */
function expectedMark(text: string, at: number | null): ShownMark {
  const tokens = text.match(/[a-z']+|[.,]/g) ?? []; // the tokenizer's split (src/lib/data/corpus.ts)
  if (at === null) return { at: '', mark: null, end: false };
  return at < tokens.length ? { at: String(at), mark: tokens[at], end: false } : { at: String(at), mark: '✗', end: true };
}

describe('methods', () => {
  test('tick GRPO and DPO under autopilot: each gets its charts and strip rows, and the gold numbers in the page are the worker’s', { timeout: METHODS_MS + 2 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      // Small settings keep each step short; no background refit (it would take turns too).
      const small = 'ppo.rolloutsPerIteration=8&grpo.promptsPerIteration=2&grpo.groupSize=4&dpo.steps=4&refitEvery=0';
      await page.goto(`${app.origin}/?seed=3&pace=150&trainAfter=8&gold=blind&${small}`);
      await waitForPair(page, LOAD_MS);

      // The gold judge comes from the address; picking "sees grammar" (the default) drops it from there.
      const judge = page.getByLabel('Gold judge', { exact: true });
      await expect(judge.inputValue()).resolves.toBe('blind');
      await judge.selectOption('grammar');
      await expect.poll(() => new URL(page.url()).searchParams.get('gold')).toBeNull();

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
      await expect.poll(async () => (await workerLast(page, 'annotatorSet'))?.annotator?.gold).toBe('grammar');
      // DPO runs on the labels by itself (it is ticked); autopilot presses Train for PPO and GRPO.
      await waitForChartPoints(page, 'grpo-reward-model-score', 2, METHODS_MS);
      await waitForChartPoints(page, 'ppo-reward-model-score', 2, METHODS_MS);
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
      const header = await table.locator('thead th').allTextContents();
      expect(header.slice(header.indexOf('Gold score'), header.indexOf('Gold score') + 2)).toEqual(['Gold score', 'Grammatical']);
      const onPage = await table.locator('tbody tr').evaluateAll((rows) =>
        rows.map((tr) => ({
          method: tr.getAttribute('data-method') ?? '',
          cells: Object.fromEntries([...tr.querySelectorAll('td[data-measure]')].map((td) => [td.getAttribute('data-measure'), td.getAttribute('data-measure') === 'steps' ? (td.getAttribute('data-value') ?? '') : (td.textContent ?? '').trim()])),
        })),
      );
      expect(onPage.map((r) => r.method)).toEqual(gold!.results.map((r) => r.method));
      for (const r of gold!.results) expect(onPage.find((p) => p.method === r.method)?.cells).toEqual(shown(r));
      // The alarms of that evaluation, one line each, naming the method (none is fine: then no region).
      const alarms = page.getByRole('alert', { name: 'Reward hacking alarms', exact: true }).locator('p');
      const alarmLines = await alarms.allTextContents();
      expect(alarmLines.length).toBe(gold!.alarms.length);
      for (const [i, a] of gold!.alarms.entries()) expect(alarmLines[i]).toContain(a.message);

      // The strip marks a completion exactly where the worker says the grammar breaks.
      const strip = await workerLast(page, 'strip');
      const cells = await stripMarks(page);
      let marked = 0;
      for (const [i, row] of strip!.rows.entries()) {
        const want: Record<string, ShownMark> = { base: expectedMark(row.base, row.baseBrokenAt) };
        for (const m of row.methods) want[m.method] = expectedMark(m.text, m.brokenAt);
        expect(cells[i]).toEqual(want);
        marked += [row.baseBrokenAt, ...row.methods.map((m) => m.brokenAt)].filter((b) => b !== null).length;
      }
      report('strip completions the grammar rejects', { marked, of: strip!.rows.length * (1 + strip!.rows[0].methods.length) });
      // GRPO is in the last evaluation; DPO may have been starting again on a new label just then
      // (it has no policy for that moment), but the gold curves hold its earlier evaluations.
      expect(gold!.results.find((r) => r.method === 'grpo')?.steps).toBeGreaterThan(0);
      const curves = (await chartTable(page, 'Gold score')).header;
      expect(curves.slice(0, 2)).toEqual(['gold evaluation', 'base model']);
      expect(curves.slice(2).sort()).toEqual(['DPO', 'GRPO', 'PPO']);
      expect((await chartTable(page, 'Grammatical share')).header).toEqual(curves);
      report('gold after autopilot with PPO, GRPO and DPO', gold!.results.map((r) => ({ method: r.method, steps: r.steps, gold: Number(r.goldScore.toFixed(2)), win: Number(r.winRate.toFixed(2)), kl: Number(r.klPerSequence.toFixed(2)) })));

      // Each method's charts are its own: GRPO's reward chart has a point per GRPO iteration.
      const runState = await workerLast(page, 'runState');
      expect(await chartPoints(page, 'grpo-reward-model-score')).toBeGreaterThanOrEqual(2);
      expect(runState?.steps.grpo).toBeGreaterThanOrEqual(2);
      await saveReadmeScreenshot(page, 'desktop');

      // A short run rarely breaks the grammar, so the marks and the alarms are also shown for
      // messages of known content, posted from the worker as its own would be.
      const worker = page.workers()[0];
      const row = strip!.rows[0];
      const [first, ...others] = row.methods;
      const broken = { ...row, base: 'great staff . the', baseBrokenAt: 2, methods: [{ ...first, text: 'very good …', brokenAt: 2 }, ...others.map((m) => ({ ...m, brokenAt: null }))] };
      const alarm = { method: 'grpo' as const, message: 'RM score 0.10 → 1.40 (+1.30 over the base model) while the grammatical share fell from 0.97 to 0.61' };
      // The worker may still post a strip of its own from a job that was in flight when autopilot
      // stopped, so each poll posts the known messages again and reads the page right after.
      const postKnown = () =>
        worker.evaluate(([r, g]) => {
          self.postMessage({ type: 'strip', rows: [r] });
          self.postMessage(g);
        }, [broken, { ...gold!, alarms: [alarm] }] as const);
      const afterPosting = async <T>(read: () => Promise<T>): Promise<T> => {
        await postKnown();
        await page.waitForTimeout(100);
        return read();
      };
      await expect.poll(() => afterPosting(() => alarms.allTextContents())).toEqual([`GRPO may be hacking the reward model: ${alarm.message}.`]);
      const want: Record<string, ShownMark> = { base: { at: '2', mark: '.', end: false }, [first.method]: { at: '2', mark: '✗', end: true } };
      for (const m of others) want[m.method] = { at: '', mark: null, end: false };
      await expect.poll(() => afterPosting(() => stripMarks(page))).toEqual([want]);

      // Another gold judge with autopilot off: the curves and the table of the old one go at once.
      expect(await chartPoints(page, 'gold-score')).toBeGreaterThan(0);
      await judge.selectOption('blind');
      const goldLeft = () => page.evaluate(() => Number(document.querySelector('[data-chart="gold-score"]')?.getAttribute('data-points') ?? 0) + document.querySelectorAll('table[aria-label="Gold results"] tbody tr').length);
      await expect.poll(goldLeft).toBe(0);
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
      // Answered once the page has started (its base-model samples are shown): a label given in the
      // moment between the first pair and the end of the start-up sometimes left DPO unstarted
      // (1 run in 8 here; a known bug, reported in the stop's note).
      await expect.poll(async () => (await shownSamples(page)).length, { timeout: LOAD_MS }).toBe(5);
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
