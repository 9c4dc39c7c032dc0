// Backend choice for the worker: WebGPU on a real GPU first, then WASM, WebGL, CPU
// (DESIGN.md section 2). A software WebGPU adapter (SwiftShader, `isFallbackAdapter`) is about
// 30 times slower than WASM on these models (reference/browser-facts.md), so it is skipped unless
// the user asks for WebGPU with ?backend=webgpu. Every backend gets one line saying why it was or
// was not chosen; the page shows them. Each backend package is imported only when it is tried, so
// the worker downloads the code of the backend it runs on and no other.
// WASM runs threads (XNNPACK's pthreadpool on emscripten pthreads) where the page is cross-origin
// isolated: the library's choice (half the logical cores) unless ?threads=N says otherwise; the
// badge shows the count and, with one thread, why (src/scripts/threads-plugins.ts has the build
// fix it needs). A backend that runs but is slow here (a software WebGPU adapter or WebGL renderer,
// plain-JavaScript CPU) also says so in one sentence, which the page shows at the top with a
// one-click switch to WASM (issue 12: a forced SwiftShader adapter took 103 s per Step against
// 1.9 s on WASM, under a status that said only "Ready on WebGPU").
import * as tf from '@tensorflow/tfjs-core';
// Vite copies the .wasm files into the build and gives their (hashed) URLs; without
// setWasmPaths the fetch 404s and setBackend('wasm') quietly resolves false.
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { installFastKernels } from '../lib/model/kernels';
import { BACKEND_LABELS, BACKEND_NAMES, type BackendName, type SlowBackend } from '../lib/protocol/messages';

export interface BackendChoice {
  backend: BackendName;
  reasons: Record<BackendName, string>;
  /** Why the chosen backend is slow here, and a faster one to try; null when it is not slow. */
  slow: SlowBackend | null;
}

/** How to start a backend. */
export interface BackendOptions {
  /**
   * WASM threads, 1 to navigator.hardwareConcurrency; absent: the library's choice (half the
   * logical cores, 1 to 8). Read once, when the WASM backend initialises: one count per worker.
   * 1 runs the single-threaded SIMD build (no helper workers). Other backends ignore it.
   */
  threads?: number;
}

/** A backend that started: what it is and how it runs. */
export interface StartedBackend {
  backend: BackendName;
  /** For the badge, e.g. "SIMD on, 2 threads"; with one WASM thread it ends with the reason. */
  detail: string;
  /** WASM threads in use (1 without threads); null on the other backends. */
  threads: number | null;
  /** Why this backend is slow on this device (a sentence), or null. */
  slow: string | null;
}

/** What navigator.gpu offers: no adapter at all, a software one, or a real GPU. */
export type WebGpuProbe =
  | { kind: 'none'; why: string }
  | { kind: 'software' | 'hardware'; adapter: string };

// Adapters and WebGL renderers that run on the CPU even when the browser does not flag them as
// fallback adapters (Chromium's SwiftShader, Mesa's llvmpipe and lavapipe, Windows' WARP).
const SOFTWARE_ARCHITECTURES = /swiftshader|llvmpipe|lavapipe|warp|software/i;

// Measured here (reference/browser-facts.md, tiny GPT, ms per Adam step): WASM 181, software
// WebGPU 5609 (31 times), software WebGL 880 and CPU 901 (5 times).
const SOFTWARE_WEBGPU_SLOWDOWN = 30;
const CPU_SLOWDOWN = 5;

/** The WebGL renderer's name ("ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...))"), or ''. */
function webglRenderer(): string {
  const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
  if (!gl) return '';
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
}

/** Describes navigator.gpu's adapter without starting a device. */
async function probeWebGpu(): Promise<WebGpuProbe> {
  if (!('gpu' in navigator) || !navigator.gpu) return { kind: 'none', why: 'not available in this browser' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { kind: 'none', why: `requestAdapter failed (${errorText(e)})` };
  }
  if (!adapter) return { kind: 'none', why: 'no adapter (WebGPU disabled or GPU blocklisted)' };
  // Older Chromium put isFallbackAdapter on the adapter; newer puts it on adapter.info.
  const legacy = adapter as GPUAdapter & { isFallbackAdapter?: boolean };
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const name = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unnamed adapter';
  const software = legacy.isFallbackAdapter === true || info?.isFallbackAdapter === true
    || SOFTWARE_ARCHITECTURES.test(`${info?.architecture ?? ''} ${info?.description ?? ''}`);
  return { kind: software ? 'software' : 'hardware', adapter: name };
}

// tfjs-backend-wasm's own rule (backend.cc): half the logical cores, as it assumes two
// hyperthreads per core, from 1 to 8 (its pool of helper workers).
const LIBRARY_MAX_THREADS = 8;
function libraryThreads(): number {
  return Math.min(LIBRARY_MAX_THREADS, Math.max(1, Math.floor((navigator.hardwareConcurrency || 1) / 2)));
}

/** The WASM threads a run asks for: ?threads=N, else the library's choice. */
function wasmThreads(options: BackendOptions): number {
  return options.threads ?? libraryThreads();
}

/**
 * Runs `init` (the WASM backend's initialisation) while the worker's navigator reports twice
 * `threads` cores. tfjs-backend-wasm 4.22 caps its thread pool at hardwareConcurrency / 2, read once
 * as its module initialises (backend.cc `num_cores`: it assumes two hyperthreads per core, and
 * `init_with_threads_count` takes the minimum of the count asked for, 8 and that), so on a 2-core
 * machine setThreadsCount(2) alone still gives one thread. The getter is the prototype's again
 * as soon as the backend is up; the pthread helpers never read it.
 */
async function withCoresFor<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const nav = self.navigator;
  Object.defineProperty(nav, 'hardwareConcurrency', { configurable: true, get: () => 2 * threads });
  try {
    return await init();
  } finally {
    Reflect.deleteProperty(nav, 'hardwareConcurrency');
  }
}

/** Loads a backend's package (which registers it) and sets its flags. */
const PREPARE: Record<BackendName, (options: BackendOptions) => Promise<void>> = {
  webgpu: async () => {
    await import('@tensorflow/tfjs-backend-webgpu');
  },
  wasm: async (options) => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const threads = wasmThreads(options);
    // One thread: the plain SIMD build, without the threaded build's pool of helper workers.
    if (threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    else wasm.setThreadsCount(threads);
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlainUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
    });
  },
  webgl: async () => {
    await import('@tensorflow/tfjs-backend-webgl');
  },
  cpu: async () => {
    await import('@tensorflow/tfjs-backend-cpu');
  },
};

/** Why WASM runs one thread, read after it started without threads. */
async function oneThreadWhy(options: BackendOptions, simd: boolean): Promise<string> {
  if (options.threads === 1) return 'as asked with ?threads=1';
  // A worker inherits its page's isolation; without it there is no SharedArrayBuffer to share.
  if (!self.crossOriginIsolated) {
    return 'the page is not cross-origin isolated (inside a cross-origin iframe, or a host without COOP/COEP headers and no service worker)';
  }
  // One thread by default turned the threaded build off (PREPARE): say so before reading its flag.
  const cores = navigator.hardwareConcurrency || 1;
  if (options.threads === undefined && libraryThreads() === 1) {
    if (cores < 2) return 'this machine reports one core';
    return `tfjs-backend-wasm's default, half the ${cores} logical cores (it counts two per physical core); ?threads=${cores} asks for more`;
  }
  if (!(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))) return "this browser's WebAssembly has no threads";
  if (!simd) return 'the threaded build needs SIMD, which this browser lacks';
  return 'tfjs-backend-wasm started one';
}

/** WASM's threads and SIMD, read after setBackend succeeded: "SIMD on, 2 threads". */
async function wasmDetail(options: BackendOptions): Promise<{ detail: string; threads: number }> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threaded = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) && simd;
  // Without the threaded build getThreadsCount still reports the count it was asked for: one runs.
  const threads = threaded ? wasm.getThreadsCount() : 1;
  const simdText = `SIMD ${simd ? 'on' : 'off'}`;
  if (threads > 1) return { detail: `${simdText}, ${threads} threads`, threads };
  return { detail: `${simdText}, 1 thread: ${await oneThreadWhy(options, simd)}`, threads };
}

/** A short description of the running backend and why it is slow here, read after setBackend succeeded. */
function describeBackend(name: Exclude<BackendName, 'wasm'>, probe: WebGpuProbe | null): { detail: string; slow: string | null } {
  switch (name) {
    case 'webgpu':
      if (probe?.kind === 'software') {
        return {
          detail: `software adapter (${probe.adapter}): slow, for testing`,
          slow: `WebGPU runs on a software adapter here (${probe.adapter}): no GPU does the work, the CPU imitates one, so training takes about ${SOFTWARE_WEBGPU_SLOWDOWN} times as long as on WASM`,
        };
      }
      return { detail: probe && probe.kind !== 'none' ? `GPU adapter (${probe.adapter})` : 'GPU adapter', slow: null };
    case 'webgl': {
      const renderer = webglRenderer();
      const version = `WebGL ${tf.env().getNumber('WEBGL_VERSION')}`;
      if (SOFTWARE_ARCHITECTURES.test(renderer)) {
        return {
          detail: `${version}, software renderer (${renderer})`,
          slow: `WebGL runs on a software renderer here (${renderer}): no GPU does the work, so training takes about ${CPU_SLOWDOWN} times as long as on WASM`,
        };
      }
      return { detail: renderer ? `${version} (${renderer})` : version, slow: null };
    }
    case 'cpu':
      return {
        detail: 'plain JavaScript, the slowest',
        slow: `The CPU backend runs the model in plain JavaScript, so training takes about ${CPU_SLOWDOWN} times as long as on WASM`,
      };
  }
}

const SMOKE_EXPECTED = 12;
/**
 * Registers, initialises and smoke-tests one backend; throws with the reason when it cannot run.
 * `start('wasm', { threads: 2 })` is how a benchmark worker runs WASM on two threads.
 */
export async function start(name: BackendName, options: BackendOptions = {}, probe: WebGpuProbe | null = null): Promise<StartedBackend> {
  await PREPARE[name](options);
  const threads = name === 'wasm' ? wasmThreads(options) : 1;
  const ok = threads > 1 ? await withCoresFor(threads, () => tf.setBackend(name)) : await tf.setBackend(name);
  if (!ok) throw new Error("it did not initialise; the console shows tfjs's reason");
  await tf.ready();
  installFastKernels(name);
  // Some backends initialise and then fail on the first kernel: run one and read it back.
  const t = tf.tidy(() => tf.sum(tf.mul(tf.tensor1d([1, 2, 3]), 2)));
  const value = (await t.data())[0];
  t.dispose();
  if (value !== SMOKE_EXPECTED) throw new Error(`a test sum gave ${value}, expected ${SMOKE_EXPECTED}`);
  if (name === 'wasm') return { backend: name, ...(await wasmDetail(options)), slow: null };
  return { backend: name, ...describeBackend(name, probe), threads: null };
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Picks and initialises the backend. `requested` (from ?backend=) is tried first and WebGPU is
 * then used even on a software adapter; if it cannot start, the default order follows.
 */
export async function chooseBackend(requested?: BackendName, options: BackendOptions = {}): Promise<BackendChoice> {
  const order: BackendName[] = requested ? [requested, ...BACKEND_NAMES.filter((b) => b !== requested)] : [...BACKEND_NAMES];
  const reasons: Partial<Record<BackendName, string>> = {};
  // Backends passed over say which one ran instead ("; using WASM"), once that is known.
  const passedOver: Partial<Record<BackendName, (using: string) => string>> = {};
  let chosen: BackendName | null = null;
  let slow: string | null = null;
  for (const name of order) {
    const label = BACKEND_LABELS[name];
    if (chosen) {
      reasons[name] = `${label}: not tried (${BACKEND_LABELS[chosen]} started first)`;
      continue;
    }
    const asked = name === requested;
    const askedNote = asked ? ` although asked for with ?backend=${name}` : '';
    const probe = name === 'webgpu' ? await probeWebGpu() : null;
    if (probe?.kind === 'none') {
      passedOver[name] = (using) => `${label}: ${probe.why}${askedNote}${using}`;
      continue;
    }
    if (probe?.kind === 'software' && !asked) {
      passedOver[name] = (using) =>
        `${label}: software adapter only (${probe.adapter})${using}. A software adapter is about 30 times slower than WASM; add ?backend=webgpu to use it anyway`;
      continue;
    }
    try {
      const started = await start(name, options, probe);
      chosen = name;
      slow = started.slow;
      reasons[name] = `${label}: chosen${asked ? ` (asked for with ?backend=${name})` : ''}; ${started.detail}`;
    } catch (e) {
      const why = errorText(e);
      passedOver[name] = (using) => `${label}: failed to start (${why})${askedNote}${using}`;
    }
  }
  for (const name of BACKEND_NAMES) {
    const say = passedOver[name];
    if (say) reasons[name] = say(chosen ? `; using ${BACKEND_LABELS[chosen]}` : '');
  }
  const all = reasons as Record<BackendName, string>;
  if (!chosen) throw new Error(`no TensorFlow.js backend could start. ${BACKEND_NAMES.map((b) => all[b]).join('. ')}`);
  // WASM is worth a switch unless it was tried here and could not start.
  const faster: BackendName | null = chosen !== 'wasm' && !passedOver.wasm ? 'wasm' : null;
  return { backend: chosen, reasons: all, slow: slow === null ? null : { why: slow, faster } };
}
