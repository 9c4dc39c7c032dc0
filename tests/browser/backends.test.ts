// Each backend override in real Chromium: ?backend=webgpu runs on the software (SwiftShader)
// adapter that --enable-unsafe-webgpu gives here (slow shader compilation: generous timeout),
// ?backend=webgl on ANGLE/SwiftShader, ?backend=cpu in plain JavaScript. Each must load the model
// and sample words of the vocabulary with no console error. Each of the three is slow here (a
// software adapter, a software renderer, plain JavaScript): the page says so at the top, in the
// first screen, and one click on "Switch to WASM" reloads the run on WASM, where no warning shows.
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { LONG_TESTS, openPage, useServedBuild } from '../support/browser';
import { backendBadge, chartTable, report, settle, shownSamples, shippedVocab, unknownWords, waitForChartPoints, waitForPair } from './page-helpers';

const app = useServedBuild();

const CASES = [
  {
    backend: 'webgpu',
    label: 'WebGPU',
    reason: /WebGPU: chosen \(asked for with \?backend=webgpu\); software adapter \(.*swiftshader.*\)/i,
    slow: /^WebGPU runs on a software adapter here \(.*swiftshader.*\): no GPU does the work, the CPU imitates one, so training takes about 30 times as long as on WASM\./i,
    timeoutMs: 180_000,
  },
  {
    backend: 'webgl',
    label: 'WebGL',
    reason: /WebGL: chosen \(asked for with \?backend=webgl\); WebGL [12], software renderer \(.*SwiftShader.*\)/,
    slow: /^WebGL runs on a software renderer here \(.*SwiftShader.*\): no GPU does the work, so training takes about 5 times as long as on WASM\./,
    timeoutMs: 60_000,
  },
  { backend: 'cpu', label: 'CPU', reason: /CPU: chosen \(asked for with \?backend=cpu\)/, slow: /^The CPU backend runs the model in plain JavaScript/, timeoutMs: 60_000 },
] as const;

/** The slow-backend warning at the top ("WebGPU is slow here"). */
function slowWarning(page: Page, label: string) {
  return page.getByRole('region', { name: `${label} is slow here`, exact: true });
}

describe('backend overrides', () => {
  for (const c of CASES) {
    test(`?backend=${c.backend} loads and samples on ${c.label}`, { timeout: c.timeoutMs + 30_000 }, async () => {
      const { page, errors, close } = await openPage(app.browser);
      try {
        await page.goto(`${app.origin}/?backend=${c.backend}`);
        const { phase, text } = await settle(page, c.timeoutMs);
        expect(text).toMatch(/^Ready/);
        expect(phase).toBe('ready');
        expect(await backendBadge(page)).toBe(c.label);
        const reasons = await page.getByRole('list', { name: 'Backend reasons' }).textContent();
        expect(reasons).toMatch(c.reason);
        const samples = await shownSamples(page);
        expect(samples).toHaveLength(5);
        const vocab = shippedVocab();
        expect(samples.some((s) => s.completion.trim().length > 0)).toBe(true);
        for (const s of samples) expect(unknownWords(s.completion, vocab)).toEqual([]);
        // The warning says why, in the first screen, above the status line.
        const warning = slowWarning(page, c.label);
        expect(await warning.locator('p').first().textContent()).toMatch(c.slow);
        const box = await warning.boundingBox();
        const status = await page.getByRole('status', { name: 'Run status' }).boundingBox();
        expect(box && status && box.y + box.height <= status.y && box.y + box.height <= page.viewportSize()!.height).toBe(true);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });
  }
});

/** Few rollouts and one epoch: on the software WebGPU adapter an iteration is slow (shader compilation). */
const SMALL_PPO = 'ppo.rolloutsPerIteration=4&ppo.epochs=1';

describe('the slow-backend warning', () => {
  test('?backend=webgpu on the software adapter: one click on "Switch to WASM" runs the same settings on WASM, with no warning', { timeout: 240_000 }, async () => {
    const { page, errors, close } = await openPage(app.browser);
    try {
      await page.goto(`${app.origin}/?backend=webgpu&seed=7`);
      const warning = slowWarning(page, 'WebGPU');
      await warning.waitFor({ timeout: 180_000 });
      const link = warning.getByRole('link', { name: 'Switch to WASM', exact: true });
      await link.focus(); // reachable by keyboard
      await Promise.all([page.waitForURL(/backend=wasm/), page.keyboard.press('Enter')]);
      expect(new URL(page.url()).searchParams.get('seed')).toBe('7');
      await waitForPair(page, 60_000);
      expect(await backendBadge(page)).toBe('WASM');
      expect(await page.getByRole('region', { name: /is slow here$/ }).count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});

// On the software WebGPU adapter the first label and one iteration compile every training shader:
// 80-135 s on a 2-core machine, so CI leaves it to RLHF_LONG=1 (WebGPU's load and sampling run above).
describe('one PPO iteration on each training backend', () => {
  const RUNS = [
    { backend: 'webgpu', label: 'WebGPU', timeoutMs: 240_000, long: true },
    { backend: 'wasm', label: 'WASM', timeoutMs: 60_000, long: false },
  ] as const;
  for (const r of RUNS) {
    test.skipIf(r.long && !LONG_TESTS)(`?backend=${r.backend}: a label and one PPO iteration complete`, { timeout: r.timeoutMs + 60_000 }, async () => {
      const { page, errors, close } = await openPage(app.browser);
      try {
        const started = Date.now();
        await page.goto(`${app.origin}/?backend=${r.backend}&${SMALL_PPO}`);
        await waitForPair(page, r.timeoutMs);
        expect(await backendBadge(page)).toBe(r.label);
        // The software adapter is slow and says so; WASM is not.
        expect(await page.getByRole('region', { name: /is slow here$/ }).count()).toBe(r.backend === 'wasm' ? 0 : 1);
        await page.getByRole('button', { name: 'A is better', exact: true }).click();
        await waitForChartPoints(page, 'reward-model', 1, r.timeoutMs);
        const stepAt = Date.now();
        await page.getByRole('button', { name: 'Step', exact: true }).click();
        await waitForChartPoints(page, 'ppo-reward-model-score', 1, r.timeoutMs);
        await expect(page.getByRole('status', { name: 'Run status' }).textContent()).resolves.toMatch(/paused after PPO 1 iteration\b/);
        const reward = await chartTable(page, 'PPO Reward-model score');
        expect(reward.rows).toHaveLength(1);
        expect(reward.rows[0].every(Number.isFinite)).toBe(true);
        const kl = await chartTable(page, 'PPO KL to the reference');
        expect(kl.rows[0][1]).toBeGreaterThanOrEqual(-1e-3); // KL of one iteration from the base model: about 0
        report(`${r.label}: first pair + one label, then one PPO iteration of 4 rollouts (s)`, {
          ready: Math.round((stepAt - started) / 100) / 10,
          iteration: Math.round((Date.now() - stepAt) / 100) / 10,
        });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });
  }
});
