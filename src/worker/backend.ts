// Backend choice for the worker: WebGPU on a real GPU first, then WASM, WebGL, CPU
// (DESIGN.md section 2). A software WebGPU adapter (SwiftShader, `isFallbackAdapter`) is about
// 30 times slower than WASM on these models (reference/browser-facts.md), so it is skipped unless
// the user asks for WebGPU with ?backend=webgpu. Every backend gets one line saying why it was or
// was not chosen; the page shows them. Each backend package is imported only when it is tried, so
// the worker downloads the code of the backend it runs on and no other.
import * as tf from '@tensorflow/tfjs-core';
// Vite copies the .wasm files into the build and gives their (hashed) URLs; without
// setWasmPaths the fetch 404s and setBackend('wasm') quietly resolves false.
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { installFastKernels } from '../lib/model/kernels';
import { BACKEND_LABELS, BACKEND_NAMES, type BackendName } from '../lib/protocol/messages';

export interface BackendChoice {
  backend: BackendName;
  reasons: Record<BackendName, string>;
}

/** What navigator.gpu offers: no adapter at all, a software one, or a real GPU. */
type WebGpuProbe =
  | { kind: 'none'; why: string }
  | { kind: 'software' | 'hardware'; adapter: string };

// Adapters that run on the CPU even when the browser does not flag them as fallback adapters.
const SOFTWARE_ARCHITECTURES = /swiftshader|llvmpipe|lavapipe|warp/i;

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

/** Loads a backend's package (which registers it) and sets its flags. */
const PREPARE: Record<BackendName, () => Promise<void>> = {
  webgpu: async () => {
    await import('@tensorflow/tfjs-backend-webgpu');
  },
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Threaded wasm breaks after minification in its helper workers; one thread is as fast here.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
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

/** A short description of the running backend, read after setBackend succeeded. */
async function detail(name: BackendName, probe: WebGpuProbe | null): Promise<string> {
  switch (name) {
    case 'webgpu':
      if (probe?.kind === 'software') return `software adapter (${probe.adapter}): slow, for testing`;
      return probe && probe.kind !== 'none' ? `GPU adapter (${probe.adapter})` : 'GPU adapter';
    case 'wasm':
      return `SIMD ${(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'on' : 'off'}, 1 thread`;
    case 'webgl':
      return `WebGL ${tf.env().getNumber('WEBGL_VERSION')}`;
    case 'cpu':
      return 'plain JavaScript, the slowest';
  }
}

const SMOKE_EXPECTED = 12;
/** Registers, initialises and smoke-tests one backend; throws with the reason when it cannot run. */
async function start(name: BackendName): Promise<void> {
  await PREPARE[name]();
  if (!(await tf.setBackend(name))) throw new Error("it did not initialise; the console shows tfjs's reason");
  await tf.ready();
  installFastKernels(name);
  // Some backends initialise and then fail on the first kernel: run one and read it back.
  const t = tf.tidy(() => tf.sum(tf.mul(tf.tensor1d([1, 2, 3]), 2)));
  const value = (await t.data())[0];
  t.dispose();
  if (value !== SMOKE_EXPECTED) throw new Error(`a test sum gave ${value}, expected ${SMOKE_EXPECTED}`);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Picks and initialises the backend. `requested` (from ?backend=) is tried first and WebGPU is
 * then used even on a software adapter; if it cannot start, the default order follows.
 */
export async function chooseBackend(requested?: BackendName): Promise<BackendChoice> {
  const order: BackendName[] = requested ? [requested, ...BACKEND_NAMES.filter((b) => b !== requested)] : [...BACKEND_NAMES];
  const reasons: Partial<Record<BackendName, string>> = {};
  // Backends passed over say which one ran instead ("; using WASM"), once that is known.
  const passedOver: Partial<Record<BackendName, (using: string) => string>> = {};
  let chosen: BackendName | null = null;
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
      await start(name);
      chosen = name;
      reasons[name] = `${label}: chosen${asked ? ` (asked for with ?backend=${name})` : ''}; ${await detail(name, probe)}`;
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
  return { backend: chosen, reasons: all };
}
