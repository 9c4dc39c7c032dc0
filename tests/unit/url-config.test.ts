// The config <-> address table (src/lib/config/url.ts): defaults give an empty address, every field
// survives a round trip, a number out of range is clamped and other bad values keep the default,
// each with one line, method settings (`method.field`) travel raw for the worker to check, the
// hash is read after the query, repeated and unknown keys are reported, and the address in force
// keeps only what runs and the reserved keys.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { checkField, type FieldSpec } from '../../src/lib/config/fields';
import { addressInForce, ANNOTATOR_FIELDS, checkNumber, DEFAULT_RUN_CONFIG, defaultRunConfig, methodsInForce, parseRunConfig, readAddress, REWARD_FIELDS, runConfigSearch, URL_FIELDS } from '../../src/lib/config/url';
import { parseView, viewSearch } from '../../src/lib/config/view';

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

  test('bad values are reported and the defaults kept; numbers out of range take the nearest bound', () => {
    const { config, problems } = parseRunConfig('?seed=-3&backend=bogus&refitSteps=2.5&methods=ppo;grpo&noise=0.9&annotator=kind&word=Two%20Words&selection=random');
    expect(config).toEqual({ ...DEFAULT_RUN_CONFIG, seed: 0, annotator: { ...DEFAULT_RUN_CONFIG.annotator, noise: 0.5 } });
    expect(problems).toHaveLength(8);
    expect(problems[0]).toBe('The seed "-3" in the address (?seed=-3) is out of range (use a whole number from 0 to 4294967295); using 0.');
    expect(problems[1]).toMatch(/^Bad backend "bogus" in the address \(\?backend=bogus\): use one of webgpu, wasm, webgl, cpu; using automatic\.$/);
    expect(problems[2]).toBe('Bad methods "ppo;grpo" in the address (?methods=ppo;grpo): use method names separated by commas, e.g. ppo,grpo; using ppo.');
    const all = problems.join('\n');
    expect(all).toMatch(/Bad refit steps "2\.5".*whole number from 1 to 2000; using 200\./);
    expect(all).toMatch(/annotator noise "0\.9".*out of range \(use a number from 0 to 0\.5\); using 0\.5\./);
    expect(all).toMatch(/annotator preset "kind".*positive, negative, shorter, mentions, fewer-repeats/);
    expect(all).toMatch(/pair selection "random".*most-different, disagreement/);
  });

  test('hex, exponents without digits, Infinity and blanks are refused, above the range is clamped', () => {
    for (const raw of ['0x1', '0b1', '1e', 'Infinity', '', ' ', '1_000', '5abc']) {
      const { config, problems } = parseRunConfig(`?seed=${encodeURIComponent(raw)}`);
      expect(config.seed, raw).toBe(1);
      expect(problems[0], raw).toMatch(/^Bad seed/);
    }
    expect(parseRunConfig('?candidates=99').config.pairs.candidates).toBe(8);
    expect(parseRunConfig('?ensemble=1e1').config.reward.ensembleSize).toBe(5);
    expect(parseRunConfig('?pace=-1').config.autopilot.paceMs).toBe(0);
    expect(parseRunConfig('?seed=%207%20')).toEqual({ config: { ...DEFAULT_RUN_CONFIG, seed: 7 }, problems: [] });
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
      for (const bad of ['2.5', 'all', '0x2']) {
        const { config, problems } = parseRunConfig(`?threads=${bad}`);
        expect(config.threads).toBeNull();
        expect(problems).toEqual([`Bad WASM threads "${bad}" in the address (?threads=${bad}): use a whole number from 1 to 4; using automatic.`]);
      }
      for (const [raw, used] of [['0', 1], ['-1', 1], ['5', 4]] as const) {
        const { config, problems } = parseRunConfig(`?threads=${raw}`);
        expect(config.threads).toBe(used);
        expect(problems).toEqual([`The WASM threads "${raw}" in the address (?threads=${raw}) is out of range (use a whole number from 1 to 4); using ${used}.`]);
      }
    });

    test('where the core count is unknown (Node 20) only 1 is allowed', () => {
      vi.stubGlobal('navigator', undefined);
      expect(parseRunConfig('?threads=1').config.threads).toBe(1);
      expect(parseRunConfig('?threads=2')).toMatchObject({ config: { threads: 1 }, problems: [expect.stringMatching(/out of range/)] });
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

  describe('the whole address: query, hash, repeated, unknown and reserved keys', () => {
    test('settings after # are read like the query, and win over it', () => {
      const { search, problems } = readAddress('?seed=3&noise=0.2', '#seed=5&grpo.beta=0.2');
      expect(new URLSearchParams(search).get('seed')).toBe('5');
      expect(parseRunConfig(search).config).toMatchObject({ seed: 5, annotator: { noise: 0.2 }, methods: { params: { 'grpo.beta': '0.2' } } });
      expect(problems).toEqual(['The address gives seed 2 times (seed=3, seed=5); using the last, seed=5.']);
    });

    test('a repeated key takes its last value and says so; the same value twice says nothing', () => {
      expect(readAddress('?seed=1&seed=2')).toEqual({ search: '?seed=2', problems: ['The address gives seed 2 times (seed=1, seed=2); using the last, seed=2.'] });
      expect(readAddress('?seed=1&seed=1')).toEqual({ search: '?seed=1', problems: [] });
    });

    test('unknown keys are ignored with a notice, view keys and method settings are known', () => {
      const { search, problems } = readAddress('?beta=0x1&lecture=1&ppo.lr=0.001&tour=2', '#debug=1');
      expect(search).toBe('?lecture=1&ppo.lr=0.001&tour=2');
      expect(problems).toEqual([
        'Unknown setting "beta" in the address (?beta=0x1): ignored. A method\'s settings are written method.field, e.g. ppo.lr.',
        'Unknown setting "debug" in the address (?debug=1): ignored. A method\'s settings are written method.field, e.g. ppo.lr.',
      ]);
    });

    test('reserved keys are neither read nor reported, and stay where they were; a hash without settings is a place in the page', () => {
      expect(readAddress('?labels=abc', '#labels=xyz&seed=4')).toEqual({ search: '?seed=4', problems: [] });
      expect(readAddress('', '#how-bt')).toEqual({ search: '', problems: [] });
      expect(addressInForce('?seed=4', '?labels=abc&seed=9&junk=1', '#labels=xyz&seed=4')).toBe('?seed=4&labels=abc#labels=xyz');
      expect(addressInForce('', '?seed=0x1', '#how-bt')).toBe('#how-bt');
      expect(addressInForce('', '', '#seed=5')).toBe('');
    });

    test('a hand-edited address is written back as what is in force, so reading it again finds nothing to say', () => {
      const search = '?seed=-5&noise=abc&tour=9&ppo.lr=5';
      const hash = '#candidates=0x4&seed=12&refitSteps=99999&labels=kept';
      const address = readAddress(search, hash);
      const run = parseRunConfig(address.search);
      const view = parseView(address.search);
      expect(run.config).toMatchObject({ seed: 12, reward: { refitSteps: 2000 }, pairs: { candidates: 6 } });
      expect(view.view.tour).toBe(6);
      expect([...address.problems, ...run.problems, ...view.problems]).toHaveLength(5);
      const inForce = addressInForce(runConfigSearch(run.config, viewSearch(view.view)), search, hash);
      expect(inForce).toBe('?tour=6&ppo.lr=5&seed=12&refitSteps=2000#labels=kept');
      // The worker clamps ppo.lr to its bound and the page writes that back (methodsInForce).
      const again = readAddress(inForce.slice(0, inForce.indexOf('#')), inForce.slice(inForce.indexOf('#')));
      expect(again.problems).toEqual([]);
      expect(parseRunConfig(again.search).problems).toEqual([]);
      expect(parseView(again.search).problems).toEqual([]);
    });

    test('method settings in force: the worker\'s value, dropped at the default or when unknown', () => {
      const methods = [{ name: 'ppo', defaults: { lr: 3e-4, epochs: 2 }, config: { lr: 0.01, epochs: 2 }, fields: [{ key: 'lr' }, { key: 'epochs' }] }];
      const requested = { enabled: ['ppo', 'nosuch'], params: { 'ppo.lr': '5', 'ppo.epochs': '0x2', 'ppo.gamma': '1', 'nosuch.x': '1' } };
      expect(methodsInForce(['ppo'], methods, requested)).toEqual({ enabled: ['ppo'], params: { 'ppo.lr': '0.01' } });
    });
  });
});
