// Vite builds the static page (main thread + module worker); Vitest runs two projects:
// `unit` (pure ML code in Node on the tfjs CPU/wasm backends) and `browser` (playwright-core
// driving Debian Chromium against the built page).
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { mathmlPlugin } from './src/scripts/mathml-plugin.js';
import { FORMULAS } from './src/ui/how-formulas.js';
import { VitePWA } from 'vite-plugin-pwa';
import { cspMeta } from './src/scripts/csp-plugin.js';
import { threadedWasmFactory } from './src/scripts/threads-plugins.js';
import { contentSecurityPolicy, FRAME_ANCESTORS, ISOLATION_HEADERS } from './src/sw/policy.js';

// Cross-origin isolation: SharedArrayBuffer, and so WASM threads, only exist on an isolated page.
// `vite dev` and `vite preview` send these headers; a static host that cannot (GitHub Pages) gets
// them from the page's service worker after one reload (src/ui/state/offline.svelte.ts).
// `vite preview` serves the build as a careful host would: isolated, with the policy as a header
// too (it then covers the workers, and frame-ancestors works only there).
const PREVIEW_HEADERS = { ...ISOLATION_HEADERS, 'Content-Security-Policy': `${contentSecurityPolicy()}; ${FRAME_ANCESTORS}` };

// Precached for offline use: the whole build (page, worker chunks, the .wasm files, the math
// font, the model).
const PRECACHED = ['**/*.{html,js,css,woff2,wasm,json,bin}'];
// Workbox skips bigger files by default (2 MiB); the largest .wasm is ~3 MB, the weights 0.5 MB.
const PRECACHE_MAX_BYTES = 16 * 1024 * 1024;

export default defineConfig({
  base: './', // relative asset URLs: dist/ works from any sub-path of any static host
  plugins: [
    svelte({ configFile: false }),
    mathmlPlugin(FORMULAS), // How it works: TeX rendered to MathML at build time
    cspMeta(), // the Content-Security-Policy as index.html's first <meta>
    // One service worker (src/sw/service-worker.ts) precaches the build and makes the page
    // cross-origin isolated; src/ui/state/offline.svelte.ts registers it (not in `vite dev`).
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'service-worker.ts',
      injectRegister: false,
      manifest: false, // no install prompt or icons: only the offline cache
      injectManifest: { globPatterns: PRECACHED, maximumFileSizeToCacheInBytes: PRECACHE_MAX_BYTES },
    }),
  ],
  // tfjs lives in the worker bundle: its threaded WASM factory must survive minification.
  worker: { format: 'es', plugins: () => [threadedWasmFactory()] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: PREVIEW_HEADERS },
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
          maxWorkers: '100%', // every core: Vitest's default leaves one idle, which on a 2-core CI machine runs the files one at a time
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
