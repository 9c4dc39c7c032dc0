import { describe, expect, it } from 'vitest';
import {
  ADJECTIVES, be, conjunctions, FIRST_SENTENCE_KINDS, generateCorpus, intensifiers, MAX_REVIEW_TOKENS,
  SENTENCE_KINDS, splitTokens, TOPICS, type Part, type Sentiment,
} from '../../src/lib/data/corpus';
import { checkCompletion, checkReview, repeatedWords } from '../../src/lib/data/grammar';
import { EOS_TOKEN } from '../../src/lib/data/tokenizer';
import { Rng } from '../../src/lib/math/rng';

const check = (text: string, ended = true) => checkReview(splitTokens(text), ended);

function broken(text: string, ended = true) {
  const v = check(text, ended);
  if (v.ok) throw new Error(`accepted "${text}"`);
  return v;
}

describe('grammar check', () => {
  it('accepts every one of 10,000 generated reviews', () => {
    const rejected = generateCorpus(10_000, 21).filter((r) => !check(r).ok);
    expect(rejected).toEqual([]);
  });

  it('accepts a generated prompt finished by its own review, and reads EOS from the truncation mark', () => {
    expect(checkCompletion('the pizza was', 'great.')).toEqual({ ok: true, promptTokens: 3 });
    expect(checkCompletion('the pizza was', 'great. …')).toMatchObject({ ok: false, index: 5, expected: [EOS_TOKEN] });
  });

  it('rejects a repeated word at the repeat', () => {
    expect(broken('the pizza was great. i am am so glad we went.')).toMatchObject({ index: 7, rule: 'a closing remark', expected: ['so'] });
    expect(broken('the the pizza was great.')).toMatchObject({ index: 1 });
  });

  it('rejects a sentence cut mid-way where it stops', () => {
    const v = broken('the pizza was.');
    expect(v.index).toBe(3);
    expect(v.expected).toContain('great');
    expect(v.expected).toContain('very');
    expect(broken('the crust was good, and the.')).toMatchObject({ index: 7, rule: 'an aspect of the pizza' });
  });

  it('rejects a word from the wrong sentiment list where the template forbids it', () => {
    // A review keeps one mood: a positive first sentence cannot be followed by a negative remark.
    const mood = broken('the pizza was great. never again.');
    expect(mood.index).toBe(5);
    expect(mood.rule).toContain('a closing remark');
    expect(mood.expected).not.toContain('never');
    expect(check('the pizza was awful. never again.').ok).toBe(true);
    // "and" joins halves of the same sentiment; a contrast needs "but" or "yet".
    const v = broken('the crust was great and the box was awful.');
    expect(v.index).toBe(8);
    expect(v.expected).toContain('great');
    expect(v.expected).not.toContain('awful');
    expect(check('the crust was great but the box was awful.').ok).toBe(true);
    // "too" takes only the complaint adjectives, and only in a negative review.
    expect(broken('the crust was too great.')).toMatchObject({ index: 4, rule: 'an adjective after "too"' });
  });

  it('rejects a missing EOS at the end', () => {
    expect(broken('the pizza was great.', false)).toMatchObject({ index: 5, rule: 'the end of the review (EOS)', expected: [EOS_TOKEN] });
    expect(broken('the pizza was great')).toMatchObject({ index: 4, expected: ['.'] });
  });

  it('rejects a review over the length cap at the first token past it', () => {
    const long = 'the crust was very good, and the box was very nice. ten out of ten.';
    expect(splitTokens(long).length).toBeGreaterThan(MAX_REVIEW_TOKENS);
    expect(check('the crust was very good, and the box was very nice.').ok).toBe(true);
    expect(broken(long)).toMatchObject({ index: MAX_REVIEW_TOKENS, expected: [EOS_TOKEN] });
  });

  it('rejects an opening closing remark, agreement errors and two equal aspects of a pair', () => {
    expect(broken('ten out of ten.')).toMatchObject({ index: 0 });
    expect(broken('the levels was fun.').expected).toContain('were');
    expect(broken('the levels was fun.').expected).not.toContain('was');
    expect(broken('the crust was better than the crust.')).toMatchObject({ index: 6 });
    expect(broken('')).toMatchObject({ index: 0 });
  });

  it('counts repeated words, not punctuation', () => {
    expect(repeatedWords(splitTokens('i am am so glad, so glad.'))).toBe(3);
    expect(repeatedWords(splitTokens('the pizza was great.'))).toBe(0);
  });
});

/** Every opening sentence for `topic` of at most `maxTokens` tokens (the full stop not counted), by
 *  exhaustive expansion of the generator's templates: a second reading of the same data, by
 *  generation rather than by parsing. */
function enumerateSentences(topic: string, maxTokens: number): Set<string> {
  const out = new Set<string>();
  const aspects = TOPICS[topic];
  const moods: Sentiment[] = ['pos', 'neg', 'neu'];
  for (const s of moods) {
    for (const kind of new Set(FIRST_SENTENCE_KINDS)) {
      const template = SENTENCE_KINDS[kind](s);
      const expand = (parts: readonly Part[], prefix: string[], s2: Sentiment, bound: Record<string, string>): void => {
        if (prefix.length > maxTokens) return;
        if (parts.length === 0) return void out.add(prefix.join(' '));
        const [part, ...rest] = parts;
        const go = (words: string[], extra: Record<string, string> = {}): void => expand(rest, [...prefix, ...words], s2, { ...bound, ...extra });
        switch (part.kind) {
          case 'word': return go([part.word]);
          case 'topic': return go([topic]);
          case 'aspect': for (const a of aspects) if (part.of !== 'second' || a !== bound.first) go([a], { [part.of]: a }); return;
          case 'be': return go([be(bound[part.of])]);
          case 'adjective': {
            const m = part.half === 'review' ? s : s2;
            for (const i of new Set(intensifiers(m, part.afterArticle))) for (const a of ADJECTIVES[m]) go(splitTokens(i + a));
            return;
          }
          case 'choice': for (const o of part.options) go(splitTokens(o)); return;
          case 'conjunction': for (const c of conjunctions(s, s2)) go(splitTokens(c)); return;
        }
      };
      for (const s2 of template.secondHalf ? moods : [s]) expand(template.parts, [], s2, {});
    }
  }
  return out;
}

describe('grammar check against the exhaustively expanded language', () => {
  const MAX = 8; // below the shortest two-aspect sentence (9 tokens): the subset is small enough to list
  const language = enumerateSentences('pizza', MAX);
  const alphabet = [...new Set([...language].flatMap((x) => x.split(' '))), 'and', ',', 'coffee', 'screen', 'worse', 'too', 'very'];

  it('accepts every sentence of the subset', () => {
    expect(language.size).toBeGreaterThan(3000);
    for (const x of language) expect(check(`${x}.`).ok, x).toBe(true);
  });

  it('never accepts a token string the generator cannot produce (random strings and near misses)', () => {
    const rng = new Rng(99);
    const members = [...language];
    let accepted = 0;
    for (let trial = 0; trial < 20_000; trial++) {
      let tokens: string[];
      if (trial % 2 === 0) {
        tokens = Array.from({ length: 1 + rng.int(MAX) }, () => rng.pick(alphabet));
      } else {
        // A member with one token replaced, inserted, deleted or doubled: strings at the language's edge.
        tokens = rng.pick(members).split(' ');
        const at = rng.int(tokens.length);
        const op = rng.int(4);
        if (op === 0) tokens[at] = rng.pick(alphabet);
        else if (op === 1) tokens.splice(at, 0, rng.pick(alphabet));
        else if (op === 2) tokens.splice(at, 1);
        else tokens.splice(at, 0, tokens[at]);
      }
      if (tokens.length === 0 || tokens.length > MAX) continue;
      const ok = check(`${tokens.join(' ')}.`).ok;
      // Over the pizza alphabet a one-sentence review of any topic is one of pizza's (no other
      // topic's own words are in it but "coffee" and "screen", which no pizza sentence holds).
      const expected = language.has(tokens.join(' ')) || (ok && (tokens.includes('coffee') || tokens.includes('screen')) && isOtherTopic(tokens));
      expect(ok, tokens.join(' ')).toBe(expected);
      if (ok) accepted++;
    }
    expect(accepted).toBeGreaterThan(500);
  });
});

const OTHER = new Map(['cafe', 'phone'].map((t) => [t, enumerateSentences(t, 8)]));
function isOtherTopic(tokens: string[]): boolean {
  return [...OTHER.values()].some((l) => l.has(tokens.join(' ')));
}
