// "Blind evaluation" in real Chromium on WASM, after a short PPO run: before each answer the two
// options are the same markup with different text (no class, attribute, id or order tells the base
// model from PPO), the texts are the worker's blindPair reply; the reveal after each answer names
// the models the reply put on each side; the human win rate and its interval are Wilson's on the
// answers given (ties half), computed here from the test's own record; a pair comes back at the
// seeded repeat slot (src/lib/math/blind.ts) instead of the draw, and the self-agreement follows;
// answering works by keyboard alone (L, R, T and Enter on a focused button); the answers survive a
// reload, and forgetting them asks first. Screenshots: tests/screenshots/blind-eval-desktop.png and blind-eval-phone.png.
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { isRepeatSlot } from '../../src/lib/math/blind';
import type { FromWorker } from '../../src/lib/protocol/messages';
import { DESKTOP, openPage, PHONE, ROOT, useServedBuild } from '../support/browser';
import { report, summary, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;
const ITERATION_MS = 60_000;
const SEED = 5;
/** Pairs answered: past the first repeat slot (pairs 6-10 hold one). */
const FIRST_REPEAT = Array.from({ length: 10 }, (_, i) => i + 1).find((n) => isRepeatSlot(SEED, n))!;
const PAIRS = FIRST_REPEAT + 1;
const SHOTS = join(ROOT, 'tests', 'screenshots');

const app = useServedBuild();

type BlindReply = Extract<FromWorker, { type: 'blindPair' }>;

/** What the test records of each answer. */
interface Given {
  left: string;
  right: string;
  methodSide: 'left' | 'right';
  choice: 'left' | 'right' | 'tie';
  repeat: boolean;
}

/** Wilson's 95 % interval, written out here (not the page's function). */
function wilson(successes: number, n: number): { low: number; high: number } {
  const z = 1.959963984540054;
  const p = successes / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z / d) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { low: Math.max(0, c - h), high: Math.min(1, c + h) };
}

/** Each option's markup with every text node removed. */
function bareOptions(region: Locator): Promise<string[]> {
  return region.locator('.option').evaluateAll((els) =>
    els.map((el) => {
      const copy = el.cloneNode(true) as Element;
      const walker = document.createTreeWalker(copy, NodeFilter.SHOW_TEXT);
      const texts: Node[] = [];
      while (walker.nextNode()) texts.push(walker.currentNode);
      for (const t of texts) t.parentNode?.removeChild(t);
      return copy.outerHTML;
    }),
  );
}

/** Every attribute name and value in the pair and the answer buttons. */
function attributes(region: Locator): Promise<string[]> {
  return region.locator('.blind-pair, .answers').evaluateAll((els) =>
    els.flatMap((root) => [root, ...root.querySelectorAll('*')].flatMap((el) => [...el.attributes].map((a) => `${a.name}=${a.value}`))),
  );
}

async function shownTexts(region: Locator): Promise<[string, string]> {
  const texts = await region.locator('.option .completion').allTextContents();
  expect(texts).toHaveLength(2);
  return [texts[0], texts[1]];
}

function asShown(text: string): string {
  return text === '' ? '(ends at once)' : text;
}

async function waitForBlindPair(page: Page, n: number): Promise<void> {
  await page.waitForFunction((k) => document.querySelector('.blind-pair')?.getAttribute('data-blind-number') === String(k), n, { timeout: LOAD_MS, polling: 50 });
}

describe('blind evaluation', () => {
  test('unlabelled options, the reveal per the worker, Wilson win rate, a repeated pair and self-agreement, by keyboard; kept after a reload', { timeout: 6 * LOAD_MS }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.goto(`${app.origin}/?seed=${SEED}&ppo.rolloutsPerIteration=8&refitEvery=0`);
      const region = page.getByRole('region', { name: 'Blind evaluation', exact: true });
      await region.waitFor({ timeout: LOAD_MS }); // the panels below the first screen mount after it
      await expect(region.getByRole('heading', { name: 'Blind evaluation', exact: true }).count()).resolves.toBe(1);
      await expect(region.textContent()).resolves.toMatch(/Train a method first/);

      // A short PPO run: three labels, then two iterations.
      let id = await waitForPair(page, LOAD_MS);
      for (const key of ['1', '2', '1']) {
        await page.keyboard.press(key);
        id = await waitForPair(page, LOAD_MS, id);
      }
      await expect.poll(async () => (await workerLast(page, 'rewardModel'))?.metrics.labels ?? 0, { timeout: LOAD_MS }).toBe(3);
      for (let i = 1; i <= 2; i++) {
        await page.getByRole('button', { name: 'Step', exact: true }).click();
        await expect.poll(async () => (await workerLast(page, 'stepped'))?.steps.ppo ?? 0, { timeout: ITERATION_MS }).toBe(i);
      }

      await expect(region.getByLabel('Method to judge').inputValue()).resolves.toBe('ppo');
      // Started by keyboard; the focus moves to the answers (the Start button goes away).
      await region.getByRole('button', { name: 'Start blind comparison' }).focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent ?? '')).toMatch(/^Left is better/);

      const given: Given[] = [];
      let lastDraw = 0;
      const waits: number[] = [];
      let answeredAt = 0;
      for (let n = 1; n <= PAIRS; n++) {
        await waitForBlindPair(page, n);
        if (n > 1) waits.push(Date.now() - answeredAt);
        // 1. Before the answer nothing but the text differs between the options, and no attribute names a model.
        const bare = await bareOptions(region);
        expect(bare).toHaveLength(2);
        expect(bare[0]).toBe(bare[1]);
        for (const a of await attributes(region)) expect(a).not.toMatch(/ppo|grpo|rloo|dpo|sft|best|base|method|policy|model|repeat/i);
        const [left, right] = await shownTexts(region);

        // 2. A fresh pair is the worker's reply; the repeat slot brings an earlier pair back instead
        // (it waits for a draw too, so that it comes no sooner than a fresh one).
        const reply = (await workerLast(page, 'blindPair')) as BlindReply;
        const repeat = isRepeatSlot(SEED, n);
        /** Which side PPO is on; null when both texts are the same (the sides cannot be told apart). */
        let methodSide: 'left' | 'right' | null;
        let choice: Given['choice'];
        expect(reply.draw).toBe(lastDraw + 1);
        lastDraw = reply.draw;
        if (repeat) {
          const original = given.find((g) => !g.repeat && ((g.left === left && g.right === right) || (g.left === right && g.right === left)));
          expect(original, `pair ${n} should repeat an earlier one`).toBeDefined();
          const o = original!;
          methodSide = left === right ? null : o.left === left ? o.methodSide : o.methodSide === 'left' ? 'right' : 'left';
          // The same model as the first time: self-agreement 1 of 1.
          const other = (side: 'left' | 'right') => (side === 'left' ? 'right' : 'left');
          choice = o.choice === 'tie' || methodSide === null ? o.choice : o.choice === o.methodSide ? methodSide : other(methodSide);
        } else {
          expect(reply.method).toBe('ppo');
          expect([left, right]).toEqual([asShown(reply.left), asShown(reply.right)]);
          methodSide = reply.methodSide;
          choice = (['left', 'right', 'left', 'tie'] as const)[n % 4];
        }

        // 3. Answer by keyboard alone: keys L, R, T, and Enter on a focused button.
        answeredAt = Date.now();
        if (n === 2) {
          await region.getByRole('button', { name: choice === 'left' ? 'Left is better' : choice === 'right' ? 'Right is better' : 'About the same' }).focus();
          await page.keyboard.press('Enter');
        } else {
          await page.keyboard.press(choice === 'left' ? 'l' : choice === 'right' ? 'r' : 't');
        }
        given.push({ left, right, methodSide: methodSide ?? 'left', choice, repeat });

        // 4. The reveal names the models of the answered pair as the worker placed them.
        await page.waitForFunction((k) => document.querySelector('.blind-pair')?.getAttribute('data-blind-number') !== String(k), n, { timeout: LOAD_MS, polling: 20 });
        const who = await region.locator('.reveal .who').allTextContents();
        const ppoName = new RegExp(`^PPO after ${repeat ? '\\d+' : reply.steps} iterations?$`);
        if (methodSide !== null) {
          expect(who[methodSide === 'left' ? 0 : 1]).toMatch(ppoName);
          expect(who[methodSide === 'left' ? 1 : 0]).toBe('the base model');
        } else {
          expect(who.filter((w) => w === 'the base model')).toHaveLength(1);
        }
        if (n === FIRST_REPEAT) await expect(region.locator('.reveal').textContent()).resolves.toMatch(/came back from earlier.*answered as before/s);
      }

      report('blind evaluation: answer to next pair on screen (ms, PPO after 2 iterations, WASM)', { ...summary(waits), each: waits });

      // 5. The win rate and its interval are Wilson's on the first showings (ties half).
      const firsts = given.filter((g) => !g.repeat);
      const wins = firsts.filter((g) => g.choice === g.methodSide).length;
      const ties = firsts.filter((g) => g.choice === 'tie').length;
      const losses = firsts.length - wins - ties;
      const rate = (wins + ties / 2) / firsts.length;
      const ci = wilson(wins + ties / 2, firsts.length);
      const metric = region.locator('[data-metric="human-win-rate"]');
      const data = await metric.evaluate((el) => ({ ...(el as HTMLElement).dataset }));
      expect([Number(data.wins), Number(data.losses), Number(data.ties)]).toEqual([wins, losses, ties]);
      expect(Number(data.rate)).toBeCloseTo(rate, 12);
      expect(Number(data.low)).toBeCloseTo(ci.low, 12);
      expect(Number(data.high)).toBeCloseTo(ci.high, 12);
      const text = ((await metric.textContent()) ?? '').replace(/\s+/g, ' ');
      expect(text).toContain(`${Math.round(rate * 100)} % (95 % interval ${Math.round(ci.low * 100)}–${Math.round(ci.high * 100)} %)`);
      expect(text).toContain(`from ${firsts.length} blind answers`);
      report('blind evaluation: human win rate of PPO after 2 iterations (test answers)', { wins, losses, ties, rate, ci });

      // 6. The repeated pair was answered as before: self-agreement 1 of 1, beside InstructGPT's 73-77 %.
      const agreement = region.locator('[data-metric="self-agreement"]');
      await expect(agreement.getAttribute('data-repeats')).resolves.toBe('1');
      await expect(agreement.getAttribute('data-agreed')).resolves.toBe('1');
      await expect(agreement.textContent().then((t) => (t ?? '').replace(/\s+/g, ' '))).resolves.toMatch(/100 %.*1 of 1 repeated pair.*73–77 %/);

      // Screenshots with a pair on screen: desktop, then the phone layout (no sideways scrolling).
      await waitForBlindPair(page, PAIRS + 1);
      await region.scrollIntoViewIfNeeded();
      await region.screenshot({ path: join(SHOTS, 'blind-eval-desktop.png') });
      await page.setViewportSize(PHONE);
      await region.scrollIntoViewIfNeeded();
      await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(PHONE.width);
      const [l, r] = await region.locator('.option').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
      expect(r).toBeGreaterThan(l); // stacked, not side by side
      await region.screenshot({ path: join(SHOTS, 'blind-eval-phone.png') });
      await page.setViewportSize(DESKTOP);

      // 7. The answers survive a reload: the same tallies, before any method has trained again.
      await page.reload();
      await waitForPair(page, LOAD_MS);
      const after = await region.locator('[data-metric="human-win-rate"]').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
      expect(after).toEqual(data);
      await expect(region.locator('[data-metric="self-agreement"]').getAttribute('data-agreed')).resolves.toBe('1');

      // 8. Forgetting asks first: "Keep them" keeps every answer, "Forget them" clears the tallies and the stored copy.
      await region.getByRole('button', { name: 'Forget these answers…' }).click();
      await region.getByRole('button', { name: 'Keep them' }).click();
      await expect(region.locator('[data-metric="human-win-rate"]').getAttribute('data-wins')).resolves.toBe(data.wins);
      await region.getByRole('button', { name: 'Forget these answers…' }).click();
      await region.getByRole('button', { name: 'Forget them' }).click();
      await expect(region.locator('[data-metric="human-win-rate"]').count()).resolves.toBe(0); // no method trained, no answers: nothing to report
      await expect(page.evaluate(() => JSON.parse(localStorage.getItem('rlhf-playground/blind/v1') ?? 'null'))).resolves.toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
