// The page's Content-Security-Policy (src/sw/policy.ts) and the build plugin that writes it into
// index.html: no source that would let injected script or style run, nothing from another origin,
// and the <meta> lands after the charset, before any script. The browser test
// (tests/browser/security.test.ts) checks that the page runs under it.
import { describe, expect, it } from 'vitest';
import { cspMeta } from '../../src/scripts/csp-plugin';
import { contentSecurityPolicy, CSP_DIRECTIVES, FRAME_ANCESTORS } from '../../src/sw/policy';

describe('Content-Security-Policy', () => {
  it('refuses everything by default and allows inline code, eval or another origin nowhere', () => {
    expect(CSP_DIRECTIVES['default-src']).toEqual(["'none'"]);
    for (const [name, sources] of Object.entries(CSP_DIRECTIVES)) {
      for (const source of sources) {
        // Only the page's own files ('self'), 'none', WASM compilation, and the two schemes each with its reason.
        const allowed = ["'self'", "'none'", "'wasm-unsafe-eval'"].includes(source)
          || (source === 'blob:' && (name === 'script-src' || name === 'worker-src'))
          || (source === 'data:' && name === 'img-src');
        expect(allowed, `${name} ${source}`).toBe(true);
      }
    }
    expect(CSP_DIRECTIVES['script-src']).toContain("'wasm-unsafe-eval'");
  });

  it('writes one header value, directive by directive', () => {
    const value = contentSecurityPolicy();
    expect(value.split('; ').map((d) => d.split(' ')[0])).toEqual(Object.keys(CSP_DIRECTIVES));
    expect(value).toContain("script-src 'self' 'wasm-unsafe-eval' blob:");
    expect(value).not.toContain('frame-ancestors'); // meaningless in a <meta>: only vite preview's header has it
    expect(FRAME_ANCESTORS).toBe("frame-ancestors 'none'");
  });

  it('goes into the built page right after the charset, before any script', () => {
    const plugin = cspMeta();
    const transform = plugin.transformIndexHtml as (html: string) => string;
    const html = transform('<head>\n    <meta charset="utf-8" />\n    <script type="module" src="./main.js"></script>\n</head>');
    const meta = `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy()}" />`;
    expect(html.indexOf(meta)).toBeGreaterThan(html.indexOf('<meta charset="utf-8" />'));
    expect(html.indexOf(meta)).toBeLessThan(html.indexOf('<script'));
    expect(plugin.apply).toBe('build');
    expect(() => transform('<head><script src="x.js"></script></head>')).toThrow(/charset/);
  });
});
