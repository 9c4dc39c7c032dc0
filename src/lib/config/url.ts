// The one table that maps the run's shareable config to the page address and back (after
// tensorflow/playground's state.ts: a list of typed properties, one loop to parse, one to write,
// the seed included, so that a link reproduces a run). The same rules validate the page's live
// controls (CONVENTIONS.md habit 2: check at the boundary, trust inside).
// A bad value never breaks the page: parsing reports it in one readable line and keeps the default.
import { DEFAULT_PPO, type KlControl, type PpoConfig } from './ppo';
import { DEFAULT_REWARD } from './reward';
import {
  ANNOTATOR_PRESET_NAMES,
  BACKEND_NAMES,
  type AnnotatorSettings,
  type BackendName,
  type PairSettings,
  type RewardSettings,
} from '../protocol/messages';

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
  ppo: PpoConfig;
  reward: RewardSettings;
  pairs: PairSettings;
  annotator: AnnotatorSettings;
  autopilot: AutopilotSettings;
}

export const DEFAULT_RUN_CONFIG: RunConfig = {
  seed: 1, // any fixed seed: the same link gives the same run
  backend: null,
  ppo: DEFAULT_PPO,
  reward: {
    incrementalSteps: DEFAULT_REWARD.incrementalSteps,
    refitSteps: DEFAULT_REWARD.refitSteps,
    refitEvery: 25, // a refit (~20 s on WASM, in the background) lifts held-out RM accuracy at 50 labels from 0.755 (incremental steps only) to 0.814, 3 seeds
    ensembleSize: DEFAULT_REWARD.ensembleSize,
  },
  pairs: {
    candidates: 4, // DESIGN.md: choose among 4 to 6 samples (prototype2's lab.py used 4)
    buffer: 3, // the pair on screen and two ready behind it: a click never waits for sampling
  },
  annotator: { preset: 'positive', word: '', noise: 0.1, tieRule: 'random' }, // prototype2's annotator
  autopilot: {
    paceMs: 1500, // about one label per 1.5 s: a lecture can follow each click
    trainAfter: 20, // prototype2: 25-50 labels reach 0.78-0.80 RM accuracy; PPO can start a little before
  },
};

/** A parsed value, or why the text was refused (one clause, e.g. "use a whole number from 0 to 9"). */
type Parsed<T> = { ok: true; value: T } | { ok: false; why: string };

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

/** Numeric rule of a field; the page's inputs use the same min, max and step. */
export interface NumberRule {
  min: number;
  max: number;
  integer: boolean;
  /** The input's step. */
  step: number;
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

/** A number typed in the address or in a form, checked against `rule`. */
export function checkNumber(raw: string, rule: NumberRule): Parsed<number> {
  const text = raw.trim();
  const value = Number(text);
  const kind = rule.integer ? 'a whole number' : 'a number';
  if (text === '' || !Number.isFinite(value) || (rule.integer && !Number.isInteger(value)) || value < rule.min || value > rule.max) {
    return { ok: false, why: `use ${kind} from ${rule.min} to ${rule.max}` };
  }
  return { ok: true, value };
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

const int = (min: number, max: number): NumberRule => ({ min, max, integer: true, step: 1 });
const real = (min: number, max: number, step: number): NumberRule => ({ min, max, integer: false, step });

const KL_CONTROLS: readonly KlControl[] = ['adaptive', 'fixed'];
const MAX_SEED = 0xffffffff; // the Rng's seed is 32 bits
const WORD_RE = /^[a-z']*$/;

/** The live PPO hyperparameters (the RL panel shows one input per entry, in this order). */
export const PPO_FIELDS = {
  klControl: choiceField<KlControl>('kl', 'KL control', KL_CONTROLS, (c) => c.ppo.klControl, (c, v) => (c.ppo = { ...c.ppo, klControl: v })),
  targetKl: numberField('targetKl', 'target KL (nats per sequence)', real(0.1, 50, 0.1), (c) => c.ppo.targetKl, (c, v) => (c.ppo = { ...c.ppo, targetKl: v })),
  initKlCoef: numberField('beta', 'KL coefficient beta', real(0, 2, 0.005), (c) => c.ppo.initKlCoef, (c, v) => (c.ppo = { ...c.ppo, initKlCoef: v })),
  lr: numberField('lr', 'learning rate', real(1e-6, 1e-2, 1e-5), (c) => c.ppo.lr, (c, v) => (c.ppo = { ...c.ppo, lr: v })),
  clipRange: numberField('clip', 'clip range', real(0.01, 1, 0.01), (c) => c.ppo.clipRange, (c, v) => (c.ppo = { ...c.ppo, clipRange: v })),
  rolloutsPerIteration: numberField('rollouts', 'rollouts per iteration', int(2, 256), (c) => c.ppo.rolloutsPerIteration, (c, v) => (c.ppo = { ...c.ppo, rolloutsPerIteration: v })),
  epochs: numberField('epochs', 'epochs per iteration', int(1, 8), (c) => c.ppo.epochs, (c, v) => (c.ppo = { ...c.ppo, epochs: v })),
  temperature: numberField('temp', 'sampling temperature', real(0.1, 3, 0.05), (c) => c.ppo.temperature, (c, v) => (c.ppo = { ...c.ppo, temperature: v })),
} as const;

export type LivePpoKey = keyof typeof PPO_FIELDS;

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
  ...Object.values(PPO_FIELDS),
  ...Object.values(REWARD_FIELDS),
  numberField('candidates', 'candidates per pair', int(2, 8), (c) => c.pairs.candidates, (c, v) => (c.pairs = { ...c.pairs, candidates: v })),
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
  for (const field of URL_FIELDS) {
    params.delete(field.key);
    const value = field.get(config);
    if (field.format(value) !== field.format(field.get(defaults))) params.set(field.key, field.format(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}
