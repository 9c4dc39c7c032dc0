// The one table that maps the run's shareable config to the page address and back (after
// tensorflow/playground's state.ts: a list of typed properties, one loop to parse, one to write,
// the seed included, so that a link reproduces a run). The same rules validate the page's live
// controls (CONVENTIONS.md habit 2: check at the boundary, trust inside).
// A bad value never breaks the page: reading reports it in one readable line, pulls a number
// outside its range to the nearest bound and otherwise keeps the default; the page then writes
// the address back as what is in force (addressInForce), so a shared link never repeats a warning.
// Settings after `#` are read too (the hash is read like a query, after it: a key set in both
// takes the hash's value, as the last of a repeated key always does). Keys another part of the
// page reads (RESERVED_KEYS) are left where they are, in either part.
// Method settings (`ppo.lr=1e-4`, `methods=ppo,grpo`) are carried raw: the method registry lives
// with tfjs in the worker, which reads them by each field's rule and says what it changed; the
// page then writes what the worker runs (methodsInForce).
import * as v from 'valibot';
import { addressProblem, checkChoice, int, readNumber, real, type AddressRead, type NumberRule } from './fields';
import {
  ANNOTATOR_PRESET_NAMES,
  BACKEND_NAMES,
  DEFAULT_PAIRS,
  GOLD_KINDS,
  DEFAULT_REWARD_SETTINGS,
  maxThreads,
  PAIR_RULES,
  PAIR_SELECTIONS,
  type AnnotatorSettings,
  type BackendName,
  type PairSettings,
  type RewardSettings,
} from './run';
import { REWARD_RULES } from './reward';
import { VIEW_KEYS } from './view';

export { checkNumber, type NumberRule } from './fields';

/**
 * The address parameter that carries labels in a share link (config/share-labels.ts encodes it).
 * It is not a setting (a RESERVED_KEY): the page reads it, then removes it from the address.
 */
export const LABELS_PARAM = 'labels';

/** The `labels=` value of an address, or null when it has none. */
export function labelsParam(search: string): string | null {
  return new URLSearchParams(search).get(LABELS_PARAM);
}

/** `search` without the labels parameter (the page drops it once the labels are loaded, so a reload does not load them again). */
export function withoutLabelsParam(search: string): string {
  const params = new URLSearchParams(search);
  params.delete(LABELS_PARAM);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/**
 * Address keys that other parts of the page read for themselves (the share link's compressed
 * labels travel in `?labels=`): this table neither reads, reports nor rewrites them.
 */
export const RESERVED_KEYS: readonly string[] = [LABELS_PARAM];

/** How autopilot paces itself (the page's side; the annotator itself is AnnotatorSettings). */
export interface AutopilotSettings {
  /** Milliseconds between two autopilot labels: slow enough to watch in a lecture. */
  paceMs: number;
  /** Autopilot presses Train once this many labels exist (0: never). */
  trainAfter: number;
}

/** Everything a shared link reproduces. */
export interface RunConfig {
  seed: number;
  /** null: the worker chooses (WebGPU on a real GPU, else WASM, ...). */
  backend: BackendName | null;
  /** WASM threads, 1 to the machine's cores (where the page is cross-origin isolated); null: tfjs-backend-wasm's choice, half the logical cores. */
  threads: number | null;
  /** Which methods train (in order) and their settings, as the address wrote them (`method.field` -> text). */
  methods: { enabled: string[]; params: Record<string, string> };
  reward: RewardSettings;
  pairs: PairSettings;
  annotator: AnnotatorSettings;
  autopilot: AutopilotSettings;
}

export const DEFAULT_RUN_CONFIG: RunConfig = {
  seed: 1, // any fixed seed: the same link gives the same run
  backend: null,
  threads: null, // the library's half of the cores: on a busy 2-core machine 2 threads ran PPO 3-5x slower than 1 (README)
  methods: { enabled: ['ppo'], params: {} }, // PPO, InstructGPT's recipe, until the user ticks others
  reward: DEFAULT_REWARD_SETTINGS,
  pairs: DEFAULT_PAIRS,
  annotator: { preset: 'positive', word: '', noise: 0.1, tieRule: 'random', gold: 'grammar' }, // prototype2's annotator; its gold sees grammar
  autopilot: {
    paceMs: 1500, // about one label per 1.5 s: a lecture can follow each click
    trainAfter: 20, // prototype2: 25-50 labels reach 0.78-0.80 RM accuracy; PPO can start a little before
  },
};

/** One row of the table: a URL key and the config field it stands for. */
export interface UrlField<T = unknown> {
  key: string;
  /** What the field is, for messages ("seed", "learning rate"). */
  label: string;
  get(c: RunConfig): T;
  set(c: RunConfig, v: T): void;
  /** Reads the address's text; a number outside its range is clamped. */
  read(raw: string): AddressRead<T>;
  format(v: T): string;
}

export interface NumberField extends UrlField<number> {
  rule: NumberRule;
}

function numberField(
  key: string,
  label: string,
  rule: NumberRule,
  get: (c: RunConfig) => number,
  set: (c: RunConfig, v: number) => void,
): NumberField {
  return {
    key,
    label,
    rule,
    get,
    set,
    read: (raw) => readNumber(raw, rule),
    format: (v) => String(v),
  };
}

function choiceField<T extends string>(
  key: string,
  label: string,
  values: readonly T[],
  get: (c: RunConfig) => T,
  set: (c: RunConfig, v: T) => void,
): UrlField<T> {
  return {
    key,
    label,
    get,
    set,
    read: (raw) => choiceRead(raw, values),
    format: (v) => v,
  };
}

/** A choice of the address: taken, or refused (there is no nearest choice). */
function choiceRead<T extends string>(raw: string, values: readonly T[]): AddressRead<T> {
  const parsed = checkChoice(raw, values);
  return parsed.ok ? { kind: 'taken', value: parsed.value } : { kind: 'refused', why: parsed.why };
}

/** The result of a valibot schema for text of the address: taken, or refused with the schema's words. */
function schemaRead<T>(schema: v.GenericSchema<string, T>, raw: string): AddressRead<T> {
  const result = v.safeParse(schema, raw);
  return result.success ? { kind: 'taken', value: result.output } : { kind: 'refused', why: result.issues[0].message };
}

const MAX_SEED = 0xffffffff; // the Rng's seed is 32 bits
const WORD_WHY = 'use one lower-case word';
/** The 'mentions' annotator's word: letters and apostrophes, as the corpus writes words. */
const WORD_SCHEMA = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.regex(/^[a-z']*$/, WORD_WHY));
const METHODS_WHY = 'use method names separated by commas, e.g. ppo,grpo';
/** `ppo,grpo`: registry names (the worker checks they exist), each once, in order. */
const METHODS_SCHEMA = v.pipe(
  v.string(),
  v.transform((raw: string) => raw.split(',').map((m) => m.trim().toLowerCase()).filter((m) => m !== '')),
  v.array(v.pipe(v.string(), v.regex(/^[a-z-]+$/, METHODS_WHY)), METHODS_WHY),
  v.minLength(1, METHODS_WHY),
  v.transform((names: string[]) => [...new Set(names)]),
);

export const ANNOTATOR_FIELDS = {
  preset: choiceField('annotator', 'annotator preset', ANNOTATOR_PRESET_NAMES, (c) => c.annotator.preset, (c, v) => (c.annotator = { ...c.annotator, preset: v })),
  noise: numberField('noise', 'annotator noise', real(0, 0.5, 0.01), (c) => c.annotator.noise, (c, v) => (c.annotator = { ...c.annotator, noise: v })),
  word: {
    key: 'word',
    label: 'annotator word',
    get: (c) => c.annotator.word,
    set: (c, v) => (c.annotator = { ...c.annotator, word: v }),
    read: (raw) => schemaRead(WORD_SCHEMA, raw),
    format: (v) => v,
  } satisfies UrlField<string>,
  gold: choiceField('gold', 'gold judge', GOLD_KINDS, (c) => c.annotator.gold, (c, v) => (c.annotator = { ...c.annotator, gold: v })),
  paceMs: numberField('pace', 'autopilot pace (ms per label)', int(0, 60_000), (c) => c.autopilot.paceMs, (c, v) => (c.autopilot = { ...c.autopilot, paceMs: v })),
  trainAfter: numberField('trainAfter', 'labels before autopilot trains', int(0, 10_000), (c) => c.autopilot.trainAfter, (c, v) => (c.autopilot = { ...c.autopilot, trainAfter: v })),
} as const;

export const REWARD_FIELDS = {
  incrementalSteps: numberField('rmSteps', 'reward-model steps per label', REWARD_RULES.incrementalSteps, (c) => c.reward.incrementalSteps, (c, v) => (c.reward = { ...c.reward, incrementalSteps: v })),
  refitSteps: numberField('refitSteps', 'refit steps', REWARD_RULES.refitSteps, (c) => c.reward.refitSteps, (c, v) => (c.reward = { ...c.reward, refitSteps: v })),
  refitEvery: numberField('refitEvery', 'labels between refits', int(0, 10_000), (c) => c.reward.refitEvery, (c, v) => (c.reward = { ...c.reward, refitEvery: v })),
  ensembleSize: numberField('ensemble', 'reward-model ensemble size', REWARD_RULES.ensembleSize, (c) => c.reward.ensembleSize, (c, v) => (c.reward = { ...c.reward, ensembleSize: v })),
} as const;

/** Every field, in the order the address lists them. */
export const URL_FIELDS: readonly UrlField[] = [
  numberField('seed', 'seed', int(0, MAX_SEED), (c) => c.seed, (c, v) => (c.seed = v)),
  {
    key: 'backend',
    label: 'backend',
    get: (c) => c.backend,
    set: (c, v) => (c.backend = v),
    read: (raw) => choiceRead(raw, BACKEND_NAMES),
    format: (v) => v ?? '',
  } satisfies UrlField<BackendName | null>,
  {
    key: 'threads',
    label: 'WASM threads',
    get: (c) => c.threads,
    set: (c, v) => (c.threads = v),
    // The bound is this machine's, read when the address is parsed.
    read: (raw) => readNumber(raw, int(1, maxThreads())),
    format: (v) => (v === null ? '' : String(v)),
  } satisfies UrlField<number | null>,
  {
    key: 'methods',
    label: 'methods',
    get: (c) => c.methods.enabled,
    set: (c, v) => (c.methods = { ...c.methods, enabled: v }),
    read: (raw) => schemaRead(METHODS_SCHEMA, raw),
    format: (v) => v.join(','),
  } satisfies UrlField<string[]>,
  ...Object.values(REWARD_FIELDS),
  numberField('candidates', 'candidates per pair', PAIR_RULES.candidates, (c) => c.pairs.candidates, (c, v) => (c.pairs = { ...c.pairs, candidates: v })),
  choiceField('selection', 'pair selection', PAIR_SELECTIONS, (c) => c.pairs.selection, (c, v) => (c.pairs = { ...c.pairs, selection: v })),
  numberField('warmup', 'labels before disagreement selection', PAIR_RULES.warmupLabels, (c) => c.pairs.warmupLabels, (c, v) => (c.pairs = { ...c.pairs, warmupLabels: v })),
  ...Object.values(ANNOTATOR_FIELDS),
];

/** A deep copy of the defaults, safe to change. */
export function defaultRunConfig(): RunConfig {
  return structuredClone(DEFAULT_RUN_CONFIG);
}

export interface ParsedRunConfig {
  config: RunConfig;
  /** One readable line per parameter that was clamped (the bound is used) or refused (the default was kept). */
  problems: string[];
}

/** The run config of address parameters with one value per key (readAddress's `search`); other keys are not this table's. */
export function parseRunConfig(search: string): ParsedRunConfig {
  const params = new URLSearchParams(search);
  const config = defaultRunConfig();
  const problems: string[] = [];
  for (const [key, value] of params) if (isMethodKey(key)) config.methods.params[key] = value;
  for (const field of URL_FIELDS) {
    const raw = params.get(field.key);
    if (raw === null) continue;
    const read = field.read(raw);
    if (read.kind !== 'refused') field.set(config, read.value);
    const using = field.format(field.get(config)) || 'automatic';
    const problem = addressProblem(field.label, field.key, raw, read, using);
    if (problem) problems.push(problem);
  }
  return { config, problems };
}

/** `method.field`: a method's setting, checked by the worker. */
function isMethodKey(key: string): boolean {
  return key.includes('.');
}

function isReserved(key: string): boolean {
  return RESERVED_KEYS.includes(key);
}

/** Whether a hash holds settings (`#seed=5`) rather than a place in the page (`#how-bt`), which is left alone. */
function hashHasSettings(hash: string): boolean {
  return hash.includes('=');
}

/** The keys the page reads from the address: this table's, the view's (view.ts), method settings. */
function isKnownKey(key: string): boolean {
  return isMethodKey(key) || URL_FIELDS.some((f) => f.key === key) || (VIEW_KEYS as readonly string[]).includes(key);
}

export interface AddressParams {
  /** The settings of the query and the hash, one value per key, reserved and unknown keys left out. */
  search: string;
  /** A repeated or unknown key, one readable line each. */
  problems: string[];
}

/**
 * The settings of a page address (`location.search`, `location.hash`): the query, then the hash
 * read as a query. A key given more than once (`?seed=1&seed=2`, or in both parts) takes its last
 * value, and says so when the values differ; an unknown key is ignored with a notice.
 */
export function readAddress(search: string, hash = ''): AddressParams {
  const values = new Map<string, string[]>();
  const parts = [new URLSearchParams(search), new URLSearchParams(hashHasSettings(hash) ? hash.replace(/^#/, '') : '')];
  for (const part of parts) {
    for (const [key, value] of part) {
      if (!isReserved(key)) values.set(key, [...(values.get(key) ?? []), value]);
    }
  }
  const merged = new URLSearchParams();
  const problems: string[] = [];
  for (const [key, all] of values) {
    const last = all[all.length - 1];
    if (!isKnownKey(key)) {
      problems.push(`Unknown setting "${key}" in the address (?${key}=${last}): ignored. A method's settings are written method.field, e.g. ppo.lr.`);
      continue;
    }
    if (new Set(all).size > 1) problems.push(`The address gives ${key} ${all.length} times (${all.map((x) => `${key}=${x}`).join(', ')}); using the last, ${key}=${last}.`);
    merged.set(key, last);
  }
  const s = merged.toString();
  return { search: s ? `?${s}` : '', problems };
}

/** Only the reserved parameters of an address part, as `?a=b`/`#a=b` or ''. */
function reservedOnly(part: string, prefix: '?' | '#'): string {
  const params = new URLSearchParams(part.replace(/^[?#]/, ''));
  for (const key of [...params.keys()]) if (!isReserved(key)) params.delete(key);
  const s = params.toString();
  return s ? `${prefix}${s}` : '';
}

/**
 * The address as it should read now (query and hash, after the path): `settingsSearch` (the
 * settings in force, e.g. runConfigSearch over viewSearch) and the reserved keys of the old
 * address where they were. Unknown keys and settings written after `#` are gone; a hash that is
 * a place in the page stays.
 */
export function addressInForce(settingsSearch: string, search: string, hash: string): string {
  const query = new URLSearchParams(settingsSearch);
  for (const [key, value] of new URLSearchParams(reservedOnly(search, '?'))) query.set(key, value);
  const q = query.toString();
  const h = hashHasSettings(hash) ? reservedOnly(hash, '#') : hash;
  return `${q ? `?${q}` : ''}${h}`;
}

/** What the worker reports of each method: enough to write its settings in force. */
export interface MethodInForce {
  name: string;
  defaults: Readonly<Record<string, number | string>>;
  config: Readonly<Record<string, number | string>>;
  fields: readonly { key: string }[];
}

/**
 * The methods part of the config as the worker runs it: the enabled list it confirmed, and each
 * address setting as the value in force (dropped where that is the default or no such setting exists).
 */
export function methodsInForce(enabled: readonly string[], methods: readonly MethodInForce[], requested: RunConfig['methods']): RunConfig['methods'] {
  const params: Record<string, string> = {};
  for (const key of Object.keys(requested.params)) {
    const [name, fieldKey] = key.split('.', 2);
    const method = methods.find((m) => m.name === name);
    if (!method?.fields.some((f) => f.key === fieldKey)) continue;
    const value = method.config[fieldKey];
    if (value !== method.defaults[fieldKey]) params[key] = String(value);
  }
  return { enabled: [...enabled], params };
}

/**
 * The address parameters of `config`: only the fields that differ from the defaults, in table
 * order, after any parameters of `base` the table does not own (kept as they were).
 */
export function runConfigSearch(config: RunConfig, base = ''): string {
  const params = new URLSearchParams(base);
  const defaults = DEFAULT_RUN_CONFIG;
  for (const key of [...params.keys()]) if (isMethodKey(key)) params.delete(key);
  for (const [key, value] of Object.entries(config.methods.params)) params.set(key, value);
  for (const field of URL_FIELDS) {
    params.delete(field.key);
    const value = field.get(config);
    if (field.format(value) !== field.format(field.get(defaults))) params.set(field.key, field.format(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}
