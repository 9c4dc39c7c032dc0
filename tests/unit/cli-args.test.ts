// The scripts' option parsing (src/scripts/args.ts): node:util parseArgs plus the fields' rules,
// so a number, a flag or a JSON patch that the page would refuse is refused on the command line too.
import { describe, expect, test } from 'vitest';
import { fieldRules, int, real } from '../../src/lib/config/fields';
import { DEFAULT_REWARD, REWARD_RULES } from '../../src/lib/config/reward';
import { DEFAULT_PAIRS, PAIR_RULES } from '../../src/lib/config/run';
import { METHODS } from '../../src/lib/rl/methods/registry';
import { parseArgs, patchConfig } from '../../src/scripts/args';

const SPEC = { runs: int(1, 10), noise: real(0, 0.5, 0.01), backend: 'string', browser: 'flag' } as const;

describe('options', () => {
  test('valid options are typed by their spec; absent ones are absent', () => {
    expect(parseArgs(['--runs', '3', '--noise', '0.25', '--backend', 'wasm', '--browser'], SPEC)).toEqual({ runs: 3, noise: 0.25, backend: 'wasm', browser: true });
    expect(parseArgs(['--runs=4'], SPEC)).toEqual({ runs: 4 });
    expect(parseArgs([], SPEC)).toEqual({});
  });

  test('out of range, wrong type and hex are refused with the range', () => {
    expect(() => parseArgs(['--runs', '0'], SPEC)).toThrow('--runs: use a whole number from 1 to 10, got "0"');
    expect(() => parseArgs(['--runs', '2.5'], SPEC)).toThrow('--runs: use a whole number from 1 to 10, got "2.5"');
    expect(() => parseArgs(['--runs', '0x3'], SPEC)).toThrow('--runs: use a whole number from 1 to 10, got "0x3"');
    expect(() => parseArgs(['--noise', 'lots'], SPEC)).toThrow(/--noise: use a number from 0 to 0.5/);
  });

  test('unknown options, missing values and stray arguments are refused, naming the options', () => {
    expect(() => parseArgs(['--bogus', '1'], SPEC)).toThrow(/Unknown option '--bogus'.*options: --runs --noise --backend --browser/);
    expect(() => parseArgs(['--runs'], SPEC)).toThrow(/--runs/);
    expect(() => parseArgs(['extra'], SPEC)).toThrow(/extra/);
    expect(() => parseArgs(['--browser=yes'], SPEC)).toThrow(/browser/);
  });
});

describe('JSON patches', () => {
  const ppo = METHODS.ppo;
  const ppoRules = fieldRules(ppo.fields);

  test('a valid patch changes only its keys', () => {
    const out = patchConfig('ppo', '{"lr":1e-4,"klControl":"fixed"}', ppo.defaults, ppoRules);
    expect(out).toEqual({ ...ppo.defaults, lr: 1e-4, klControl: 'fixed' });
    expect(patchConfig('ppo', undefined, ppo.defaults, ppoRules)).toEqual(ppo.defaults);
    expect(patchConfig('pairs', '{"selection":"most-different"}', DEFAULT_PAIRS, PAIR_RULES)).toEqual({ ...DEFAULT_PAIRS, selection: 'most-different' });
  });

  test('--ppo \'{"lr":-1}\' is refused by the field rule, as the page refuses it', () => {
    expect(() => patchConfig('ppo', '{"lr":-1}', ppo.defaults, ppoRules)).toThrow('--ppo: lr: use a number from 0.000001 to 0.01, got -1');
  });

  test('wrong types, unknown keys, hex strings and broken JSON are refused, every problem named', () => {
    expect(() => patchConfig('ppo', '{"epochs":"2","nope":1}', ppo.defaults, ppoRules)).toThrow(/--ppo: epochs: use a whole number from 1 to 8, got "2"; unknown key "nope"/);
    expect(() => patchConfig('reward', '{"lr":"0x1"}', DEFAULT_REWARD, REWARD_RULES)).toThrow(/--reward: lr: use a number .*got "0x1"/);
    expect(() => patchConfig('reward', '{"ensembleSize":9}', DEFAULT_REWARD, REWARD_RULES)).toThrow('--reward: ensembleSize: use a whole number from 1 to 5, got 9');
    expect(() => patchConfig('pairs', '{"selection":"random"}', DEFAULT_PAIRS, PAIR_RULES)).toThrow('--pairs: selection: use one of most-different, disagreement, got "random"');
    expect(() => patchConfig('pairs', '{"candidates":', DEFAULT_PAIRS, PAIR_RULES)).toThrow(/--pairs: not JSON/);
    expect(() => patchConfig('pairs', '[1]', DEFAULT_PAIRS, PAIR_RULES)).toThrow(/--pairs: .*use an object/);
  });
});
