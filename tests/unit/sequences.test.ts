import { describe, expect, it } from 'vitest';
import { EOS_ID, PAD_ID, Tokenizer } from '../../src/lib/data/tokenizer';
import { isTruncated } from '../../src/lib/data/tokenizer';
import { completionIds, completionText, encodeBatch } from '../../src/lib/rl/sequences';

const tok = new Tokenizer();

describe('sequences', () => {
  it('round-trips finished and truncated completions through text', () => {
    const finished = [...tok.encode('great. we loved it.'), EOS_ID];
    const truncated = tok.encode('great and the crust was so');
    expect(completionText(tok, finished)).toBe('great. we loved it.');
    expect(completionText(tok, truncated)).toBe('great and the crust was so …');
    expect(isTruncated(completionText(tok, truncated))).toBe(true);
    expect(completionIds(tok, completionText(tok, finished))).toEqual(finished);
    expect(completionIds(tok, completionText(tok, truncated))).toEqual(truncated);
  });

  it('lays out left-padded prompts and right-padded completions', () => {
    const b = encodeBatch(tok, ['the pizza was', 'what a'], ['great.', 'nice cafe. i would go again.']);
    expect(b.promptWidth).toBe(4);
    expect(b.batch).toBe(2);
    const row1 = Array.from(b.ids.subarray(0, b.width));
    const row2 = Array.from(b.ids.subarray(b.width));
    expect(row1.slice(0, 4)).toEqual(tok.encodePrompt('the pizza was'));
    expect(row1.slice(4, 7)).toEqual([...tok.encode('great.'), EOS_ID]);
    expect(row1.slice(7).every((t) => t === PAD_ID)).toBe(true);
    expect(row2.slice(0, 4)).toEqual([PAD_ID, ...tok.encodePrompt('what a')]);
    expect(b.width).toBe(4 + tok.encode('nice cafe. i would go again.').length + 1);
  });
});
