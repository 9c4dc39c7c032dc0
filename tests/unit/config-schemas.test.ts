// The valibot schemas of the fields' rules (src/lib/config/fields.ts, validate.ts, model.ts): a
// form refuses what is out of range, the address clamps it, both refuse the wrong kind and hex,
// and a JSON patch names each unknown key and each value outside its rule.
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { checkField, checkNumber, fieldRules, int, readField, readNumber, real, rulesSchema, type FieldSpec } from '../../src/lib/config/fields';
import { DEFAULT_MODEL_CONFIG, parseModelConfig } from '../../src/lib/config/model';
import { REWARD_RULES } from '../../src/lib/config/reward';
import { PAIR_RULES } from '../../src/lib/config/run';
import { ConfigError, issueLines } from '../../src/lib/config/validate';
import { METHODS } from '../../src/lib/rl/methods/registry';

const LR_RULE = real(1e-6, 1e-2, 1e-5);
const LR: FieldSpec = { kind: 'number', key: 'lr', label: 'learning rate', reason: '', rule: LR_RULE };
const EPOCHS: FieldSpec = { kind: 'number', key: 'epochs', label: 'epochs', reason: '', rule: int(1, 8) };
const KL: FieldSpec = { kind: 'choice', key: 'klControl', label: 'KL control', reason: '', choices: ['adaptive', 'fixed'] };

describe('a typed value (form)', () => {
  test('valid text is taken, out of range refused naming the range', () => {
    expect(checkNumber(' 0.001 ', LR_RULE)).toEqual({ ok: true, value: 0.001 });
    expect(checkField(LR, '5')).toEqual({ ok: false, why: 'use a number from 0.000001 to 0.01' });
    expect(checkField(EPOCHS, '9')).toEqual({ ok: false, why: 'use a whole number from 1 to 8' });
    expect(checkField(EPOCHS, '8')).toEqual({ ok: true, value: 8 });
  });

  test('the wrong kind, hex and non-numbers are refused', () => {
    for (const raw of ['2.5', '0x2', '0b1', '0o7', 'Infinity', 'NaN', '', '1e', '2 3']) expect(checkField(EPOCHS, raw).ok, raw).toBe(false);
    expect(checkField(LR, '1e-4')).toEqual({ ok: true, value: 1e-4 });
    expect(checkField(KL, ' FIXED ')).toEqual({ ok: true, value: 'fixed' });
    expect(checkField(KL, 'sometimes')).toEqual({ ok: false, why: 'use one of adaptive, fixed' });
  });
});

describe('a value of the address', () => {
  test('out of range is pulled to the nearest bound, with the range', () => {
    expect(readField(LR, '5')).toEqual({ kind: 'clamped', value: 0.01, why: 'use a number from 0.000001 to 0.01' });
    expect(readField(EPOCHS, '-3')).toEqual({ kind: 'clamped', value: 1, why: 'use a whole number from 1 to 8' });
    expect(readNumber('4', int(1, 8))).toEqual({ kind: 'taken', value: 4 });
  });

  test('the wrong kind and hex are refused, not clamped', () => {
    expect(readField(LR, '0x1')).toEqual({ kind: 'refused', why: 'use a number from 0.000001 to 0.01' });
    expect(readField(EPOCHS, '2.5').kind).toBe('refused');
    expect(readField(EPOCHS, '1e9').kind).toBe('clamped');
    expect(readField(KL, 'both')).toEqual({ kind: 'refused', why: 'use one of adaptive, fixed' });
  });
});

describe('a JSON settings patch', () => {
  const schema = rulesSchema(fieldRules([LR, EPOCHS, KL]));
  const lines = (raw: unknown) => {
    const r = v.safeParse(schema, raw, { abortEarly: false });
    return r.success ? [] : issueLines(r.issues);
  };

  test('valid keys and values pass; every key is optional', () => {
    expect(v.parse(schema, { lr: 1e-4, klControl: 'fixed' })).toEqual({ lr: 1e-4, klControl: 'fixed' });
    expect(lines({})).toEqual([]);
  });

  test('out of range, wrong type and unknown keys are each named', () => {
    expect(lines({ lr: -1 })).toEqual(['lr: use a number from 0.000001 to 0.01, got -1']);
    expect(lines({ epochs: 2.5, klControl: 1 })).toEqual(['epochs: use a whole number from 1 to 8, got 2.5', 'klControl: use one of adaptive, fixed, got 1']);
    expect(lines({ lr: '0x1' })).toEqual(['lr: use a number from 0.000001 to 0.01, got "0x1"']);
    expect(lines({ gamma: 1 })[0]).toMatch(/^unknown key "gamma" \(use an object with some of the keys lr, epochs, klControl\)$/);
    expect(lines([1])[0]).toMatch(/use an object with some of the keys/);
    expect(lines(null)[0]).toMatch(/use an object/);
  });

  test('every method default and the reward and pair defaults pass their own rules', () => {
    for (const spec of Object.values(METHODS)) {
      const rules = fieldRules(spec.fields);
      const defaults = Object.fromEntries(Object.keys(rules).map((k) => [k, (spec.defaults as Record<string, unknown>)[k]]));
      expect(v.safeParse(rulesSchema(rules), defaults).success, spec.name).toBe(true);
    }
    expect(v.safeParse(rulesSchema(REWARD_RULES), { lr: 3e-5, refitSteps: 200, ensembleSize: 1 }).success).toBe(true);
    expect(v.safeParse(rulesSchema(PAIR_RULES), { candidates: 6, selection: 'disagreement' }).success).toBe(true);
    expect(v.safeParse(rulesSchema(PAIR_RULES), { candidates: 9 }).success).toBe(false);
  });
});

describe('a model file config', () => {
  test('missing fields take the defaults, a valid config passes', () => {
    expect(parseModelConfig({})).toEqual(DEFAULT_MODEL_CONFIG);
    expect(parseModelConfig({ ...DEFAULT_MODEL_CONFIG, dModel: 32 })).toEqual({ ...DEFAULT_MODEL_CONFIG, dModel: 32 });
  });

  test('wrong types, out of range, unknown keys and broken invariants throw a ConfigError naming each', () => {
    const problems = (raw: unknown) => {
      try {
        parseModelConfig(raw);
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
      }
    };
    expect(problems({ nLayers: 0, dModel: '64', colour: 1 })).toEqual([
      'dModel: use a whole number from 1 to 4096, got "64"',
      'nLayers: use a whole number from 1 to 64, got 0',
      'unknown key "colour" (expected an object of whole numbers)',
    ]);
    expect(problems('config')).toEqual(['expected an object of whole numbers, got "config"']);
    expect(problems({ nHeads: 3 })).toEqual(['dModel (64) must be a multiple of nHeads (3)']);
  });
});
