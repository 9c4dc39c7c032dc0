// The page's security headers, in one place: the Content-Security-Policy (issue 12, "Security"),
// which the build writes into index.html as a <meta> tag, `vite preview` sends as a header and
// the service worker adds to every response it serves; and the two headers that make the page
// cross-origin isolated (WASM threads need SharedArrayBuffer), which `vite dev` and `vite preview`
// send and the service worker adds where the host cannot (GitHub Pages).
// Plain data with no imports: vite.config.ts, the service worker and the tests all read it.

/**
 * Every directive, and why each source is allowed. Anything not listed falls back to
 * default-src 'none': no fonts, media, frames or plug-ins, and no other origin anywhere.
 */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'none'"],
  // Only the build's own files: no inline script and no eval. 'wasm-unsafe-eval' lets the worker
  // compile tfjs-backend-wasm's .wasm files (it allows WebAssembly compilation, not JS eval).
  // blob: is for WASM threads: tfjs-backend-wasm starts each pthread helper worker from a Blob URL
  // of its own script, and that worker importScripts() a second Blob (the threaded factory's
  // source); a page's script can only make Blob URLs of content it already holds.
  'script-src': ["'self'", "'wasm-unsafe-eval'", 'blob:'],
  // The training worker (a module script of the build), the service worker, and the pthread
  // helpers above (Blob URLs).
  'worker-src': ["'self'", 'blob:'],
  // fetch() of the base model (models/base/) and of the .wasm files.
  'connect-src': ["'self'"],
  // Vite's CSS file. Svelte sets element styles through the CSSOM (style.setProperty), which CSP
  // does not restrict, so no 'unsafe-inline'.
  'style-src': ["'self'"],
  // Temml's math font (a .woff2 of the build, for the formulas under "How it works").
  'font-src': ["'self'"],
  // The empty favicon (index.html's `data:,` icon keeps the browser from asking for /favicon.ico).
  'img-src': ["'self'", 'data:'],
  // No <base> may redirect relative URLs; no form posts anywhere (every form is handled in script).
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

/**
 * Only valid as an HTTP header (a <meta> policy ignores frame-ancestors, CSP 3 section 6.1): who
 * may frame the page. `vite preview` sends it; on a static host it needs the host's own header.
 */
export const FRAME_ANCESTORS = "frame-ancestors 'none'";

/** The policy as one header value ("default-src 'none'; script-src 'self' ..."). */
export function contentSecurityPolicy(directives: Readonly<Record<string, readonly string[]>> = CSP_DIRECTIVES): string {
  return Object.entries(directives)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
}

/** The headers that make a page cross-origin isolated. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
