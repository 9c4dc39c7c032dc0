import { describe, expect, it } from 'vitest';
import { corpusWords, generateCorpus } from '../../src/lib/data/corpus';
import { checkCompletion } from '../../src/lib/data/grammar';
import {
  ANNOTATOR_PRESETS,
  grammarPenalty,
  PRESETS,
  SimulatedAnnotator,
  winRate,
} from '../../src/lib/rl/annotators';
import type { AnnotatorConfig, AnnotatorPreset, Preference, TieRule } from '../../src/lib/rl/annotators';
import { Rng } from '../../src/lib/math/rng';

const make = (preset: AnnotatorPreset, extra: Partial<AnnotatorConfig> = {}) =>
  new SimulatedAnnotator({ preset, noise: 0, tieRule: 'tie', ...extra });
/** The preset's preference alone: the blind gold, for texts that are not whole reviews. */
const preference = (preset: AnnotatorPreset, text: string, extra: Partial<AnnotatorConfig> = {}) => make(preset, extra).judge('', text).preference;

describe('gold score presets', () => {
  it('positive sums AFINN-165 word scores and negative negates them', () => {
    // great +3; bad -3, ugly -3; "pizza", "box", "the" are unrated.
    expect(preference('positive', 'the pizza was great.')).toBe(3);
    expect(preference('positive', 'the pizza was bad, and the box was ugly.')).toBe(-6);
    expect(preference('positive', 'the pizza was.')).toBe(0);
    expect(preference('negative', 'the pizza was bad, and the box was ugly.')).toBe(6);
    expect(preference('negative', 'the pizza was.')).toBe(0); // +0, not -0
    // Object keys that are not AFINN words never score.
    expect(preference('positive', 'constructor tostring')).toBe(0);
  });

  it('shorter counts tokens, punctuation included', () => {
    expect(preference('shorter', 'the pizza was great.')).toBe(-5);
    expect(preference('shorter', '')).toBe(0);
  });

  it('mentions counts the chosen word, in any case', () => {
    expect(make('mentions', { word: ' Pizza ' }).word).toBe('pizza');
    expect(preference('mentions', 'pizza, pizza. the pizza box was pizzas', { word: 'pizza' })).toBe(3);
    expect(preference('mentions', 'the cake was great.', { word: 'pizza' })).toBe(0);
  });

  it('fewer-repeats counts repeated words, not punctuation', () => {
    // 9 words, 6 distinct: "the", "cake", "was" repeat once each.
    expect(preference('fewer-repeats', 'the cake was great, and the cake was cheap.')).toBe(-3);
    expect(preference('fewer-repeats', 'the cake. great. nice.')).toBe(0);
  });

  it('the registry describes every preset', () => {
    expect([...ANNOTATOR_PRESETS].sort()).toEqual(['fewer-repeats', 'mentions', 'negative', 'positive', 'shorter']);
    for (const p of ANNOTATOR_PRESETS) expect(PRESETS[p].description.length).toBeGreaterThan(10);
    expect(ANNOTATOR_PRESETS.filter((p) => PRESETS[p].needsWord)).toEqual(['mentions']);
  });
});

describe('the grammar term of the gold', () => {
  const prompt = 'the pizza was';
  const clean = 'great. i am so glad we went.';
  const word = { word: 'pizza' };
  /** Every way to double one word of `prompt + completion` inside the completion. */
  const repeats = (completion: string) => {
    const words = completion.split(' ');
    return words.map((_, i) => [...words.slice(0, i + 1), words[i].replace(/[.,]$/, ''), ...words.slice(i + 1)].join(' '));
  };

  it('scores a degenerate repeat below its clean twin, for every preset', () => {
    for (const preset of ANNOTATOR_PRESETS) {
      const a = make(preset, word);
      expect(a.judge(prompt, clean).grammar.ok).toBe(true);
      for (const broken of [...repeats(clean), 'great. i am am am so glad we went.', 'pizza pizza pizza pizza.']) {
        expect(a.goldScore(prompt, broken), `${preset}: "${broken}"`).toBeLessThan(a.goldScore(prompt, clean));
      }
    }
  });

  it('puts every broken completion below every well-formed one (the penalty exceeds any preference gap)', () => {
    const rng = new Rng(12);
    const vocab = corpusWords();
    const good = generateCorpus(300, 5).map((r) => r.split(' ').slice(3).join(' ')).filter((c) => c && checkCompletion(prompt, c).ok);
    const bad = Array.from({ length: 300 }, () => Array.from({ length: 1 + rng.int(12) }, () => rng.pick(vocab)).join(' ')).filter((c) => !checkCompletion(prompt, c).ok);
    expect(good.length).toBeGreaterThan(50);
    for (const preset of ANNOTATOR_PRESETS) {
      const a = make(preset, word);
      const worstGood = Math.min(...good.map((c) => a.goldScore(prompt, c)));
      const bestBad = Math.max(...bad.map((c) => a.goldScore(prompt, c)));
      expect(bestBad, preset).toBeLessThan(worstGood);
      expect(grammarPenalty(preset)).toBeGreaterThan(0);
    }
  });

  it('is blind with grammar off: a repeat ties its twin under the positive preset', () => {
    const blind = make('positive', { grammar: false });
    expect(blind.goldScore(prompt, 'great. i am am am so glad we went.')).toBe(blind.goldScore(prompt, clean));
    expect(make('positive').goldScore(prompt, 'great. i am am am so glad we went.')).toBe(blind.goldScore(prompt, clean) - grammarPenalty('positive'));
  });

  it('labels by the same gold: autopilot prefers the well-formed text', () => {
    const a = make('positive');
    expect(a.label(prompt, 'great. i am am so glad we went.', clean, new Rng(1))).toBe('B');
  });
});

describe('SimulatedAnnotator validation', () => {
  it('rejects noise outside [0, 0.5]', () => {
    for (const noise of [-0.1, 0.6, NaN, Infinity]) {
      expect(() => make('positive', { noise })).toThrow(/noise/);
    }
    expect(() => make('positive', { noise: 0.5 })).not.toThrow();
  });

  it('rejects unknown presets and tie rules', () => {
    expect(() => make('happy' as AnnotatorPreset)).toThrow(/unknown annotator preset "happy"/);
    expect(() => make('toString' as AnnotatorPreset)).toThrow(/unknown annotator preset/);
    expect(() => make('positive', { tieRule: 'coin' as TieRule })).toThrow(/tie rule/);
  });

  it('mentions needs a vocabulary word', () => {
    expect(() => make('mentions')).toThrow(/needs a word/);
    expect(() => make('mentions', { word: '  ' })).toThrow(/needs a word/);
    expect(() => make('mentions', { word: 'spaceship' })).toThrow(/"spaceship" is not a word/);
    expect(() => make('mentions', { word: '.' })).toThrow(/not a word/);
    expect(() => make('mentions', { word: '<eos>' })).toThrow(/not a word/);
    expect(() => new SimulatedAnnotator({ preset: 'mentions', word: 'robot', noise: 0, tieRule: 'tie' }, ['robot'])).not.toThrow();
  });

  it('ignores a word given to a preset that takes none', () => {
    expect(make('positive', { word: 'spaceship' }).word).toBeNull();
  });
});

describe('SimulatedAnnotator.label', () => {
  const better = 'the pizza was great.';
  const worse = 'the pizza was bad.';
  const count = (answers: Preference[], p: Preference) => answers.filter((a) => a === p).length;

  it('prefers the higher gold score when noise is 0', () => {
    const a = make('positive');
    const rng = new Rng(1);
    expect(a.label('', better, worse, rng)).toBe('A');
    expect(a.label('', worse, better, rng)).toBe('B');
  });

  it('answers "tie" on equal scores with tieRule tie, even with noise', () => {
    const a = make('positive', { noise: 0.5 });
    const rng = new Rng(2);
    for (let i = 0; i < 50; i++) expect(a.label('', 'the cake was.', 'the pizza was.', rng)).toBe('tie');
  });

  it('breaks ties with a fair coin under tieRule random', () => {
    const a = make('positive', { tieRule: 'random' });
    const rng = new Rng(3);
    const answers = Array.from({ length: 4000 }, () => a.label('', 'the cake was.', 'the pizza was.', rng));
    expect(count(answers, 'tie')).toBe(0);
    expect(count(answers, 'A') / answers.length).toBeGreaterThan(0.46);
    expect(count(answers, 'A') / answers.length).toBeLessThan(0.54);
  });

  it('flips A/B answers with probability noise', () => {
    const a = make('positive', { noise: 0.2 });
    const rng = new Rng(4);
    const answers = Array.from({ length: 5000 }, () => a.label('', better, worse, rng));
    const flipped = count(answers, 'B') / answers.length;
    expect(flipped).toBeGreaterThan(0.18);
    expect(flipped).toBeLessThan(0.22);
  });

  it('is reproducible from the seed', () => {
    const a = make('positive', { noise: 0.3, tieRule: 'random' });
    const run = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 30 }, (_, i) => a.label('', i % 2 ? better : 'the cake was.', 'the pizza was.', rng));
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });
});

describe('gold evaluation', () => {
  it('winRate counts ties as half', () => {
    expect(winRate([3, 1, 2], [1, 1, 5])).toBeCloseTo(0.5, 12);
    expect(winRate([2, 2], [1, 1])).toBe(1);
    expect(winRate([0], [0])).toBe(0.5);
    expect(() => winRate([1, 2], [1])).toThrow(/2 policy scores vs 1/);
    expect(() => winRate([], [])).toThrow(RangeError);
  });
});
