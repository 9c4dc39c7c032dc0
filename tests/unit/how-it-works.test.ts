// "How it works": the build-time MathML (every formula renders, a TeX error fails the build, the
// plugin serves them as a module) and the live-number helpers, checked against the code they
// explain: the Bradley-Terry loss of a label against the run's own comparison pairs, best-of-N's
// bound against bestOfNKl, and a live value against the series a chart draws.
import { describe, expect, it } from 'vitest';
import { logSigmoid } from '../../src/lib/math/stats';
import { bestOfNKl } from '../../src/lib/rl/best-of-n';
import { comparisonPairs, type Label } from '../../src/lib/rl/preferences';
import { MATHML_CSS_MODULE, MATHML_MODULE, mathmlPlugin, renderFormulas, styleAttributesToClasses } from '../../src/scripts/mathml-plugin';
import { COLOURS } from '../../src/ui/charts/chart-setup';
import { FORMULAS } from '../../src/ui/how-formulas';
import { bestOfNBound, labelLoss, lastPoint, readable } from '../../src/ui/state/how-it-works';
import { formatNumber, Series } from '../../src/ui/state/series.svelte';

describe('formulas as MathML', () => {
  it('renders every formula to one display <math> element that carries its TeX', () => {
    const out = renderFormulas(FORMULAS);
    expect(Object.keys(out)).toEqual(Object.keys(FORMULAS));
    for (const [key, html] of Object.entries(out)) {
      expect(html, key).toMatch(/^<math[^>]*display="block"/);
      expect(html.match(/<math\b/g)?.length, key).toBe(1);
      expect(html, key).not.toMatch(/merror|temml-error/);
      const tex = /<annotation encoding="application\/x-tex">([\s\S]*)<\/annotation>/.exec(html)?.[1];
      expect(tex?.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').trim(), key).toBe(FORMULAS[key as keyof typeof FORMULAS]);
    }
  });

  it('fails on a TeX error instead of shipping it', () => {
    expect(() => renderFormulas({ broken: String.raw`\frac{1}{` })).toThrow();
    expect(() => renderFormulas({ unknown: String.raw`\notacommand x` })).toThrow();
  });

  it('serves the rendered formulas as the virtual module', async () => {
    const plugin = mathmlPlugin({ a: 'x^2', b: String.raw`\sigma(z)` });
    const resolve = plugin.resolveId as (id: string) => string | null;
    const load = plugin.load as (id: string) => string | null;
    const id = resolve(MATHML_MODULE);
    expect(id).not.toBeNull();
    expect(resolve('other')).toBeNull();
    const code = load(id!);
    const json = /^import "virtual:how-mathml-styles\.css";\nexport default (.*);\n$/s.exec(code ?? '')?.[1];
    const module = JSON.parse(json ?? 'null') as Record<string, string>;
    expect(Object.keys(module)).toEqual(['a', 'b']);
    expect(module.a).toContain('<msup>');
    expect(module.b).toContain('σ');
    // Temml's display style is a class with its rule in the module's CSS, not a style attribute.
    expect(module.a).not.toMatch(/\sstyle=/);
    const css = load(resolve(MATHML_CSS_MODULE)!);
    expect(css).toContain('.tml-style-0 { display:block math; }');
    expect(module.a).toMatch(/^<math display="block" class="tml-display tml-style-0">/);
  });

  it('turns every style attribute into a class, one per distinct style, keeping the classes there', () => {
    const { markup, css } = styleAttributesToClasses({
      x: '<math class="tml-display" style="display:block math;"><mrow style="margin-left:-0.1667em;"></mrow><mrow displaystyle="false" style="math-depth:0;"></mrow><mspace width="1em"/></math>',
      y: '<math style="display:block math;"><mi>y</mi></math>',
    });
    expect(markup.x).toBe('<math class="tml-display tml-style-0"><mrow class="tml-style-1"></mrow><mrow displaystyle="false" class="tml-style-2"></mrow><mspace width="1em"/></math>');
    expect(markup.y).toBe('<math class="tml-style-0"><mi>y</mi></math>');
    expect(css).toBe('.tml-style-0 { display:block math; }\n.tml-style-1 { margin-left:-0.1667em; }\n.tml-style-2 { math-depth:0; }\n');
  });

  it('leaves no style attribute in the shipped formulas', () => {
    const { markup } = styleAttributesToClasses(renderFormulas(FORMULAS));
    for (const [key, html] of Object.entries(markup)) expect(html, key).not.toMatch(/\sstyle=/);
  });
});

function label(choice: Label['choice']): Label {
  return { id: choice, prompt: 'the pizza was', completionA: 'great .', completionB: 'cold .', choice, source: 'human', time: 0 };
}

describe('live numbers', () => {
  it("a label's loss is the run's Bradley-Terry loss on its comparison pairs (ties: both orders at 1/2)", () => {
    for (const d of [-3.2, -0.4, 0, 0.07, 1.5, 12]) {
      const scores = { 'great .': d, 'cold .': 0 }; // r(A) - r(B) = d
      for (const choice of ['A', 'B', 'tie'] as const) {
        const pairs = comparisonPairs([label(choice)]);
        const total = pairs.reduce((s, p) => s + p.weight, 0);
        const loss = -pairs.reduce((s, p) => s + p.weight * logSigmoid(scores[p.chosen as keyof typeof scores] - scores[p.rejected as keyof typeof scores]), 0) / total;
        expect(labelLoss(choice, d), `${choice} at d = ${d}`).toBeCloseTo(loss, 12);
      }
    }
  });

  it("best-of-N's bound is the method's own KL", () => {
    for (let n = 1; n <= 64; n++) expect(bestOfNBound(n)).toBeCloseTo(bestOfNKl(n), 12);
  });

  it('rounds to 3 significant digits for reading', () => {
    expect(readable(3.14159)).toBe('3.14');
    expect(readable(-0.0027522)).toBe('-0.00275');
    expect(readable(-0.00077812)).toBe('-0.00078');
    expect(readable(0.05)).toBe('0.05');
    expect(readable(1234.5)).toBe('1235');
    expect(readable(NaN)).toBe('–');
  });

  it("is the last point of the chart's column, in the colour of its line", () => {
    const series = new Series(['step', 'objective/kl', 'objective/kl_k3']);
    const keys = ['objective/kl', 'objective/kl_k3'];
    expect(lastPoint(series, 'objective/kl', 'PPO KL', keys, 'ppo')).toBeNull();
    series.pushRecord({ step: 1, 'objective/kl': 0.1 });
    series.pushRecord({ step: 2, 'objective/kl': 3.1234567, 'objective/kl_k3': 2.5 });
    const kl = lastPoint(series, 'objective/kl', 'PPO KL', keys, 'ppo')!;
    expect(kl.exact).toBe(formatNumber(series.column('objective/kl')[1]));
    expect(kl.value).toBe(Math.fround(3.1234567));
    expect(kl.text).toBe('3.12');
    expect(kl.colour).toBe(COLOURS[0]);
    expect(lastPoint(series, 'objective/kl_k3', 'PPO KL', keys, 'ppo')!.colour).toBe(COLOURS[1]);
    series.pushRecord({ step: 3 }); // a last row without the metric (the table shows it empty): nothing to show
    expect(lastPoint(series, 'objective/kl', 'PPO KL', keys, 'ppo')).toBeNull();
  });
});
