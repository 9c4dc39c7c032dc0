// Preference labels: what a person (or a simulated annotator) answered for one pair, their
// import/export in TRL's preference format, and the weighted pairs the Bradley-Terry loss trains on.
//
// File format: JSON lines in TRL's "standard preference" layout with an explicit prompt
// (https://huggingface.co/docs/trl/dataset_formats): {"prompt": ..., "chosen": ..., "rejected": ...},
// completions without the prompt. Extra fields, which TRL ignores, keep what the format cannot say:
//   "tie": true             the annotator called the pair equal; then chosen = A and rejected = B,
//                           so a TRL trainer reading the file sees an arbitrary order. Filter these
//                           lines out (or use their weight rule below) before plain DPO/RM training.
//   "chosen_position": "B"  the chosen completion was shown on the right (omitted when it was A),
//                           so a re-import shows the pair exactly as it was labelled.
//   "id", "source", "time"  the label's identity, who labelled it, and when (ms since epoch).
// Skipped pairs ("skip") are NOT exported: they carry no preference, and TRL has no way to say so.
// Import accepts any other extra fields and ignores them; the implicit-prompt and conversational
// (list of messages) TRL layouts are rejected line by line as wrong types.
import { LABEL_SOURCES, type Choice, type Label, type LabelSource } from '../config/label';
import { hashSeed } from '../math/rng';
import { sigmoid } from '../math/stats';

export { CHOICES, LABEL_SOURCES, LabelSchema, type Choice, type Label, type LabelSource } from '../config/label';

/** One exported line. Field order is the order written. */
interface TrlRecord {
  prompt: string;
  chosen: string;
  rejected: string;
  tie?: true;
  chosen_position?: 'B';
  id: string;
  source: LabelSource;
  time: number;
}

const POSITIONS = ['A', 'B'] as const;
/** Source assumed for lines from elsewhere that do not say (TRL's datasets are human-labelled). */
const DEFAULT_SOURCE: LabelSource = 'human';

function toRecord(label: Label): TrlRecord | null {
  const { prompt, completionA: a, completionB: b, id, source, time } = label;
  switch (label.choice) {
    case 'A':
      return { prompt, chosen: a, rejected: b, id, source, time };
    case 'B':
      return { prompt, chosen: b, rejected: a, chosen_position: 'B', id, source, time };
    case 'tie':
      return { prompt, chosen: a, rejected: b, tie: true, id, source, time };
    case 'skip':
      return null;
  }
}

/** Labels as TRL preference JSON lines (one per line, newline-terminated); skips are left out. */
export function toTrlJsonl(labels: readonly Label[]): string {
  const lines: string[] = [];
  for (const label of labels) {
    const record = toRecord(label);
    if (record !== null) lines.push(JSON.stringify(record));
  }
  return lines.map((l) => l + '\n').join('');
}

export interface ImportOptions {
  /** Time given to lines without "time" (default: Date.now() at import). */
  now?: number;
  /** Id for a line without "id" (default: a hash of its content and line number). */
  makeId?: (lineNumber: number, prompt: string, chosen: string, rejected: string) => string;
}

export interface ImportResult {
  labels: Label[];
  /** One message per skipped line, each starting with "line N:" (1-based). */
  errors: string[];
}

function defaultId(lineNumber: number, prompt: string, chosen: string, rejected: string): string {
  const h = hashSeed(lineNumber, `${prompt}\u0000${chosen}\u0000${rejected}`);
  return `trl-${lineNumber}-${h.toString(36)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Problems with one parsed line, or a label built from it. */
function parseRecord(raw: Record<string, unknown>, lineNumber: number, options: ImportOptions, now: number): Label | string[] {
  const problems: string[] = [];
  for (const field of ['prompt', 'chosen', 'rejected'] as const) {
    if (!Object.hasOwn(raw, field)) problems.push(`missing "${field}"`);
    else if (typeof raw[field] !== 'string') problems.push(`"${field}" must be a string`);
  }
  const { tie, chosen_position: position, id, source, time } = raw;
  if (tie !== undefined && typeof tie !== 'boolean') problems.push('"tie" must be true or false');
  if (position !== undefined && !POSITIONS.includes(position as 'A' | 'B')) problems.push('"chosen_position" must be "A" or "B"');
  if (id !== undefined && (typeof id !== 'string' || id === '')) problems.push('"id" must be a non-empty string');
  if (source !== undefined && !LABEL_SOURCES.includes(source as LabelSource)) {
    problems.push(`"source" must be ${LABEL_SOURCES.map((s) => `"${s}"`).join(' or ')}`);
  }
  if (time !== undefined && !(typeof time === 'number' && Number.isFinite(time))) problems.push('"time" must be a number (ms since epoch)');
  if (problems.length > 0) return problems;

  const prompt = raw.prompt as string;
  const chosen = raw.chosen as string;
  const rejected = raw.rejected as string;
  const chosenIsB = position === 'B';
  return {
    id: (id as string | undefined) ?? (options.makeId ?? defaultId)(lineNumber, prompt, chosen, rejected),
    prompt,
    completionA: chosenIsB ? rejected : chosen,
    completionB: chosenIsB ? chosen : rejected,
    choice: tie === true ? 'tie' : chosenIsB ? 'B' : 'A',
    source: (source as LabelSource | undefined) ?? DEFAULT_SOURCE,
    time: (time as number | undefined) ?? now,
  };
}

/** Labels from TRL preference JSON lines. A malformed line (bad JSON, missing fields, wrong types,
 *  a repeated id) is skipped with an error naming its line number; blank lines are ignored. */
export function fromTrlJsonl(text: string, options: ImportOptions = {}): ImportResult {
  const now = options.now ?? Date.now();
  const labels: Label[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const lineNumber = i + 1;
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      errors.push(`line ${lineNumber}: not valid JSON (${(e as Error).message})`);
      return;
    }
    if (!isPlainObject(raw)) {
      errors.push(`line ${lineNumber}: expected a JSON object with "prompt", "chosen" and "rejected"`);
      return;
    }
    const parsed = parseRecord(raw, lineNumber, options, now);
    if (Array.isArray(parsed)) {
      errors.push(`line ${lineNumber}: ${parsed.join('; ')}`);
    } else if (seen.has(parsed.id)) {
      errors.push(`line ${lineNumber}: repeats id "${parsed.id}"`);
    } else {
      seen.add(parsed.id);
      labels.push(parsed);
    }
  });
  return { labels, errors };
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
