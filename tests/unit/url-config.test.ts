// The config <-> address table (src/lib/config/url.ts): defaults give an empty address, every field
// survives a round trip, bad values are reported one line each and leave the default in place,
// method settings (`method.field`) travel raw for the worker to check, and parameters the table
// does not own are kept.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { checkField, type FieldSpec } from '../../src/lib/config/fields';
import { ANNOTATOR_FIELDS, checkNumber, DEFAULT_RUN_CONFIG, defaultRunConfig, parseRunConfig, REWARD_FIELDS, runConfigSearch, URL_FIELDS } from '../../src/lib/config/url';

describe('run config in the address', () => {
  test('the defaults write no parameters and parse back to themselves', () => {
    expect(runConfigSearch(defaultRunConfig())).toBe('');
    expect(parseRunConfig('')).toEqual({ config: DEFAULT_RUN_CONFIG, problems: [] });
    expect(DEFAULT_RUN_CONFIG.methods).toEqual({ enabled: ['ppo'], params: {} });
  });

  test('every field round-trips, method settings included', () => {
    const c = defaultRunConfig();
    c.seed = 42;
    c.backend = 'webgpu';
    c.threads = 1; // Node 20 has no navigator: one core is the bound
    c.methods = { enabled: ['ppo', 'grpo'], params: { 'ppo.lr': '0.0001', 'grpo.beta': '0.1' } };
    c.reward = { incrementalSteps: 4, refitSteps: 50, refitEvery: 20, ensembleSize: 3 };
    c.pairs = { ...c.pairs, candidates: 5, selection: 'most-different', warmupLabels: 10 };
    c.annotator = { ...c.annotator, preset: 'mentions', word: 'pizza', noise: 0.2, gold: 'blind' };
    c.autopilot = { paceMs: 100, trainAfter: 12 };
    const search = runConfigSearch(c);
    const parsed = parseRunConfig(search);
    expect(parsed.problems).toEqual([]);
    expect(parsed.config).toEqual(c);
    // The method settings, then one parameter per changed field in table order, seed first.
    expect(search.startsWith('?ppo.lr=0.0001&grpo.beta=0.1&seed=42&backend=webgpu&threads=1&methods=ppo%2Cgrpo&rmSteps=4')).toBe(true);
    expect(new URLSearchParams(search).size).toBe(URL_FIELDS.length + 2);
  });

  test('the table has one key per field, and none of them looks like a method setting', () => {
    const keys = URL_FIELDS.map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(key).not.toContain('.');
  });

  test('bad values are reported and the defaults kept', () => {
    const { config, problems } = parseRunConfig('?seed=-3&backend=bogus&refitSteps=2.5&methods=ppo;grpo&noise=0.9&annotator=kind&word=Two%20Words&selection=random');
    expect(config).toEqual(DEFAULT_RUN_CONFIG);
    expect(problems).toHaveLength(8);
    expect(problems[0]).toBe('Bad seed "-3" in the address (?seed=-3): use a whole number from 0 to 4294967295; using 1.');
    expect(problems[1]).toMatch(/^Bad backend "bogus" in the address \(\?backend=bogus\): use one of webgpu, wasm, webgl, cpu; using automatic\.$/);
    expect(problems[2]).toBe('Bad methods "ppo;grpo" in the address (?methods=ppo;grpo): use method names separated by commas, e.g. ppo,grpo; using ppo.');
    const all = problems.join('\n');
    expect(all).toMatch(/refit steps "2\.5".*whole number from 1 to 2000/);
    expect(all).toMatch(/annotator preset "kind".*positive, negative, shorter, mentions, fewer-repeats/);
    expect(all).toMatch(/pair selection "random".*most-different, disagreement/);
  });

  describe('WASM threads', () => {
    afterEach(() => {
      vi.unstubAllGlobals();
    });

    test('1 to the machine\'s cores, read when the address is parsed; absent means the library chooses', () => {
      vi.stubGlobal('navigator', { hardwareConcurrency: 4 });
      expect(parseRunConfig('?threads=4')).toEqual({ config: { ...DEFAULT_RUN_CONFIG, threads: 4 }, problems: [] });
      expect(parseRunConfig('?threads=1').config.threads).toBe(1);
      expect(parseRunConfig('').config.threads).toBeNull();
      expect(runConfigSearch({ ...defaultRunConfig(), threads: 2 })).toBe('?threads=2');
      for (const bad of ['0', '5', '2.5', 'all', '-1']) {
        const { config, problems } = parseRunConfig(`?threads=${bad}`);
        expect(config.threads).toBeNull();
        expect(problems).toEqual([`Bad WASM threads "${bad}" in the address (?threads=${bad}): use a whole number from 1 to 4; using automatic.`]);
      }
    });

    test('where the core count is unknown (Node 20) only 1 is allowed', () => {
      vi.stubGlobal('navigator', undefined);
      expect(parseRunConfig('?threads=1').config.threads).toBe(1);
      expect(parseRunConfig('?threads=2').problems).toHaveLength(1);
    });
  });

  test('method settings are carried raw: the worker checks them against each field rule', () => {
    const { config, problems } = parseRunConfig('?ppo.lr=abc&grpo.beta=0.1&methods=grpo');
    expect(problems).toEqual([]);
    expect(config.methods).toEqual({ enabled: ['grpo'], params: { 'ppo.lr': 'abc', 'grpo.beta': '0.1' } });
  });

  test('values are trimmed and case-insensitive where that is safe; repeated methods count once', () => {
    const { config, problems } = parseRunConfig('?backend=%20WASM%20&selection=Most-Different&seed=%207&methods=%20PPO%20,DPO,ppo');
    expect(problems).toEqual([]);
    expect(config.backend).toBe('wasm');
    expect(config.pairs.selection).toBe('most-different');
    expect(config.seed).toBe(7);
    expect(config.methods.enabled).toEqual(['ppo', 'dpo']);
  });

  test('other parameters of the address are kept, the config owns its keys and the method settings', () => {
    const c = defaultRunConfig();
    c.seed = 5;
    expect(runConfigSearch(c, '?debug=1&seed=9&refitSteps=8&ppo.lr=0.001')).toBe('?debug=1&seed=5');
    c.methods = { enabled: ['ppo'], params: { 'dpo.beta': '0.2' } };
    expect(runConfigSearch(c, '?debug=1&ppo.lr=0.001')).toBe('?debug=1&dpo.beta=0.2&seed=5');
  });

  test('the form rules are the address rules', () => {
    expect(checkNumber('0.5', ANNOTATOR_FIELDS.noise.rule)).toEqual({ ok: true, value: 0.5 });
    expect(checkNumber('', ANNOTATOR_FIELDS.noise.rule).ok).toBe(false);
    expect(checkNumber('0.9', ANNOTATOR_FIELDS.noise.rule).ok).toBe(false);
    expect(checkNumber('Infinity', REWARD_FIELDS.refitSteps.rule).ok).toBe(false);
    expect(checkNumber('0x10', REWARD_FIELDS.refitSteps.rule).ok).toBe(false);
    const choice: FieldSpec = { kind: 'choice', key: 'klControl', label: 'KL control', reason: '', choices: ['adaptive', 'fixed'] };
    expect(checkField(choice, ' Fixed ')).toEqual({ ok: true, value: 'fixed' });
    expect(checkField(choice, 'sometimes')).toEqual({ ok: false, why: 'use one of adaptive, fixed' });
  });
});
