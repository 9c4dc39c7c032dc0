// The Vite plugin that lets the WASM backend run threads (issue 11, section 3).
//
// `threadedWasmFactory`: tfjs-backend-wasm starts its pthread helper workers from a Blob made
// of `wasmFactoryThreadedSimd.toString()`, the source of emscripten's factory function alone
// (tfjs backend_wasm.ts; tfjs PR 4528). That function reads `_scriptDir`, a variable of the
// closure around it, which the Blob does not contain; emscripten guards the read with
// `typeof _scriptDir !== "undefined"`. A minifier sees that `_scriptDir` is declared in the
// enclosing scope, folds the guard to `e !== void 0` and mangles the name, so in the helper
// worker `ReferenceError: e is not defined` (Vite 8's Oxc minifier does exactly this). The
// plugin declares `_scriptDir` inside the factory instead, so the function's source is whole:
// minified or not, it refers to nothing but globals. (Its other free name, the bundler's
// `require` shim, is reached only under Node.) In an ES module bundle `_scriptDir` is always
// undefined (no `document.currentScript`), so nothing else changes.
// Cross-origin isolation itself comes from the headers of `vite dev` and `vite preview`, or, on a
// host without them, from the page's service worker (src/sw/service-worker.ts).
import type { Plugin } from 'vite';

const FACTORY_FILE = /@tensorflow[\\/]tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
// The closure emscripten 3.1 writes around the factory (tfjs-backend-wasm 4.22.0).
const CLOSURE_HEAD = `var WasmBackendModuleThreadedSimd = (() => {
  var _scriptDir = typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : undefined;
  if (typeof __filename !== 'undefined') _scriptDir = _scriptDir || __filename;
  return (
function(WasmBackendModuleThreadedSimd) {
  WasmBackendModuleThreadedSimd = WasmBackendModuleThreadedSimd || {};
`;
const SELF_CONTAINED_HEAD = `var WasmBackendModuleThreadedSimd = (() => {
  return (
function(WasmBackendModuleThreadedSimd) {
  WasmBackendModuleThreadedSimd = WasmBackendModuleThreadedSimd || {};
  var _scriptDir = typeof document !== 'undefined' && document.currentScript ? document.currentScript.src : undefined;
  if (typeof __filename !== 'undefined') _scriptDir = _scriptDir || __filename;
`;

/** Moves `_scriptDir` into the threaded factory; fails the build if tfjs changed the file's shape. */
export function threadedWasmFactory(): Plugin {
  return {
    name: 'threaded-wasm-factory',
    transform(code, id) {
      if (!FACTORY_FILE.test(id.split('?')[0])) return null;
      const text = code.replace(/\r\n/g, '\n');
      if (!text.includes(CLOSURE_HEAD)) {
        this.error('tfjs-backend-wasm-threaded-simd.js no longer starts as src/scripts/threads-plugins.ts expects: check the threaded-wasm fix against the new version');
      }
      return { code: text.replace(CLOSURE_HEAD, SELF_CONTAINED_HEAD), map: null };
    },
  };
}
