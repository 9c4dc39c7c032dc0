// The "Reward hacking" region in real Chromium on WASM: the hacking preset (beta 0 and fixed, no
// truncation penalty, train after 10 labels) goes into the address; under autopilot, PPO with those
// settings raises a reward-hacking warning within its run, naming the method with the live numbers;
// the charts' last points are the worker's own gold and iteration messages; and the region fits a
// 390 px phone. Screenshots: tests/screenshots/reward-hacking-{desktop,phone}.png.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { FromWorker } from '../../src/lib/protocol/messages';
import { DESKTOP, openPage, PHONE, ROOT, useServedBuild } from '../support/browser';
import { chartTable, report, waitForPair, workerLast } from './page-helpers';

const LOAD_MS = 60_000;
/** The beta-0 run takes about a minute on WASM here; a busy machine may take several times that. */
const WARN_MS = 300_000;

const app = useServedBuild();

type Gold = Extract<FromWorker, { type: 'gold' }>;
type Iteration = Extract<FromWorker, { type: 'iteration' }>;

describe('reward hacking', () => {
  test('a remedy undoes the preset: adaptive KL and the default truncation penalty leave the address, the worker confirms them', async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.goto(`${app.origin}/?methods=ppo,grpo`);
      await waitForPair(page, LOAD_MS);
      const region = page.getByRole('region', { name: 'Reward hacking', exact: true });
      await region.getByRole('button', { name: 'Provoke reward hacking' }).click();
      const provoked = Object.fromEntries([...new URL(page.url()).searchParams].filter(([k]) => /^(ppo|grpo)\./.test(k)));
      expect(provoked).toEqual({ 'ppo.klControl': 'fixed', 'ppo.initKlCoef': '0', 'ppo.truncationPenalty': '0', 'grpo.klControl': 'fixed', 'grpo.beta': '0', 'grpo.truncationPenalty': '0' });
      const remedy = region.getByRole('button', { name: 'Remedy: adaptive KL' });
      // It names each ticked method's defaults, from the worker's own descriptors.
      await expect(remedy.getAttribute('aria-describedby').then((id) => page.locator(`#${id}`).textContent())).resolves.toMatch(
        /PPO: KL control adaptive, KL coefficient beta 0\.05 \(its default\), truncation penalty 1 \(its default\); GRPO: KL control adaptive, KL coefficient beta 0\.3 \(its default\)/,
      );
      await remedy.click();
      const after = new URL(page.url()).searchParams;
      expect([...after.keys()].filter((k) => /^(ppo|grpo)\./.test(k))).toEqual([]);
      expect(after.get('trainAfter')).toBe('10'); // the remedy changes KL control only
      await expect.poll(async () => (await workerLast(page, 'methodConfig'))?.config.klControl, { timeout: LOAD_MS }).toBe('adaptive');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('the online-round remedy pauses training, labels pairs the trained policy wrote, refits the reward model, then trains on', { timeout: 300_000 }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      // Small rollouts and a short refit keep the round to well under a minute on WASM.
      await page.goto(`${app.origin}/?pace=100&trainAfter=5&refitSteps=20&ppo.rolloutsPerIteration=8`);
      await waitForPair(page, LOAD_MS);
      await page.getByRole('button', { name: 'Start autopilot' }).click();
      await expect.poll(async () => (await workerLast(page, 'iteration'))?.step ?? 0, { timeout: 120_000 }).toBeGreaterThanOrEqual(2);
      const region = page.getByRole('region', { name: 'Reward hacking', exact: true });
      const lastUpdate = (await workerLast(page, 'rewardModel'))?.metrics.update ?? 0;
      await region.getByRole('button', { name: 'Remedy: an online round' }).click();
      const round = region.getByRole('status', { name: 'Online round' });
      await expect(round.getAttribute('data-phase')).resolves.toBe('labelling');
      await expect(round.textContent()).resolves.toMatch(/more pairs?: they are written by PPO after \d+ iterations \(autopilot labels them\)/);
      await expect.poll(async () => (await workerLast(page, 'runState'))?.running, { timeout: 30_000 }).toBe(false);
      // While the round labels, pairs come from the trained policy.
      await expect.poll(async () => (await page.locator('.pair .origin').textContent()) ?? '', { timeout: 60_000 }).toMatch(/^written by PPO after \d+ iterations?/);
      const stepsDuring = (await workerLast(page, 'iteration'))?.step ?? 0;
      await expect.poll(async () => round.getAttribute('data-phase'), { timeout: 200_000 }).toBe('done');
      // The refit happened after the round started, and training went on.
      const refit = await workerLast(page, 'rewardModel');
      expect(refit?.metrics.update).toBeGreaterThan(lastUpdate);
      await expect(round.textContent()).resolves.toMatch(/^\s*Done: the reward model learned from \d+ labels of PPO's outputs and was refitted; training goes on/);
      await expect.poll(async () => (await workerLast(page, 'iteration'))?.step ?? 0, { timeout: 60_000 }).toBeGreaterThan(stepsDuring);
      await page.getByRole('button', { name: 'Stop autopilot' }).click();
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  test('the beta-0 preset warns within its run under autopilot; the charts end at the worker’s numbers; desktop and phone', { timeout: WARN_MS + 120_000 }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      // Seed 1's first labels teach the reward model a hole PPO finds (tests/browser/loop.test.ts);
      // 16 rollouts and a fast pace keep the run short.
      await page.goto(`${app.origin}/?seed=1&pace=100&ppo.rolloutsPerIteration=16`);
      await waitForPair(page, LOAD_MS);
      const region = page.getByRole('region', { name: 'Reward hacking', exact: true });
      await expect(region.getByText('No method has trained yet').isVisible()).resolves.toBe(true);
      await expect(region.getByRole('status', { name: 'Reward hacking warnings' }).textContent()).resolves.toMatch(/^\s*No symptom of reward hacking so far/);

      // The preset says what it changes, and the change goes into the address like any setting.
      const provoke = region.getByRole('button', { name: 'Provoke reward hacking' });
      await expect(provoke.getAttribute('aria-describedby').then((id) => page.locator(`#${id}`).textContent())).resolves.toMatch(
        /PPO: KL control fixed, KL coefficient beta 0, truncation penalty 0; autopilot trains after 10 labels/,
      );
      await provoke.click();
      await expect(region.getByRole('status', { name: 'Preset applied' }).textContent()).resolves.toMatch(/PPO KL coefficient beta: 0/);
      const params = new URL(page.url()).searchParams;
      expect(Object.fromEntries([...params].filter(([k]) => k.startsWith('ppo.') || k === 'trainAfter'))).toEqual({
        'ppo.rolloutsPerIteration': '16',
        'ppo.klControl': 'fixed',
        'ppo.initKlCoef': '0',
        'ppo.truncationPenalty': '0',
        trainAfter: '10',
      });
      // The worker took them: its confirmed config, from the next step on.
      await expect.poll(async () => (await workerLast(page, 'methodConfig'))?.config.truncationPenalty, { timeout: LOAD_MS }).toBe(0);
      expect((await workerLast(page, 'methodConfig'))?.config).toMatchObject({ klControl: 'fixed', initKlCoef: 0, truncationPenalty: 0 });

      const started = Date.now();
      await page.getByRole('button', { name: 'Start autopilot' }).click();
      await page.waitForFunction(() => /training PPO/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: LOAD_MS });
      const trainingAt = Date.now();
      const warning = region.getByRole('alert', { name: 'Reward hacking warnings' }).locator('li[data-method="ppo"]').first();
      // Poll, and say how far the run got (iteration, RM and gold against the base model) if it never warns.
      const progress: unknown[] = [];
      await expect
        .poll(
          async () => {
            const it = await workerLast(page, 'iteration');
            const g = (await workerLast(page, 'gold'))?.results.find((r) => r.method === 'ppo');
            const row = { s: Math.round((Date.now() - trainingAt) / 1000), it: it?.step, distinct: it?.metrics['completion/distinct'], length: it?.metrics['completion/length'], eos: it?.metrics['completion/finished'], rm: g && [g.baseRmScore, g.rmScore].map((x) => +x.toFixed(2)), gold: g && [g.baseGoldScore, g.goldScore].map((x) => +x.toFixed(2)), grammatical: g && [g.baseGrammatical, g.grammatical] };
            if (JSON.stringify(progress[progress.length - 1] ?? {}).slice(-40) !== JSON.stringify(row).slice(-40)) progress.push(row);
            return (await warning.count()) > 0;
          },
          { timeout: WARN_MS, interval: 2_000, message: 'no reward-hacking warning' },
        )
        .toBe(true)
        .catch((e: unknown) => {
          report('beta-0 preset: no warning; the run so far', progress);
          throw e;
        });
      const warnedAt = Date.now();
      const kind = await warning.getAttribute('data-symptom');
      const text = (await warning.textContent()) ?? '';
      const steps = Number(await warning.getAttribute('data-steps'));
      report('beta-0 preset: first reward-hacking warning', { kind, iteration: steps, secondsFromAutopilot: Math.round((warnedAt - started) / 1000), secondsFromTraining: Math.round((warnedAt - trainingAt) / 1000), text });
      expect(text).toMatch(/^PPO, /);
      expect(text).toMatch(/\d/); // the live numbers
      expect(steps).toBeGreaterThan(0);

      // Let the run go on until a gold evaluation has judged PPO (the gold charts need one), then stop everything.
      await expect.poll(async () => ((await workerLast(page, 'gold'))?.results ?? []).some((r) => r.method === 'ppo' && r.steps > 0), { timeout: WARN_MS }).toBe(true);
      await page.getByRole('button', { name: 'Stop autopilot' }).click();
      const pause = page.getByRole('button', { name: 'Pause', exact: true });
      if (await pause.isVisible()) await pause.click();
      await expect.poll(async () => (await workerLast(page, 'runState'))?.running ?? false, { timeout: LOAD_MS }).toBe(false);
      // An iteration or evaluation in flight may still land: wait until the worker has been quiet for a while.
      let last = '';
      for (let quiet = 0; quiet < 3; ) {
        await page.waitForTimeout(1_000);
        const now = JSON.stringify([(await workerLast(page, 'iteration'))?.step, (await workerLast(page, 'gold'))?.results.length, (await workerLast(page, 'hacking'))?.report.symptoms.length]);
        quiet = now === last ? quiet + 1 : 0;
        last = now;
      }

      // The gold charts' last points are the worker's last gold message for PPO.
      const gold = (await workerLast(page, 'gold')) as Gold;
      const ppoGold = gold.results.find((r) => r.method === 'ppo')!;
      const overIterations = await chartTable(page, 'PPO proxy and gold over iterations');
      expect(overIterations.header).toEqual(['iteration', 'RM score (proxy)', 'Gold score']);
      const [lastStep, lastRm, lastGold] = overIterations.rows[overIterations.rows.length - 1];
      expect(lastStep).toBe(ppoGold.steps);
      expect(lastRm).toBeCloseTo(ppoGold.rmScore, 4);
      expect(lastGold).toBeCloseTo(ppoGold.goldScore, 4);
      const againstKl = await chartTable(page, 'PPO proxy and gold against √KL');
      const [lastX, klRm] = againstKl.rows[againstKl.rows.length - 1];
      expect(lastX).toBeCloseTo(Math.sqrt(Math.max(0, ppoGold.klPerSequence)), 4);
      expect(klRm).toBeCloseTo(ppoGold.rmScore, 4);
      expect(againstKl.rows.length).toBe(overIterations.rows.length);

      // The rollout charts' last points are the worker's last PPO iteration (completion/finished is PPO's EOS share).
      const iteration = (await workerLast(page, 'iteration')) as Iteration;
      expect(iteration.method).toBe('ppo');
      const lengthChart = await chartTable(page, 'PPO completion length');
      const distinctChart = await chartTable(page, 'PPO distinct rollouts');
      const eosChart = await chartTable(page, 'PPO rollouts that reach EOS');
      for (const [table, metric] of [[lengthChart, 'completion/length'], [distinctChart, 'completion/distinct'], [eosChart, 'completion/finished']] as const) {
        const row = table.rows[table.rows.length - 1];
        expect(row[0]).toBe(iteration.step);
        expect(row[1]).toBeCloseTo(iteration.metrics[metric], 4);
        expect(table.rows.length).toBe(iteration.step);
      }
      await expect(region.locator('figure figcaption .title', { hasText: 'Rollouts that reach the end token' }).textContent()).resolves.toBe('Rollouts that reach the end token (completion/finished)');

      // The warnings on the page are the worker's last report.
      const hacking = (await workerLast(page, 'hacking'))!;
      const shown = await region.getByRole('alert', { name: 'Reward hacking warnings' }).locator('li[data-method="ppo"]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-symptom')));
      expect(shown).toEqual(hacking.report.symptoms.map((s) => s.kind));
      report('beta-0 preset: symptoms at the end of the run', { iteration: iteration.step, symptoms: hacking.report.symptoms.map((s) => `${s.kind}: ${s.message}`), parting: hacking.report.parting });

      await region.scrollIntoViewIfNeeded();
      await page.waitForTimeout(600); // charts redraw at most every 250 ms once in view
      await region.screenshot({ path: join(ROOT, 'tests', 'screenshots', 'reward-hacking-desktop.png') });

      // A 390 px phone: the same region, nothing wider than the screen.
      await page.setViewportSize(PHONE);
      await region.scrollIntoViewIfNeeded();
      await page.waitForTimeout(800);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await region.screenshot({ path: join(ROOT, 'tests', 'screenshots', 'reward-hacking-phone.png') });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  // Opt-in (RLHF_LONG=1): the same preset run on until the gold judge sees it. Two runs here: RM up
  // while gold fell at iteration 24 and the parting named with it, 87 s after autopilot started (2
  // cores, little else running); iterations 32 and 44, 168 s and 256 s, on the same machine under a
  // load of ~15 (autopilot's labels land between iterations by timing, so runs differ). It writes
  // tests/screenshots/reward-hacking-parting-desktop.png.
  test.skipIf(process.env.RLHF_LONG !== '1')('long run: proxy up while gold falls, the parting named and marked on both gold charts', { timeout: 600_000 }, async () => {
    const { page, errors, close } = await openPage(app.browser, DESKTOP);
    try {
      await page.goto(`${app.origin}/?seed=1&pace=100&ppo.rolloutsPerIteration=16`);
      await waitForPair(page, LOAD_MS);
      const region = page.getByRole('region', { name: 'Reward hacking', exact: true });
      await region.getByRole('button', { name: 'Provoke reward hacking' }).click();
      await page.getByRole('button', { name: 'Start autopilot' }).click();
      const started = Date.now();
      const seen: Record<string, { seconds: number; iteration: number }> = {};
      await expect
        .poll(
          async () => {
            const kinds = await region.locator('li[data-symptom]').evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-symptom') ?? '', Number(li.getAttribute('data-steps'))] as const));
            for (const [k, iteration] of kinds) seen[k] ??= { seconds: Math.round((Date.now() - started) / 1000), iteration };
            return Boolean(seen['proxy-gold'] && seen.parting);
          },
          { timeout: 500_000, interval: 3_000 },
        )
        .toBe(true);
      await page.getByRole('button', { name: 'Stop autopilot' }).click();
      const hacking = (await workerLast(page, 'hacking'))!.report;
      report('beta-0 preset, long run: first seen (seconds from autopilot, iteration)', { seen, parting: hacking.parting });
      // The mark sits at the parting's iteration, and at its √KL on the other chart.
      const parting = hacking.parting!;
      await expect(region.locator('figure:has(canvas[aria-label="PPO proxy and gold over iterations chart"]) .canvas-box').getAttribute('data-mark')).resolves.toBe(String(parting.steps));
      const againstKl = await chartTable(page, 'PPO proxy and gold against √KL');
      const mark = Number(await region.locator('figure:has(canvas[aria-label="PPO proxy and gold against √KL chart"]) .canvas-box').getAttribute('data-mark'));
      expect(againstKl.rows.map((r) => r[0])).toContainEqual(expect.closeTo(mark, 5));
      await expect(region.locator('[data-live="parting"]').getAttribute('data-steps')).resolves.toBe(String(parting.steps));
      await page.locator('figure:has(canvas[aria-label="PPO proxy and gold against √KL chart"]) summary').click(); // close the table again for the picture
      await region.scrollIntoViewIfNeeded();
      await page.waitForTimeout(800);
      await region.screenshot({ path: join(ROOT, 'tests', 'screenshots', 'reward-hacking-parting-desktop.png') });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
