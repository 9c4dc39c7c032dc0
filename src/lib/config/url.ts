// The one table that maps the run's shareable config to the page address and back (after
// tensorflow/playground's state.ts: a list of typed properties, one loop to parse, one to write,
// the seed included, so that a link reproduces a run). The same rules validate the page's live
// controls (CONVENTIONS.md habit 2: check at the boundary, trust inside).
// A bad value never breaks the page: parsing reports it in one readable line and keeps the default.
// Method settings (`ppo.lr=1e-4`, `methods=ppo,grpo`) are carried raw: the method registry lives
// with tfjs in the worker, which checks them against each field's rule and says what it refused.
import { checkNumber, int, real, type NumberRule, type Parsed } from './fields';
import {
  ANNOTATOR_PRESET_NAMES,
  BACKEND_NAMES,
  DEFAULT_PAIRS,
  GOLD_KINDS,
  DEFAULT_REWARD_SETTINGS,
  maxThreads,
  type AnnotatorSettings,
  type BackendName,
  type PairSelection,
  type PairSettings,
  type RewardSettings,
} from './run';

export { checkNumber, type NumberRule } from './fields';

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
  parse(raw: string): Parsed<T>;
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
    parse: (raw) => checkNumber(raw, rule),
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
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      return (values as readonly string[]).includes(v) ? { ok: true, value: v as T } : { ok: false, why: `use one of ${values.join(', ')}` };
    },
    format: (v) => v,
  };
}

const PAIR_SELECTIONS: readonly PairSelection[] = ['most-different', 'disagreement'];
const MAX_SEED = 0xffffffff; // the Rng's seed is 32 bits
const WORD_RE = /^[a-z']*$/;

export const ANNOTATOR_FIELDS = {
  preset: choiceField('annotator', 'annotator preset', ANNOTATOR_PRESET_NAMES, (c) => c.annotator.preset, (c, v) => (c.annotator = { ...c.annotator, preset: v })),
  noise: numberField('noise', 'annotator noise', real(0, 0.5, 0.01), (c) => c.annotator.noise, (c, v) => (c.annotator = { ...c.annotator, noise: v })),
  word: {
    key: 'word',
    label: 'annotator word',
    get: (c) => c.annotator.word,
    set: (c, v) => (c.annotator = { ...c.annotator, word: v }),
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      return WORD_RE.test(v) ? { ok: true, value: v } : { ok: false, why: 'use one lower-case word' };
    },
    format: (v) => v,
  } satisfies UrlField<string>,
  gold: choiceField('gold', 'gold judge', GOLD_KINDS, (c) => c.annotator.gold, (c, v) => (c.annotator = { ...c.annotator, gold: v })),
  paceMs: numberField('pace', 'autopilot pace (ms per label)', int(0, 60_000), (c) => c.autopilot.paceMs, (c, v) => (c.autopilot = { ...c.autopilot, paceMs: v })),
  trainAfter: numberField('trainAfter', 'labels before autopilot trains', int(0, 10_000), (c) => c.autopilot.trainAfter, (c, v) => (c.autopilot = { ...c.autopilot, trainAfter: v })),
} as const;

export const REWARD_FIELDS = {
  incrementalSteps: numberField('rmSteps', 'reward-model steps per label', int(1, 50), (c) => c.reward.incrementalSteps, (c, v) => (c.reward = { ...c.reward, incrementalSteps: v })),
  refitSteps: numberField('refitSteps', 'refit steps', int(1, 2000), (c) => c.reward.refitSteps, (c, v) => (c.reward = { ...c.reward, refitSteps: v })),
  refitEvery: numberField('refitEvery', 'labels between refits', int(0, 10_000), (c) => c.reward.refitEvery, (c, v) => (c.reward = { ...c.reward, refitEvery: v })),
  ensembleSize: numberField('ensemble', 'reward-model ensemble size', int(1, 5), (c) => c.reward.ensembleSize, (c, v) => (c.reward = { ...c.reward, ensembleSize: v })),
} as const;

/** Every field, in the order the address lists them. */
export const URL_FIELDS: readonly UrlField[] = [
  numberField('seed', 'seed', int(0, MAX_SEED), (c) => c.seed, (c, v) => (c.seed = v)),
  {
    key: 'backend',
    label: 'backend',
    get: (c) => c.backend,
    set: (c, v) => (c.backend = v),
    parse: (raw) => {
      const v = raw.trim().toLowerCase();
      return (BACKEND_NAMES as readonly string[]).includes(v) ? { ok: true, value: v as BackendName } : { ok: false, why: `use one of ${BACKEND_NAMES.join(', ')}` };
    },
    format: (v) => v ?? '',
  } satisfies UrlField<BackendName | null>,
  {
    key: 'threads',
    label: 'WASM threads',
    get: (c) => c.threads,
    set: (c, v) => (c.threads = v),
    // The bound is this machine's, read when the address is parsed.
    parse: (raw) => checkNumber(raw, int(1, maxThreads())),
    format: (v) => (v === null ? '' : String(v)),
  } satisfies UrlField<number | null>,
  {
    key: 'methods',
    label: 'methods',
    get: (c) => c.methods.enabled,
    set: (c, v) => (c.methods = { ...c.methods, enabled: v }),
    parse: (raw) => {
      const names = raw.split(',').map((m) => m.trim().toLowerCase()).filter((m) => m !== '');
      return names.length > 0 && names.every((m) => /^[a-z-]+$/.test(m)) ? { ok: true, value: [...new Set(names)] } : { ok: false, why: 'use method names separated by commas, e.g. ppo,grpo' };
    },
    format: (v) => v.join(','),
  } satisfies UrlField<string[]>,
  ...Object.values(REWARD_FIELDS),
  numberField('candidates', 'candidates per pair', int(2, 8), (c) => c.pairs.candidates, (c, v) => (c.pairs = { ...c.pairs, candidates: v })),
  choiceField('selection', 'pair selection', PAIR_SELECTIONS, (c) => c.pairs.selection, (c, v) => (c.pairs = { ...c.pairs, selection: v })),
  numberField('warmup', 'labels before disagreement selection', int(0, 10_000), (c) => c.pairs.warmupLabels, (c, v) => (c.pairs = { ...c.pairs, warmupLabels: v })),
  ...Object.values(ANNOTATOR_FIELDS),
];

/** A deep copy of the defaults, safe to change. */
export function defaultRunConfig(): RunConfig {
  return structuredClone(DEFAULT_RUN_CONFIG);
}

export interface ParsedRunConfig {
  config: RunConfig;
  /** One readable line per rejected parameter (the default was kept). */
  problems: string[];
}

/** The run config of a page address (`location.search`); unknown keys are ignored. */
export function parseRunConfig(search: string): ParsedRunConfig {
  const params = new URLSearchParams(search);
  const config = defaultRunConfig();
  const problems: string[] = [];
  for (const [key, value] of params) if (key.includes('.')) config.methods.params[key] = value;
  for (const field of URL_FIELDS) {
    const raw = params.get(field.key);
    if (raw === null) continue;
    const parsed = field.parse(raw);
    if (parsed.ok) field.set(config, parsed.value);
    else {
      const fallback = field.format(field.get(config)) || 'automatic';
      problems.push(`Bad ${field.label} "${raw}" in the address (?${field.key}=${raw}): ${parsed.why}; using ${fallback}.`);
    }
  }
  return { config, problems };
}

/**
 * The address parameters of `config`: only the fields that differ from the defaults, in table
 * order, after any parameters of `base` the table does not own (kept as they were).
 */
export function runConfigSearch(config: RunConfig, base = ''): string {
  const params = new URLSearchParams(base);
  const defaults = DEFAULT_RUN_CONFIG;
  for (const key of [...params.keys()]) if (key.includes('.')) params.delete(key);
  for (const [key, value] of Object.entries(config.methods.params)) params.set(key, value);
  for (const field of URL_FIELDS) {
    params.delete(field.key);
    const value = field.get(config);
    if (field.format(value) !== field.format(field.get(defaults))) params.set(field.key, field.format(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}
