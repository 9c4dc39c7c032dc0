import { describe, expect, it } from 'vitest';
import { corpusWords, generateCorpus, generatePrompts, generateReview, MAX_REVIEW_TOKENS, splitTokens, TOPICS } from '../../src/lib/data/corpus';
import { Rng } from '../../src/lib/math/rng';

describe('corpus', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateCorpus(200, 7)).toEqual(generateCorpus(200, 7));
    expect(generateCorpus(200, 7)).not.toEqual(generateCorpus(200, 8));
  });

  it('writes only vocabulary words and stays within the length cap', () => {
    const vocab = new Set(corpusWords());
    const corpus = generateCorpus(5000, 3);
    for (const review of corpus) {
      const toks = splitTokens(review);
      expect(toks.length).toBeLessThanOrEqual(MAX_REVIEW_TOKENS);
      for (const w of toks) expect(vocab.has(w), `"${w}" in "${review}"`).toBe(true);
    }
  });

  it('is varied: every topic appears and most reviews are distinct', () => {
    const corpus = generateCorpus(5000, 4);
    for (const topic of Object.keys(TOPICS)) expect(corpus.some((r) => r.includes(topic))).toBe(true);
    expect(new Set(corpus).size / corpus.length).toBeGreaterThan(0.7);
    const used = new Set(corpus.flatMap(splitTokens));
    expect(used.size).toBe(corpusWords().length);
  });

  it('honours a requested topic and mood', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 50; i++) {
      const r = generateReview(rng, { topic: 'pizza', mood: 'neg', sentences: 1 });
      expect(r.endsWith('.')).toBe(true);
      expect(r).not.toMatch(/\b(great|lovely|loved|amazing)\b/);
    }
    expect(() => generateReview(rng, { topic: 'spaceship' })).toThrow(/unknown topic/);
  });

  it('makes prompts of two or three words', () => {
    for (const p of generatePrompts(300, 9)) {
      const n = p.split(' ').length;
      expect(n === 2 || n === 3).toBe(true);
      expect(p).not.toMatch(/[.,]$/);
    }
  });
});
