// A Vite plugin that renders TeX to MathML at build time with Temml (a well-kept LaTeX-to-MathML
// renderer): `import mathml from 'virtual:how-mathml'` gives the formulas of src/ui/how-formulas.ts
// as MathML strings, so the page ships markup that Chromium, Firefox and Safari render natively
// (MathML Core) and not the renderer (~50 kB gzip). A TeX error fails the build.
// Temml writes a few inline styles (style="math-depth:0;", a negative space's margin). The page's
// Content-Security-Policy refuses style attributes (src/sw/policy.ts: style-src 'self'), so each
// distinct style becomes a class whose rule the module's own CSS file holds.
import temml from 'temml';
import type { Plugin } from 'vite';

/** The id the page imports. */
export const MATHML_MODULE = 'virtual:how-mathml';
const RESOLVED = `\0${MATHML_MODULE}`;
/** The CSS of the formulas' classes: the .css ending makes Vite bundle it as a stylesheet. */
export const MATHML_CSS_MODULE = 'virtual:how-mathml-styles.css';
const RESOLVED_CSS = `\0${MATHML_CSS_MODULE}`;

/** Each TeX formula as a display-mode <math> element (with its TeX as an annotation for copy and screen readers). */
export function renderFormulas<K extends string>(formulas: Readonly<Record<K, string>>): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const key of Object.keys(formulas) as K[]) {
    out[key] = temml.renderToString(formulas[key], { displayMode: true, annotate: true, throwOnError: true });
  }
  return out;
}

// An opening tag with its attributes (Temml quotes every value with "), and those two attributes.
const OPENING_TAG = /<([a-z][a-z0-9]*)(\s[^<>]*?)?(\/?)>/g;
const STYLE_ATTR = /\sstyle="([^"]*)"/;
const CLASS_ATTR = /\sclass="([^"]*)"/;
const CLASS_PREFIX = 'tml-style-';

/**
 * Moves every style attribute of `markup` into a class (one per distinct style, in order of first
 * use) and returns the markup without style attributes and the CSS rules of those classes.
 */
export function styleAttributesToClasses<K extends string>(markup: Readonly<Record<K, string>>): { markup: Record<K, string>; css: string } {
  const classes = new Map<string, string>();
  const out = {} as Record<K, string>;
  for (const key of Object.keys(markup) as K[]) {
    out[key] = markup[key].replace(OPENING_TAG, (tag, name: string, attrs: string | undefined, slash: string) => {
      const style = attrs && STYLE_ATTR.exec(attrs);
      if (!attrs || !style) return tag;
      let cls = classes.get(style[1]);
      if (!cls) {
        cls = `${CLASS_PREFIX}${classes.size}`;
        classes.set(style[1], cls);
      }
      let rest = attrs.replace(STYLE_ATTR, '');
      const existing = CLASS_ATTR.exec(rest);
      rest = existing ? rest.replace(CLASS_ATTR, ` class="${existing[1]} ${cls}"`) : `${rest} class="${cls}"`;
      return `<${name}${rest}${slash}>`;
    });
  }
  const css = [...classes].map(([style, cls]) => `.${cls} { ${style} }`).join('\n');
  return { markup: out, css: css + '\n' };
}

export function mathmlPlugin(formulas: Readonly<Record<string, string>>): Plugin {
  let built: { markup: Record<string, string>; css: string } | null = null;
  const render = () => (built ??= styleAttributesToClasses(renderFormulas(formulas)));
  return {
    name: 'how-mathml',
    resolveId: (id) => (id === MATHML_MODULE ? RESOLVED : id === MATHML_CSS_MODULE ? RESOLVED_CSS : null),
    load: (id) => {
      if (id === RESOLVED) return `import ${JSON.stringify(MATHML_CSS_MODULE)};\nexport default ${JSON.stringify(render().markup)};\n`;
      if (id === RESOLVED_CSS) return render().css;
      return null;
    },
  };
}
