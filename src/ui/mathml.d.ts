// The formulas of "How it works", rendered to MathML at build time (src/scripts/mathml-plugin.ts).
declare module 'virtual:how-mathml' {
  const mathml: Record<import('./how-formulas').FormulaKey, string>;
  export default mathml;
}
