// Each backend override in real Chromium: ?backend=webgpu runs on the software (SwiftShader)
// adapter that --enable-unsafe-webgpu gives here (slow shader compilation: generous timeout),
// ?backend=webgl on ANGLE/SwiftShader, ?backend=cpu in plain JavaScript. Each must load the model
// and sample words of the vocabulary with no console error.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureBuilt, launchBrowser, openPage, serveStatic, type StaticServer } from '../support/browser';
import { backendBadge, settle, shownSamples, shippedVocab, unknownWords } from './page-helpers';

let browser: Browser;
let server: StaticServer;

beforeAll(async () => {
  await ensureBuilt();
  [browser, server] = await Promise.all([launchBrowser(), serveStatic('dist')]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const CASES = [
  { backend: 'webgpu', label: 'WebGPU', reason: /WebGPU: chosen \(asked for with \?backend=webgpu\); software adapter \(.*swiftshader.*\)/i, timeoutMs: 180_000 },
  { backend: 'webgl', label: 'WebGL', reason: /WebGL: chosen \(asked for with \?backend=webgl\); WebGL [12]/, timeoutMs: 60_000 },
  { backend: 'cpu', label: 'CPU', reason: /CPU: chosen \(asked for with \?backend=cpu\)/, timeoutMs: 60_000 },
] as const;

describe('backend overrides', () => {
  for (const c of CASES) {
    test(`?backend=${c.backend} loads and samples on ${c.label}`, { timeout: c.timeoutMs + 30_000 }, async () => {
      const { page, errors, close } = await openPage(browser);
      try {
        await page.goto(`${server.origin}/?backend=${c.backend}`);
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
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });
  }
});
