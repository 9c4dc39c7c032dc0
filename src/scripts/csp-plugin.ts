// A Vite plugin that writes the Content-Security-Policy (src/sw/policy.ts) into the built
// index.html as a <meta> right after the charset, before any script, so that it holds on any
// static host, headers or not. Only in the build: `vite dev` injects inline styles and opens a
// WebSocket for hot reloading, which the policy (rightly) forbids.
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from '../sw/policy.js';

const CHARSET = '<meta charset="utf-8" />';

export function cspMeta(): Plugin {
  return {
    name: 'csp-meta',
    apply: 'build',
    transformIndexHtml(html) {
      if (!html.includes(CHARSET)) throw new Error(`csp-meta: the page has no ${CHARSET} to put the Content-Security-Policy after`);
      const meta = `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy()}" />`;
      return html.replace(CHARSET, `${CHARSET}\n    ${meta}`);
    },
  };
}
