// The worker's reading of the address's method settings (src/worker/session.ts readMethodRequest):
// each value by its field's rule, as the page reads its own settings: out of range takes the
// nearest bound, hex and the wrong type keep the default, unknown methods and settings are named.
import { describe, expect, test } from 'vitest';
import { METHODS } from '../../src/lib/rl/methods/registry';
import { readMethodRequest } from '../../src/worker/session';

describe('method settings from the address', () => {
  test('valid values are taken; none given means the defaults and PPO', () => {
    const { enabled, configs, problems } = readMethodRequest({ enabled: ['ppo', 'grpo'], params: { 'ppo.lr': '1e-4', 'ppo.klControl': 'Fixed' } });
    expect(enabled).toEqual(['ppo', 'grpo']);
    expect(configs.ppo).toMatchObject({ lr: 1e-4, klControl: 'fixed' });
    expect(problems).toEqual([]);
    expect(readMethodRequest(undefined)).toMatchObject({ enabled: ['ppo'], problems: [] });
  });

  test('out of range is clamped, hex and the wrong type keep the default, each with one line', () => {
    const { configs, problems } = readMethodRequest({ enabled: ['ppo'], params: { 'ppo.lr': '5', 'ppo.epochs': '0', 'grpo.beta': '0x1', 'ppo.epochs2': '1', 'ppo.clipRange': 'wide' } });
    expect(configs.ppo.lr).toBe(0.01);
    expect(configs.ppo.epochs).toBe(1);
    expect(configs.grpo.beta).toBe(METHODS.grpo.defaults.beta);
    expect(configs.ppo.clipRange).toBe(METHODS.ppo.defaults.clipRange);
    expect(problems).toEqual([
      'The PPO learning rate "5" in the address (?ppo.lr=5) is out of range (use a number from 0.000001 to 0.01); using 0.01.',
      'The PPO epochs per iteration "0" in the address (?ppo.epochs=0) is out of range (use a whole number from 1 to 8); using 1.',
      expect.stringMatching(/^Bad GRPO .* "0x1" in the address \(\?grpo\.beta=0x1\): use a number from .*; using /),
      'Unknown setting "ppo.epochs2" in the address: a method\'s settings are written method.field, e.g. ppo.lr=0.0003.',
      expect.stringMatching(/^Bad PPO clip range "wide" .*: use a number from 0\.01 to 1; using 0\.2\.$/),
    ]);
  });

  test('an unknown method is named and left out', () => {
    const { enabled, problems } = readMethodRequest({ enabled: ['ppo', 'nosuch'], params: {} });
    expect(enabled).toEqual(['ppo']);
    expect(problems).toEqual([expect.stringMatching(/^Unknown method "nosuch" in the address \(\?methods=\): known methods are ppo, /)]);
  });
});
