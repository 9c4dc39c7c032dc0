// The scripts' command-line options: node:util's parseArgs reads `--name value` and `--flag`
// (an unknown option, a missing value or a stray argument is an error), and each value is checked
// by the same rules as the page's address (src/lib/config/fields.ts, valibot): a number by its
// NumberRule, a JSON patch (--ppo '{"lr":1e-4}', --reward, --pairs) by its settings' rule table, so
// `--ppo '{"lr":-1}'` is refused with the allowed range instead of training on it.
import { parseArgs as parseNodeArgs } from 'node:util';
import * as v from 'valibot';
import { checkNumber, rulesSchema, type NumberRule, type Rule } from '../lib/config/fields';
import { issueLines } from '../lib/config/validate';

/** An option's kind: text, a flag, or a number under its rule. */
export type OptionKind = 'string' | 'flag' | NumberRule;
type Value<K extends OptionKind> = K extends 'flag' ? boolean : K extends 'string' ? string : number;
export type ParsedArgs<S extends Record<string, OptionKind>> = { [K in keyof S]?: Value<S[K]> };

/** Reads `argv` by `spec`; throws an Error that names the option and what it takes. */
export function parseArgs<S extends Record<string, OptionKind>>(argv: string[], spec: S): ParsedArgs<S> {
  const options = Object.fromEntries(Object.entries(spec).map(([name, kind]) => [name, { type: kind === 'flag' ? ('boolean' as const) : ('string' as const) }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseNodeArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new Error(`${(e as Error).message}; options: ${Object.keys(spec).map((k) => `--${k}`).join(' ')}`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(values)) {
    const kind = spec[name];
    if (raw === undefined) continue;
    if (typeof kind === 'object') {
      const parsed = checkNumber(String(raw), kind);
      if (!parsed.ok) throw new Error(`--${name}: ${parsed.why}, got "${String(raw)}"`);
      out[name] = parsed.value;
    } else out[name] = raw;
  }
  return out as ParsedArgs<S>;
}

/**
 * Applies a JSON patch such as '{"targetKl":3}' (--ppo, --reward, --pairs) to `defaults`: every key
 * must be one of `rules`, with a value its rule allows. Throws one Error listing every problem.
 */
export function patchConfig<T extends object>(option: string, json: string | undefined, defaults: T, rules: Readonly<Record<string, Rule>>): T {
  if (json === undefined) return { ...defaults };
  let patch: unknown;
  try {
    patch = JSON.parse(json);
  } catch (e) {
    throw new Error(`--${option}: not JSON (${(e as Error).message}); write e.g. '{"${Object.keys(rules)[0]}": ...}'`);
  }
  const result = v.safeParse(rulesSchema(rules), patch, { abortEarly: false });
  if (!result.success) throw new Error(`--${option}: ${issueLines(result.issues).join('; ')}`);
  const given = Object.fromEntries(Object.entries(result.output).filter(([, value]) => value !== undefined));
  return { ...defaults, ...given };
}
