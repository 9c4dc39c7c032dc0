import { describe, expect, it } from 'vitest';
import { corpusWords, generateCorpus } from '../../src/lib/data/corpus';
import { EOS_ID, PAD_ID, Tokenizer, UnknownWordsError } from '../../src/lib/data/tokenizer';

describe('tokenizer', () => {
  const tok = new Tokenizer();

  it('has PAD, EOS and every corpus word', () => {
    expect(tok.vocab[PAD_ID]).toBe('<pad>');
    expect(tok.vocab[EOS_ID]).toBe('<eos>');
    expect(tok.size).toBe(corpusWords().length + 2);
  });

  it('round-trips every review of a corpus', () => {
    for (const text of generateCorpus(2000, 11)) expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('decodes up to EOS, skips PAD and attaches punctuation', () => {
    const ids = [...tok.encode('the pizza was great, and cheap.'), EOS_ID, ...tok.encode('never again.')];
    expect(tok.decode([PAD_ID, PAD_ID, ...ids])).toBe('the pizza was great, and cheap.');
    expect(() => tok.decode([9999])).toThrow(RangeError);
  });

  it('normalises case and spacing of typed text', () => {
    expect(tok.encode('  The PIZZA   was ')).toEqual(tok.encode('the pizza was'));
  });

  it('reports every unknown word, in order, once, instead of dropping it', () => {
    const r = tok.tryEncode('the pizza was yummy and yummy, gr8 and cheap!');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.unknown).toEqual(['yummy', 'gr8', 'cheap!']);
    expect(() => tok.encode('the spaceship was great')).toThrow(UnknownWordsError);
    try {
      tok.encode('the spaceship was great');
    } catch (e) {
      expect((e as UnknownWordsError).unknown).toEqual(['spaceship']);
      expect((e as Error).message).toContain('"spaceship"');
    }
  });

  it('puts EOS before a prompt and after a document', () => {
    expect(tok.encodePrompt('what a')[0]).toBe(EOS_ID);
    const doc = tok.encodeDocument('we loved this cafe.');
    expect(doc[doc.length - 1]).toBe(EOS_ID);
  });

  it('rebuilds from a saved vocabulary and refuses a malformed one', () => {
    const again = Tokenizer.fromVocab(JSON.parse(JSON.stringify(tok.vocab)));
    expect(again.vocab).toEqual(tok.vocab);
    expect(() => Tokenizer.fromVocab({})).toThrow(/list/);
    expect(() => Tokenizer.fromVocab(['a', 'b', 'c'])).toThrow(/start with/);
  });
});
