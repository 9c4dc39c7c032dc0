// A Vite plugin that renders TeX to MathML at build time with Temml (a well-kept LaTeX-to-MathML
// renderer): `import mathml from 'virtual:how-mathml'` gives the formulas of src/ui/how-formulas.ts
// as MathML strings, so the page ships markup that Chromium, Firefox and Safari render natively
// (MathML Core) and not the renderer (~50 kB gzip). A TeX error fails the build.
import temml from 'temml';
import type { Plugin } from 'vite';

/** The id the page imports. */
export const MATHML_MODULE = 'virtual:how-mathml';
const RESOLVED = `\0${MATHML_MODULE}`;

/** Each TeX formula as a display-mode <math> element (with its TeX as an annotation for copy and screen readers). */
export function renderFormulas<K extends string>(formulas: Readonly<Record<K, string>>): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const key of Object.keys(formulas) as K[]) {
    out[key] = temml.renderToString(formulas[key], { displayMode: true, annotate: true, throwOnError: true });
  }
  return out;
}

export function mathmlPlugin(formulas: Readonly<Record<string, string>>): Plugin {
  return {
    name: 'how-mathml',
    resolveId: (id) => (id === MATHML_MODULE ? RESOLVED : null),
    load: (id) => (id === RESOLVED ? `export default ${JSON.stringify(renderFormulas(formulas))};\n` : null),
  };
}
