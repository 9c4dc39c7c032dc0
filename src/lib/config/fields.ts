// Typed config fields: one row per setting with its default, the reason for that default, the
// range a user may set and the key it has in the page address. The URL table (url.ts), the
// method registry (rl/methods), the scripts' JSON options and the page's inputs all read these
// rows; each row's rule becomes one valibot schema here, so a rule is written once and checked
// where config enters (URL, form, command line), then trusted inside.
import * as v from 'valibot';

/** A parsed value, or why the text was refused (one clause, e.g. "use a whole number from 0 to 9"). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; why: string };

/**
 * A value read from the page address, which is lenient where the meaning is plain: taken as
 * written, pulled to the nearest bound of its range (`why` says what was allowed), or refused
 * (wrong type, hex, an unknown choice; the default stays).
 */
export type AddressRead<T> = { kind: 'taken'; value: T } | { kind: 'clamped'; value: T; why: string } | { kind: 'refused'; why: string };

/** The notice for a value of the address that was not taken as written (null when it was), worded alike for the page and the worker. */
export function addressProblem(label: string, key: string, raw: string, read: AddressRead<unknown>, using: string): string | null {
  const written = `"${raw}" in the address (?${key}=${raw})`;
  switch (read.kind) {
    case 'taken':
      return null;
    case 'clamped':
      return `The ${label} ${written} is out of range (${read.why}); using ${using}.`;
    case 'refused':
      return `Bad ${label} ${written}: ${read.why}; using ${using}.`;
  }
}

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

/** Digits with an optional point and exponent, as a person writes a number: hex (0x1), binary, Infinity and blanks are not. */
const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** The allowed values of a rule, as one clause of a message. */
function ruleWords(rule: NumberRule): string {
  return `use ${rule.integer ? 'a whole number' : 'a number'} from ${rule.min} to ${rule.max}`;
}

/** A number of the rule's kind (finite; whole where the rule says so), before its range. */
function kindSchema(rule: NumberRule) {
  const why = ruleWords(rule);
  return v.pipe(
    v.number(why),
    v.finite(why),
    v.check((n) => !rule.integer || Number.isInteger(n), why),
  );
}

/** A JSON number under `rule` (a command-line patch, a stored setting). */
export function numberSchema(rule: NumberRule) {
  const why = ruleWords(rule);
  return v.pipe(kindSchema(rule), v.minValue(rule.min, why), v.maxValue(rule.max, why));
}

/** Text (address, form) that writes a decimal number of the rule's kind, before its range. */
function numberTextSchema(rule: NumberRule) {
  const why = ruleWords(rule);
  return v.pipe(v.string(why), v.trim(), v.regex(DECIMAL_RE, why), v.transform(Number), kindSchema(rule));
}

function parsedOf<T>(result: v.SafeParseResult<v.GenericSchema<unknown, T>>): Parsed<T> {
  return result.success ? { ok: true, value: result.output } : { ok: false, why: result.issues[0].message };
}

/** A number typed in a form (or a strict option), checked against `rule`: out of range is refused. */
export function checkNumber(raw: string, rule: NumberRule): Parsed<number> {
  return parsedOf(v.safeParse(v.pipe(numberTextSchema(rule), v.minValue(rule.min, ruleWords(rule)), v.maxValue(rule.max, ruleWords(rule))), raw));
}

/** A number written in the address: out of range is clamped to the nearest bound, the wrong kind refused. */
export function readNumber(raw: string, rule: NumberRule): AddressRead<number> {
  const parsed = parsedOf(v.safeParse(numberTextSchema(rule), raw));
  if (!parsed.ok) return { kind: 'refused', why: parsed.why };
  const value = Math.min(rule.max, Math.max(rule.min, parsed.value));
  return value === parsed.value ? { kind: 'taken', value } : { kind: 'clamped', value, why: ruleWords(rule) };
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

/** The allowed choices, as one clause of a message. */
function choiceWords(choices: readonly string[]): string {
  return `use one of ${choices.join(', ')}`;
}

/** A choice typed or picked (trimmed, any case), checked against `choices`. */
export function checkChoice<T extends string>(raw: string, choices: readonly T[]): Parsed<T> {
  return parsedOf(v.safeParse(v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist(choices, choiceWords(choices))), raw));
}

/** Checks one raw value typed in a form against a field's rule. */
export function checkField(field: FieldSpec, raw: string): Parsed<FieldValue> {
  return field.kind === 'number' ? checkNumber(raw, field.rule) : checkChoice(raw, field.choices);
}

/** Reads one raw value of the address by a field's rule (a number out of range is clamped). */
export function readField(field: FieldSpec, raw: string): AddressRead<FieldValue> {
  if (field.kind === 'number') return readNumber(raw, field.rule);
  const parsed = checkChoice(raw, field.choices);
  return parsed.ok ? { kind: 'taken', value: parsed.value } : { kind: 'refused', why: parsed.why };
}

/** The rule of one setting in a JSON patch: a number rule, or the allowed choices. */
export type Rule = NumberRule | readonly string[];

/** The schema of one JSON value under `rule`. */
function ruleSchema(rule: Rule): v.GenericSchema<unknown, FieldValue> {
  return isChoices(rule) ? v.picklist(rule, choiceWords(rule)) : numberSchema(rule);
}

function isChoices(rule: Rule): rule is readonly string[] {
  return Array.isArray(rule);
}

/** A JSON object of some of the keys of `rules` (a settings patch): an unknown key or a value outside its rule is an issue. */
export function rulesSchema(rules: Readonly<Record<string, Rule>>): v.GenericSchema<unknown, Record<string, FieldValue | undefined>> {
  const entries = Object.fromEntries(Object.entries(rules).map(([key, rule]) => [key, v.optional(ruleSchema(rule))]));
  return v.strictObject(entries, `use an object with some of the keys ${Object.keys(rules).join(', ')}`);
}

/** The rule table of a method's fields, for rulesSchema. */
export function fieldRules(fields: readonly FieldSpec[]): Record<string, Rule> {
  return Object.fromEntries(fields.map((f) => [f.key, f.kind === 'number' ? f.rule : f.choices]));
}
