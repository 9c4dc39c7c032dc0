// Typed config fields: one row per setting with its default, the reason for that default, the
// range a user may set and the key it has in the page address. The URL table (url.ts), the
// method registry (rl/methods) and the page's inputs all read these rows, so a rule is written
// once and checked where config enters (URL, form), then trusted inside.

/** A parsed value, or why the text was refused (one clause, e.g. "use a whole number from 0 to 9"). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; why: string };

/** Numeric rule of a field; the page's inputs use the same min, max and step. */
export interface NumberRule {
  min: number;
  max: number;
  integer: boolean;
  /** The input's step. */
  step: number;
}

export const int = (min: number, max: number): NumberRule => ({ min, max, integer: true, step: 1 });
export const real = (min: number, max: number, step: number): NumberRule => ({ min, max, integer: false, step });

/** A number typed in the address or in a form, checked against `rule`. Hex, exponents without digits and blanks are refused. */
export function checkNumber(raw: string, rule: NumberRule): Parsed<number> {
  const text = raw.trim();
  const value = Number(text);
  const kind = rule.integer ? 'a whole number' : 'a number';
  const decimal = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text);
  if (!decimal || !Number.isFinite(value) || (rule.integer && !Number.isInteger(value)) || value < rule.min || value > rule.max) {
    return { ok: false, why: `use ${kind} from ${rule.min} to ${rule.max}` };
  }
  return { ok: true, value };
}

/** One setting of a method, as the page shows it and the address carries it. */
export type FieldSpec =
  | {
      kind: 'number';
      /** The config property. */
      key: string;
      /** What the page calls it ("KL coefficient beta"). */
      label: string;
      /** Why the default is what it is (shown beside the input). */
      reason: string;
      rule: NumberRule;
    }
  | {
      kind: 'choice';
      key: string;
      label: string;
      reason: string;
      choices: readonly string[];
    };

export type FieldValue = number | string;

/** Checks one raw value (address or form) against a field's rule. */
export function checkField(field: FieldSpec, raw: string): Parsed<FieldValue> {
  if (field.kind === 'number') return checkNumber(raw, field.rule);
  const v = raw.trim().toLowerCase();
  return field.choices.includes(v) ? { ok: true, value: v } : { ok: false, why: `use one of ${field.choices.join(', ')}` };
}
