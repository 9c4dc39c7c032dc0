// "Per-token view" and online rounds in real Chromium (issue 10, items 4 and 7), after three labels
// and two iterations of PPO and GRPO: the strip's "per-token" button (reached and pressed by
// keyboard) opens the view of that sample; the heatmap has one cell per completion token in each
// of its three rows, and every cell and table value is the worker's tokenBreakdown reply for
// exactly that sample (workerLast); arrow keys move through the grid and the detail line shows
// the focused value; GRPO's advantage is one number on every token with its group named in words.
// "Start round 2" is refused until a policy has trained, then pauses training and draws pairs from
// PPO; the two accuracies shown are the worker's rounds summary ("–" while a group is empty).
// Screenshots: tests/screenshots/per-token-desktop.png, per-token-phone.png, per-token-rounds.png.
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import type { FromWorker } from '../../src/lib/protocol/messages';
import { DESKTOP, openPage, PHONE, ROOT, useServedBuild } from '../support/browser';
import { report, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;
const ITERATION_MS = 90_000;
const SHOTS = join(ROOT, 'tests', 'screenshots');
const ROWS = ['logRatio', 'klPenalty', 'advantage'] as const;
const TOKEN_RE = /[a-z']+|[.,]/g; // the tokenizer's split (src/lib/data/corpus.ts)

const app = useServedBuild();

type Breakdown = Extract<FromWorker, { type: 'tokenBreakdown' }>;

/** The view's number format: sign, three decimals. */
function fmt(x: number): string {
  return (x > 0 ? '+' : '') + x.toFixed(3);
}

/** The tokens of a completion as the model reads them: its words, then EOS unless it was cut off (" …"). */
function tokensOf(completion: string): string[] {
  const truncated = completion.endsWith(' …');
  const words = (truncated ? completion.slice(0, -2) : completion).match(TOKEN_RE) ?? [];
  return truncated ? words : [...words, '<eos>'];
}

async function labelPairs(page: Page, n: number): Promise<void> {
  let id = await waitForPair(page, LOAD_MS);
  for (let i = 0; i < n; i++) {
    await page.keyboard.press(i % 2 === 0 ? '1' : '2');
    id = await waitForPair(page, LOAD_MS, id);
  }
}

/** Checks the heatmap and the table against the worker's reply, cell by cell. */
async function checkAgainstReply(region: Locator, reply: Breakdown): Promise<void> {
  for (const row of ROWS) {
    const cells = region.locator(`[role="gridcell"][data-row="${row}"]`);
    const shown = await cells.evaluateAll((els) => els.map((el) => ({ text: el.textContent?.trim() ?? '', value: el.getAttribute('data-value') ?? '', label: el.getAttribute('aria-label') ?? '' })));
    expect(shown.map((c) => c.text)).toEqual(reply.tokens);
    expect(shown.map((c) => Number(c.value))).toEqual(reply[row]);
    shown.forEach((c, t) => expect(c.label).toContain(fmt(reply[row][t])));
  }
  await region.getByText('Table view', { exact: true }).click();
  const table = region.getByRole('table', { name: 'Per-token numbers' });
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.getAttribute('data-value')))));
  expect(rows).toHaveLength(reply.tokens.length);
  rows.forEach((r, t) => expect(r.slice(0, 3)).toEqual([reply.logRatio[t], reply.klPenalty[t], reply.advantage[t]]));
  await region.getByText('Table view', { exact: true }).click();
}

describe('per-token view and online rounds', () => {
  test('heatmap cells are the worker reply for the strip sample, by keyboard; round 2 splits the accuracies as the worker does', { timeout: 10 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.goto(`${app.origin}/?seed=3&methods=ppo,grpo&ppo.rolloutsPerIteration=8&grpo.promptsPerIteration=2&grpo.groupSize=4&refitEvery=0`);
      const view = page.getByRole('region', { name: 'Per-token view', exact: true });
      await expect(view.getByRole('heading', { name: 'Per-token view', exact: true }).count()).resolves.toBe(1);
      const rm = page.getByRole('region', { name: 'Reward model', exact: true });
      const startRound = rm.getByRole('button', { name: 'Start round 2' });
      const accBase = rm.locator('[data-metric="round-accuracy-base"]');
      const accPolicy = rm.locator('[data-metric="round-accuracy-policy"]');

      // Round 1: three labels on base-model pairs; no policy yet, so no round 2 and "–" for policy pairs.
      await labelPairs(page, 3);
      await expect.poll(async () => (await workerLast(page, 'rewardModel'))?.metrics.labels ?? 0, { timeout: LOAD_MS }).toBe(3);
      await expect.poll(async () => (await workerLast(page, 'rounds'))?.summary.base.labels ?? 0, { timeout: LOAD_MS }).toBe(3);
      await expect(startRound.getAttribute('aria-disabled')).resolves.toBe('true');
      await expect(accPolicy.textContent()).resolves.toBe('–');
      const round1 = (await workerLast(page, 'rounds'))!.summary;
      await expect.poll(() => accBase.textContent()).toBe(`${Math.round(round1.base.accuracy! * 100)} %`);

      // Two iterations of PPO and GRPO.
      for (let i = 1; i <= 2; i++) {
        await page.getByRole('button', { name: 'Step', exact: true }).click();
        await expect.poll(async () => (await workerLast(page, 'stepped'))?.steps.grpo ?? 0, { timeout: ITERATION_MS }).toBe(i);
      }
      // The strip after both trained (each completes the same fixed prompts).
      await expect.poll(async () => (await workerLast(page, 'strip'))?.rows[0].methods.map((m) => m.method).sort().join(',') ?? '', { timeout: LOAD_MS }).toBe('grpo,ppo');
      await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Sample strip"] tr[data-model="grpo"]').length > 0, undefined, { timeout: LOAD_MS });
      const strip = (await workerLast(page, 'strip'))!;
      const first = strip.rows[0];
      const ppoText = first.methods.find((m) => m.method === 'ppo')!.text;

      // 1. PPO's sample, opened by keyboard: the button takes Enter, the focus lands on the view.
      const ppoButton = page.getByRole('button', { name: `Per-token view of PPO's completion of “${first.prompt}”` });
      await ppoButton.focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => page.evaluate(() => document.activeElement?.id ?? '')).toBe('per-token-title');
      await view.locator('.what[data-method="ppo"]').waitFor({ timeout: LOAD_MS });
      const ppo = (await workerLast(page, 'tokenBreakdown'))!;
      expect(ppo.method).toBe('ppo');
      expect([ppo.prompt, ppo.completion]).toEqual([first.prompt, ppoText]);
      expect(ppo.steps).toBe(2);
      expect(ppo.tokens).toEqual(tokensOf(ppoText)); // one cell per completion token, EOS included
      expect(ppo.advantageKind).toBe('gae');
      // The log-ratio sums to the sequence KL the explanation states; the penalty is beta x k1.
      expect(ppo.sequenceKl).toBeCloseTo(ppo.logRatio.reduce((a, x) => a + x, 0), 9);
      ppo.klPenalty.forEach((p, t) => expect(p).toBeCloseTo(ppo.beta * ppo.logRatio[t], 6));
      await expect(view.locator('[data-explain="logRatio"]').textContent()).resolves.toContain(ppo.sequenceKl.toFixed(3));
      await expect(view.locator('[data-explain="klPenalty"]').textContent()).resolves.toContain(`β = ${ppo.beta.toFixed(3)}`);
      await expect(view.locator('[data-explain="advantage"]').textContent()).resolves.toContain(fmt(ppo.advantage[0]));

      // 2. The grid by keyboard: Tab reaches its one tab stop, arrows move, the detail line follows.
      for (let i = 0; i < 6 && (await page.evaluate(() => document.activeElement?.getAttribute('role'))) !== 'gridcell'; i++) await page.keyboard.press('Tab');
      await expect(page.evaluate(() => document.activeElement?.getAttribute('data-row'))).resolves.toBe('logRatio');
      const detail = view.locator('[data-detail]');
      const n = ppo.tokens.length;
      if (n > 1) {
        await page.keyboard.press('ArrowRight');
        await expect.poll(() => detail.textContent()).toContain(`“${ppo.tokens[1]}” (word 2 of ${n}): Log-ratio ${fmt(ppo.logRatio[1])}`);
      }
      await page.keyboard.press('ArrowDown');
      const col = n > 1 ? 1 : 0;
      await expect(page.evaluate(() => [document.activeElement?.getAttribute('data-row'), document.activeElement?.getAttribute('data-col')])).resolves.toEqual(['klPenalty', String(col)]);
      await expect.poll(() => detail.textContent()).toContain(`KL penalty ${fmt(ppo.klPenalty[col])}`);
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('End');
      await expect(page.evaluate(() => [document.activeElement?.getAttribute('data-row'), document.activeElement?.getAttribute('data-col')])).resolves.toEqual(['advantage', String(n - 1)]);
      await expect.poll(() => detail.textContent()).toContain(`Advantage ${fmt(ppo.advantage[n - 1])}`);
      expect(await view.locator('[tabindex="0"][role="gridcell"]').count()).toBe(1);
      await checkAgainstReply(view, ppo);

      // Screenshots of the view: desktop, and a 390 px phone with nothing pushed off-screen.
      await view.scrollIntoViewIfNeeded();
      await view.screenshot({ path: join(SHOTS, 'per-token-desktop.png') });

      // 3. GRPO's sample (by pointer): k3 penalties, one sequence advantage on every token, its group in words.
      const grpoText = first.methods.find((m) => m.method === 'grpo')!.text;
      await page.getByRole('button', { name: `Per-token view of GRPO's completion of “${first.prompt}”` }).click();
      await view.locator('.what[data-method="grpo"]').waitFor({ timeout: LOAD_MS });
      const grpo = (await workerLast(page, 'tokenBreakdown'))!;
      expect([grpo.method, grpo.prompt, grpo.completion]).toEqual(['grpo', first.prompt, grpoText]);
      expect(grpo.tokens).toEqual(tokensOf(grpoText));
      expect(grpo.estimator).toBe('k3');
      expect(grpo.advantageKind).toBe('group');
      expect(new Set(grpo.advantage).size).toBe(1);
      expect(grpo.group!.rewards).toHaveLength(4);
      grpo.klPenalty.forEach((p, t) => expect(p).toBeCloseTo(grpo.beta * (Math.exp(-grpo.logRatio[t]) + grpo.logRatio[t] - 1), 5));
      await checkAgainstReply(view, grpo);
      const words = (await view.locator('[data-explain="advantage"]').textContent()) ?? '';
      expect(words).toContain(`group mean ${grpo.group!.baseline.toFixed(3)}`);
      expect(words).toContain(fmt(grpo.advantage[0]));
      report('per-token view: GRPO sample', { tokens: grpo.tokens.length, sequenceKl: grpo.sequenceKl, advantage: grpo.advantage[0], beta: grpo.beta });
      report('per-token view: PPO sample', { tokens: ppo.tokens.length, sequenceKl: ppo.sequenceKl, firstAdvantage: ppo.advantage[0], beta: ppo.beta });

      // 4. Round 2: pairs from PPO; the policy-pair accuracy fills in with the worker's numbers.
      await expect(startRound.getAttribute('aria-disabled')).resolves.toBe('false');
      await startRound.click();
      await expect.poll(async () => (await workerLast(page, 'roundStarted'))?.round ?? 0, { timeout: LOAD_MS }).toBe(2);
      await expect(rm.getByRole('button', { name: 'Start round 3' }).count()).resolves.toBe(1);
      await page.waitForFunction(() => document.querySelector('.pair .origin')?.getAttribute('data-from') === 'ppo', undefined, { timeout: LOAD_MS });
      await labelPairs(page, 3);
      await expect.poll(async () => (await workerLast(page, 'rounds'))?.summary.newPolicy.labels ?? 0, { timeout: LOAD_MS }).toBe(3);
      const round2 = (await workerLast(page, 'rounds'))!.summary;
      expect(round2.round).toBe(2);
      expect(round2.policy?.from).toBe('ppo');
      expect(round2.base.labels).toBe(3);
      expect(round2.rounds.map((r) => r.labels)).toEqual([3, 3]);
      await expect.poll(() => accBase.textContent()).toBe(`${Math.round(round2.base.accuracy! * 100)} %`);
      await expect.poll(() => accPolicy.textContent()).toBe(`${Math.round(round2.newPolicy.accuracy! * 100)} %`);
      await expect(rm.locator('[data-explain="rounds"]').textContent()).resolves.toContain(`${round2.newPolicy.agreed} of 3 pairs`);
      report('online rounds: RM predicted before learning (3 base pairs, 3 PPO pairs after 2 iterations)', { base: round2.base, newPolicy: round2.newPolicy });
      await rm.locator('.rounds').scrollIntoViewIfNeeded();
      await rm.locator('.rounds').screenshot({ path: join(SHOTS, 'per-token-rounds.png') });

      await page.setViewportSize(PHONE);
      await view.scrollIntoViewIfNeeded();
      const overflow = await view.evaluate((el) => el.scrollWidth - el.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(PHONE.width);
      await view.screenshot({ path: join(SHOTS, 'per-token-phone.png') });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
