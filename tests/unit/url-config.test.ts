// The config <-> address table (src/lib/config/url.ts): defaults give an empty address, every field
// survives a round trip, bad values are reported one line each and leave the default in place, and
// parameters the table does not own are kept.
import { describe, expect, test } from 'vitest';
import { DEFAULT_PPO } from '../../src/lib/config/ppo';
import { checkNumber, DEFAULT_RUN_CONFIG, defaultRunConfig, parseRunConfig, PPO_FIELDS, runConfigSearch, URL_FIELDS } from '../../src/lib/config/url';

describe('run config in the address', () => {
  test('the defaults write no parameters and parse back to themselves', () => {
    expect(runConfigSearch(defaultRunConfig())).toBe('');
    expect(parseRunConfig('')).toEqual({ config: DEFAULT_RUN_CONFIG, problems: [] });
    expect(DEFAULT_RUN_CONFIG.ppo).toEqual(DEFAULT_PPO);
  });

  test('every field round-trips', () => {
    const c = defaultRunConfig();
    c.seed = 42;
    c.backend = 'webgpu';
    c.ppo = { ...c.ppo, klControl: 'fixed', targetKl: 6, initKlCoef: 0.1, lr: 1e-4, clipRange: 0.3, rolloutsPerIteration: 16, epochs: 1, temperature: 0.8 };
    c.reward = { incrementalSteps: 4, refitSteps: 50, refitEvery: 20, ensembleSize: 3 };
    c.pairs = { ...c.pairs, candidates: 6 };
    c.annotator = { ...c.annotator, preset: 'mentions', word: 'pizza', noise: 0.2 };
    c.autopilot = { paceMs: 100, trainAfter: 12 };
    const search = runConfigSearch(c);
    const parsed = parseRunConfig(search);
    expect(parsed.problems).toEqual([]);
    expect(parsed.config).toEqual(c);
    // One parameter per changed field, in table order, seed first.
    expect(search.startsWith('?seed=42&backend=webgpu&kl=fixed')).toBe(true);
    expect(new URLSearchParams(search).size).toBe(URL_FIELDS.length);
  });

  test('the table has one key per field', () => {
    const keys = URL_FIELDS.map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('bad values are reported and the defaults kept', () => {
    const { config, problems } = parseRunConfig('?seed=-3&backend=bogus&rollouts=2.5&lr=abc&kl=sometimes&noise=0.9&annotator=kind&word=Two%20Words');
    expect(config).toEqual(DEFAULT_RUN_CONFIG);
    expect(problems).toHaveLength(8);
    expect(problems[0]).toBe('Bad seed "-3" in the address (?seed=-3): use a whole number from 0 to 4294967295; using 1.');
    expect(problems[1]).toMatch(/^Bad backend "bogus" in the address \(\?backend=bogus\): use one of webgpu, wasm, webgl, cpu; using automatic\.$/);
    expect(problems.join('\n')).toMatch(/rollouts per iteration "2\.5".*whole number from 2 to 256/);
    expect(problems.join('\n')).toMatch(/annotator preset "kind".*positive, negative, shorter, mentions, fewer-repeats/);
  });

  test('values are trimmed and case-insensitive where that is safe', () => {
    const { config, problems } = parseRunConfig('?backend=%20WASM%20&kl=Fixed&seed=%207');
    expect(problems).toEqual([]);
    expect(config.backend).toBe('wasm');
    expect(config.ppo.klControl).toBe('fixed');
    expect(config.seed).toBe(7);
  });

  test('other parameters of the address are kept, the table owns its keys', () => {
    const c = defaultRunConfig();
    c.seed = 5;
    expect(runConfigSearch(c, '?debug=1&seed=9&rollouts=8')).toBe('?debug=1&seed=5');
  });

  test('the form rules are the address rules', () => {
    expect(checkNumber('0.5', PPO_FIELDS.clipRange.rule)).toEqual({ ok: true, value: 0.5 });
    expect(checkNumber('', PPO_FIELDS.clipRange.rule).ok).toBe(false);
    expect(checkNumber('9', PPO_FIELDS.epochs.rule).ok).toBe(false);
    expect(checkNumber('Infinity', PPO_FIELDS.lr.rule).ok).toBe(false);
  });
});
