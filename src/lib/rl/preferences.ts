// Preference labels: what a person (or a simulated annotator) answered for one pair, their
// import/export in TRL's preference formats, the agreement of several annotators, and the
// weighted pairs the Bradley-Terry loss trains on.
//
// Export (https://huggingface.co/docs/trl/dataset_formats, "standard" preference with an explicit
// prompt): one JSON object per line, {"prompt": "the pizza was", "chosen": " great.", "rejected":
// " bad."}. TRL joins prompt and completion with no separator, so the space the page shows between
// them starts the completion: prompt + chosen is exactly the text the user saw (an empty completion,
// "ends at once", is ""). Extra fields, which TRL's trainers ignore, keep what the format cannot say:
//   "id"                     the label's identity (a re-import recognises labels it holds);
//   "chosen_position": "B"   the chosen completion was shown on the right (absent when it was A);
//   "annotator"              "human" or "simulated"; "annotator_preset": the simulated one's preset;
//   "model", "model_steps"   the model that wrote the pair ("base", or a method such as "ppo") and
//                            after how many of its steps (absent when the page did not record it);
//   "time"                   when it was labelled, in ms since epoch.
// Ties are NOT in the preference file: TRL would read any chosen/rejected line as a preference
// (earlier versions of this page wrote "tie": true, which TRL ignores, so it trained on ties as
// wins for A). They go to their own file of TIE lines: {"prompt", "completion_a", "completion_b",
// "tie": true, ...the same extra fields}, which no TRL trainer takes for a preference (it has no
// "chosen"). Skips carry no preference and are not exported at all.
//
// Import reads TRL's standard and conversational preference formats, each with an explicit or an
// implicit prompt (the prompt written into both chosen and rejected: the longest common prefix at
// a word boundary, or the messages both lists start with), the tie lines above, and this page's
// older exports ("source", "tie": true). Lines are checked with valibot schemas; a bad line is
// skipped with a message naming its line number; a line without "id" gets one hashed from its
// content, so the same file imported twice holds each label once.
import * as v from 'valibot';
import { LABEL_SOURCES, type Choice, type Label, type LabelOrigin, type LabelSource } from '../config/label';
import { hashSeed } from '../math/rng';
import { sigmoid } from '../math/stats';

export { CHOICES, LABEL_SOURCES, LabelSchema, MAX_IMPORT_BYTES, type Choice, type Label, type LabelOrigin, type LabelSource } from '../config/label';

/** The field names TRL's preference trainers read (RewardTrainer, DPOTrainer). */
export const TRL_PREFERENCE_FIELDS = ['prompt', 'chosen', 'rejected'] as const;

/** Source assumed for lines from elsewhere that do not say (TRL's datasets are human-labelled). */
const DEFAULT_SOURCE: LabelSource = 'human';

// ---- export ----

/** A completion as TRL reads it: the separating space first, so that prompt + completion is the text shown. */
export function trlCompletion(completion: string): string {
  return completion === '' ? '' : ` ${completion}`;
}

/** A completion from a TRL file: one separating space dropped (TRL's convention; files without it are read as they are). */
function pageCompletion(text: string): string {
  return text.startsWith(' ') ? text.slice(1) : text;
}

/** The extra fields of a line, in the order written. */
function provenance(label: Label): Record<string, string | number> {
  const extra: Record<string, string | number> = { id: label.id, annotator: label.source };
  if (label.preset !== undefined) extra.annotator_preset = label.preset;
  if (label.origin !== undefined) {
    extra.model = label.origin.from;
    extra.model_steps = label.origin.steps;
  }
  extra.time = label.time;
  return extra;
}

function preferenceRecord(label: Label): Record<string, unknown> | null {
  const { prompt, completionA: a, completionB: b } = label;
  switch (label.choice) {
    case 'A':
      return { prompt, chosen: trlCompletion(a), rejected: trlCompletion(b), ...provenance(label) };
    case 'B':
      return { prompt, chosen: trlCompletion(b), rejected: trlCompletion(a), chosen_position: 'B', ...provenance(label) };
    case 'tie':
    case 'skip':
      return null;
  }
}

const jsonLines = (records: readonly Record<string, unknown>[]): string => records.map((r) => JSON.stringify(r) + '\n').join('');

/** Labels as TRL preference JSON lines (one per line, newline-terminated): A and B answers only. */
export function toTrlJsonl(labels: readonly Label[]): string {
  return jsonLines(labels.map(preferenceRecord).filter((r) => r !== null));
}

/** The ties as their own JSON lines (see the header: no "chosen", so TRL cannot take them for a preference). */
export function tiesJsonl(labels: readonly Label[]): string {
  return jsonLines(
    labels
      .filter((l) => l.choice === 'tie')
      .map((l) => ({ prompt: l.prompt, completion_a: trlCompletion(l.completionA), completion_b: trlCompletion(l.completionB), tie: true, ...provenance(l) })),
  );
}

export interface LabelExport {
  /** TRL preference JSONL (A and B answers). */
  preferences: string;
  /** Tie lines (empty when there is none). */
  ties: string;
  counts: { preferences: number; ties: number; skips: number };
}

export function exportLabels(labels: readonly Label[]): LabelExport {
  const count = (c: Choice) => labels.filter((l) => l.choice === c).length;
  return {
    preferences: toTrlJsonl(labels),
    ties: tiesJsonl(labels),
    counts: { preferences: count('A') + count('B'), ties: count('tie'), skips: count('skip') },
  };
}

// ---- import: the line schemas ----

const text = v.string('must be text');
const Message = v.looseObject({ role: text, content: text });
const Messages = v.pipe(v.array(Message, 'must be a list of {"role", "content"} messages'), v.minLength(1, 'must hold at least one message'));

/** The optional extra fields (this page's and its older exports'); any others are ignored. */
const EXTRA_ENTRIES = {
  id: v.optional(v.pipe(v.string('must be text'), v.nonEmpty('must not be empty'))),
  chosen_position: v.optional(v.picklist(['A', 'B'], 'must be "A" or "B"')),
  annotator: v.optional(v.picklist(LABEL_SOURCES, `must be ${LABEL_SOURCES.map((s) => `"${s}"`).join(' or ')}`)),
  source: v.optional(v.picklist(LABEL_SOURCES, `must be ${LABEL_SOURCES.map((s) => `"${s}"`).join(' or ')}`)),
  annotator_preset: v.optional(v.pipe(v.string('must be text'), v.nonEmpty('must not be empty'))),
  model: v.optional(v.pipe(v.string('must be text'), v.nonEmpty('must not be empty'))),
  model_steps: v.optional(v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(0, 'must be 0 or more'))),
  time: v.optional(v.pipe(v.number('must be a number (ms since epoch)'), v.finite('must be a finite number'))),
  tie: v.optional(v.boolean('must be true or false')),
};

/** The line layouts read, each a schema; `FORMAT_NAMES` says what each is called in messages. */
const LAYOUTS = {
  standard: v.looseObject({ prompt: text, chosen: text, rejected: text, ...EXTRA_ENTRIES }),
  standardImplicit: v.looseObject({ chosen: text, rejected: text, ...EXTRA_ENTRIES }),
  conversational: v.looseObject({ prompt: Messages, chosen: Messages, rejected: Messages, ...EXTRA_ENTRIES }),
  conversationalImplicit: v.looseObject({ chosen: Messages, rejected: Messages, ...EXTRA_ENTRIES }),
  ties: v.looseObject({ prompt: text, completion_a: text, completion_b: text, ...EXTRA_ENTRIES, tie: v.literal(true, 'must be true') }),
};
export type LineFormat = keyof typeof LAYOUTS;

export const FORMAT_NAMES: Readonly<Record<LineFormat, string>> = {
  standard: "TRL's standard format",
  standardImplicit: "TRL's standard format with an implicit prompt",
  conversational: "TRL's conversational format",
  conversationalImplicit: "TRL's conversational format with an implicit prompt",
  ties: "this page's tie format",
};

/** Which layout a parsed line claims to be, from the shape of its fields (the schema then checks it). */
function layoutOf(raw: Record<string, unknown>): LineFormat {
  if (Object.hasOwn(raw, 'completion_a') || Object.hasOwn(raw, 'completion_b')) return 'ties';
  const conversational = Array.isArray(raw.chosen) || Array.isArray(raw.rejected);
  const explicit = Object.hasOwn(raw, 'prompt');
  if (conversational) return explicit ? 'conversational' : 'conversationalImplicit';
  return explicit ? 'standard' : 'standardImplicit';
}

/** One valibot issue as a phrase: `"chosen" must be text`, `missing "rejected"`. */
function issueText(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? []).map((p, i) => (typeof p.key === 'number' ? `[${p.key}]` : i === 0 ? String(p.key) : `.${String(p.key)}`)).join('');
  if (issue.received === 'undefined' && issue.expected?.startsWith('"')) return `missing "${path}"`;
  return `"${path}" ${issue.message}`;
}

// ---- import: from a checked line to a label ----

/** Contents of messages as one text (a multi-turn prompt is read as its turns in order, space-separated). */
const joined = (messages: readonly { content: string }[]): string => messages.map((m) => m.content).join(' ');

/**
 * The implicit prompt of two texts: their longest common prefix cut back to a word boundary (the
 * last whitespace both share), and what follows it in each. Null when they share no whole word.
 */
export function splitImplicitPrompt(chosen: string, rejected: string): { prompt: string; chosen: string; rejected: string } | null {
  let n = 0;
  while (n < chosen.length && n < rejected.length && chosen[n] === rejected[n]) n++;
  const whole = (s: string) => n === s.length || /\s/.test(s[n]); // the prefix ends where a word ends in s
  if (!(whole(chosen) && whole(rejected))) {
    while (n > 0 && !/\s/.test(chosen[n - 1])) n--;
    if (n > 0) n--; // the space itself starts the completions (TRL's convention)
  }
  const prompt = chosen.slice(0, n).trimEnd();
  if (prompt === '') return null;
  const cut = prompt.length;
  return { prompt, chosen: chosen.slice(cut), rejected: rejected.slice(cut) };
}

type Extras = { [K in keyof typeof EXTRA_ENTRIES]?: v.InferOutput<(typeof EXTRA_ENTRIES)[K]> };

/** Prompt and the two completions of a checked line, A first (chosen first unless chosen_position is B), or why not. */
function texts(format: LineFormat, line: Record<string, unknown>): { prompt: string; a: string; b: string; tie: boolean } | string {
  const x = line as Extras & Record<string, unknown>;
  const chosenIsB = x.chosen_position === 'B';
  const order = (prompt: string, chosen: string, rejected: string, tie: boolean) =>
    chosenIsB ? { prompt, a: rejected, b: chosen, tie } : { prompt, a: chosen, b: rejected, tie };
  switch (format) {
    case 'standard':
      return order(line.prompt as string, pageCompletion(line.chosen as string), pageCompletion(line.rejected as string), x.tie === true);
    case 'standardImplicit': {
      const split = splitImplicitPrompt(line.chosen as string, line.rejected as string);
      if (!split) return '"chosen" and "rejected" share no first word, so no prompt can be taken from them';
      return order(split.prompt, pageCompletion(split.chosen), pageCompletion(split.rejected), x.tie === true);
    }
    case 'conversational':
      return order(joined(line.prompt as { content: string }[]), joined(line.chosen as { content: string }[]), joined(line.rejected as { content: string }[]), x.tie === true);
    case 'conversationalImplicit': {
      const chosen = line.chosen as { role: string; content: string }[];
      const rejected = line.rejected as { role: string; content: string }[];
      let n = 0;
      while (n < chosen.length - 1 && n < rejected.length - 1 && chosen[n].role === rejected[n].role && chosen[n].content === rejected[n].content) n++;
      if (n === 0) return '"chosen" and "rejected" share no first message, so no prompt can be taken from them';
      return order(joined(chosen.slice(0, n)), joined(chosen.slice(n)), joined(rejected.slice(n)), x.tie === true);
    }
    case 'ties':
      return { prompt: line.prompt as string, a: pageCompletion(line.completion_a as string), b: pageCompletion(line.completion_b as string), tie: true };
  }
}

/** An id from a line's content (64 bits of two seeded hashes): the same pair and answer give the same id. */
export function contentId(prompt: string, a: string, b: string, choice: Choice): string {
  const key = [prompt, a, b, choice].join('\u0000');
  return `trl-${hashSeed(0x9e37, key).toString(36)}${hashSeed(0x85eb, key).toString(36)}`;
}

function originOf(x: Extras): LabelOrigin | undefined {
  return x.model === undefined ? undefined : { from: x.model, steps: x.model_steps ?? 0 };
}

export interface ImportOptions {
  /** Time given to lines without "time" (default: Date.now() at import). */
  now?: number;
  /** Why a label cannot be used here (unknown words, too long), or null: the run's checkLabel. */
  check?: (label: Label) => string | null;
}

export interface ImportResult {
  labels: Label[];
  /** One message per skipped line, each starting with "line N:" (1-based). */
  errors: string[];
  /** Lines read (not blank), and how many of the accepted ones were in each format. */
  lines: number;
  formats: Partial<Record<LineFormat, number>>;
}

/** Labels from preference JSON lines (any layout above). A malformed line is skipped with an error
 *  naming its line number, never thrown; blank lines are ignored. */
export function fromTrlJsonl(input: string, options: ImportOptions = {}): ImportResult {
  const now = options.now ?? Date.now();
  const result: ImportResult = { labels: [], errors: [], lines: 0, formats: {} };
  const seen = new Map<string, number>(); // id -> the line that gave it
  input.split(/\r?\n/).forEach((line, i) => {
    const lineNumber = i + 1;
    if (line.trim() === '') return;
    result.lines += 1;
    const fail = (why: string) => result.errors.push(`line ${lineNumber}: ${why}`);
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      fail(`not valid JSON (${(e as Error).message})`);
      return;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      fail('expected a JSON object with "prompt", "chosen" and "rejected"');
      return;
    }
    const format = layoutOf(raw as Record<string, unknown>);
    const parsed = v.safeParse(LAYOUTS[format], raw);
    if (!parsed.success) {
      fail(parsed.issues.map(issueText).join('; '));
      return;
    }
    const extras = parsed.output as Extras;
    const got = texts(format, parsed.output);
    if (typeof got === 'string') {
      fail(got);
      return;
    }
    const choice: Choice = got.tie ? 'tie' : extras.chosen_position === 'B' ? 'B' : 'A';
    const label: Label = {
      id: extras.id ?? contentId(got.prompt, got.a, got.b, choice),
      prompt: got.prompt,
      completionA: got.a,
      completionB: got.b,
      choice,
      source: extras.annotator ?? extras.source ?? DEFAULT_SOURCE,
      time: extras.time ?? now,
    };
    if (extras.annotator_preset !== undefined) label.preset = extras.annotator_preset;
    const origin = originOf(extras);
    if (origin) label.origin = origin;
    const earlier = seen.get(label.id);
    if (earlier !== undefined) {
      fail(extras.id === undefined ? `repeats line ${earlier} (the same pair and answer)` : `repeats the id "${label.id}" of line ${earlier}`);
      return;
    }
    const why = options.check?.(label) ?? null;
    if (why) {
      fail(why);
      return;
    }
    seen.set(label.id, lineNumber);
    result.labels.push(label);
    result.formats[format] = (result.formats[format] ?? 0) + 1;
  });
  return result;
}

/** What an import read, in words: "read 40 lines in TRL's conversational format" (formats by count, most first). */
export function describeFormats(formats: Partial<Record<LineFormat, number>>): string {
  const parts = (Object.entries(formats) as [LineFormat, number][])
    .sort((x, y) => y[1] - x[1])
    .map(([f, n]) => `${n} line${n === 1 ? '' : 's'} in ${FORMAT_NAMES[f]}`);
  return parts.length === 0 ? 'no line in a known format' : parts.join(', ');
}

// ---- agreement between annotators ----

/** A pair whoever showed it on whichever side: the prompt and the two completions, sorted. */
function pairKey(l: Label): string {
  const [x, y] = [l.completionA, l.completionB].sort();
  return [l.prompt.trim().toLowerCase(), x, y].join('\u0000');
}

/** What an answer says about a pair, independent of sides: the preferred completion's text, or a tie. */
function verdictOf(l: Label): string {
  return l.choice === 'tie' ? '\u0000tie' : l.choice === 'A' ? l.completionA : l.completionB;
}

export interface Agreement {
  /** Pairs that two or more annotators answered (A, B or tie). */
  shared: number;
  /** Of those, pairs where they all gave the same answer. */
  same: number;
  /** same / shared; null with no shared pair. */
  fraction: number | null;
}

/** Agreement between annotators (one label list each) on the pairs they share; an annotator's own repeats count once (its latest answer). */
export function agreement(annotators: readonly (readonly Label[])[]): Agreement {
  const answers = new Map<string, string[]>(); // pair -> the answer of each annotator that answered it
  for (const labels of annotators) {
    const own = new Map<string, string>();
    for (const l of labels) if (l.choice !== 'skip') own.set(pairKey(l), verdictOf(l));
    for (const [key, verdict] of own) answers.set(key, [...(answers.get(key) ?? []), verdict]);
  }
  let shared = 0;
  let same = 0;
  for (const list of answers.values()) {
    if (list.length < 2) continue;
    shared += 1;
    if (list.every((x) => x === list[0])) same += 1;
  }
  return { shared, same, fraction: shared === 0 ? null : same / shared };
}

// ---------------------------------------------------------------------------------------------
// Training pairs for the Bradley-Terry loss: loss = -sum_i weight_i * log sigma(r(chosen_i) - r(rejected_i))
// (divided by the sum of weights).
//
// Tie rule: a tie contributes both orderings with weight 1/2 each, so its loss is
//   -1/2 log sigma(d) - 1/2 log sigma(-d),   d = r(A) - r(B),
// which is minimised at d = 0 (value log 2, gradient (sigma(d) - 1/2) is zero there): the reward
// model learns to score tied completions equally, and a tie weighs as much as one A/B label in
// total. Skips carry no preference and give no pair.

export interface ComparisonPair {
  prompt: string;
  chosen: string;
  rejected: string;
  weight: number;
}

/** Weight of each of a tie's two orderings. */
export const TIE_WEIGHT = 0.5;

/** A tie counts as matched when the reward model's P(A > B) is within 0.5 +- this. */
export const TIE_BAND = 0.1;

/** Whether a reward model with Bradley-Terry logit `d` = r(chosen) - r(rejected) agrees with a pair of `weight` (a tie: weight < 1). */
export function pairAgrees(weight: number, d: number): boolean {
  return weight < 1 ? Math.abs(sigmoid(d) - 0.5) <= TIE_BAND : d > 0;
}

const PAIRS_OF: Readonly<Record<Choice, (l: Label) => ComparisonPair[]>> = {
  A: (l) => [{ prompt: l.prompt, chosen: l.completionA, rejected: l.completionB, weight: 1 }],
  B: (l) => [{ prompt: l.prompt, chosen: l.completionB, rejected: l.completionA, weight: 1 }],
  tie: (l) => [
    { prompt: l.prompt, chosen: l.completionA, rejected: l.completionB, weight: TIE_WEIGHT },
    { prompt: l.prompt, chosen: l.completionB, rejected: l.completionA, weight: TIE_WEIGHT },
  ],
  skip: () => [],
};

/** The weighted pairs the reward model trains on, in label order. */
export function comparisonPairs(labels: readonly Label[]): ComparisonPair[] {
  return labels.flatMap((l) => PAIRS_OF[l.choice](l));
}
