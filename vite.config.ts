// Vite builds the static page (main thread + module worker); Vitest runs two projects:
// `unit` (pure ML code in Node on the tfjs CPU/wasm backends) and `browser` (playwright-core
// driving Debian Chromium against the built page).
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { mathmlPlugin } from './src/scripts/mathml-plugin.js';
import { FORMULAS } from './src/ui/how-formulas.js';
import { coiServiceWorker, threadedWasmFactory } from './src/scripts/threads-plugins.js';

// Cross-origin isolation: SharedArrayBuffer, and so WASM threads, only exist on an isolated page.
// `vite dev` and `vite preview` send these headers; a static host that cannot (GitHub Pages) gets
// them from coi-serviceworker after one reload (index.html).
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './', // relative asset URLs: dist/ works from any sub-path of any static host
  plugins: [
    svelte({ configFile: false }),
    mathmlPlugin(FORMULAS), // How it works: TeX rendered to MathML at build time
    coiServiceWorker(), // coi-serviceworker.js beside index.html
  ],
  // tfjs lives in the worker bundle: its threaded WASM factory must survive minification.
  worker: { format: 'es', plugins: () => [threadedWasmFactory()] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: { target: 'es2022', chunkSizeWarningLimit: 1500 },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'node',
          include: ['tests/unit/**/*.test.ts'],
          setupFiles: ['tests/support/tf-cpu.ts'],
          testTimeout: 180_000, // the shipped-model tests take ~30 s alone; a loaded 2-core machine triples that
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          environment: 'node',
          include: ['tests/browser/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
