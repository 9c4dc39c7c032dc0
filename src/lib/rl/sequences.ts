// Prompt + completion text <-> token batches. Completions travel as text (labels, the UI, TRL's
// export); a completion that hit the token budget without EOS is marked with a trailing " …",
// so that re-encoding it gives the same tokens the policy produced (no EOS), which the reward model
// and the PPO truncation penalty need to tell apart from a finished sentence.
import { EOS_ID, isTruncated, PAD_ID, TRUNCATED_MARK, type Tokenizer } from '../data/tokenizer';

/** Text of completion ids; " …" marks a completion without EOS. */
export function completionText(tokenizer: Tokenizer, ids: readonly number[]): string {
  const finished = ids.length > 0 && ids[ids.length - 1] === EOS_ID;
  return tokenizer.decode(ids) + (finished ? '' : TRUNCATED_MARK);
}

/** Ids of a completion text: its words, then EOS unless it is marked as truncated. */
export function completionIds(tokenizer: Tokenizer, text: string): number[] {
  const truncated = isTruncated(text);
  const body = truncated ? text.slice(0, text.lastIndexOf(TRUNCATED_MARK.trim())) : text;
  const ids = tokenizer.encode(body);
  return truncated ? ids : [...ids, EOS_ID];
}

/** A batch of prompt | completion rows: prompts left-padded to promptWidth, completions right-padded. */
export interface SequenceBatch {
  ids: Int32Array;
  batch: number;
  width: number;
  promptWidth: number;
}

/** Lays out id lists as a SequenceBatch (prompt ids start with EOS, as Tokenizer.encodePrompt gives). */
export function layoutBatch(prompts: readonly number[][], completions: readonly number[][]): SequenceBatch {
  if (prompts.length !== completions.length) throw new RangeError('prompts and completions differ in number');
  const P = Math.max(...prompts.map((p) => p.length));
  const N = Math.max(1, ...completions.map((c) => c.length));
  const width = P + N;
  const ids = new Int32Array(prompts.length * width).fill(PAD_ID);
  prompts.forEach((p, b) => {
    ids.set(p, b * width + P - p.length);
    ids.set(completions[b], b * width + P);
  });
  return { ids, batch: prompts.length, width, promptWidth: P };
}

/** Encodes prompt and completion texts into a SequenceBatch. Throws UnknownWordsError on foreign words. */
export function encodeBatch(tokenizer: Tokenizer, prompts: readonly string[], completions: readonly string[]): SequenceBatch {
  return layoutBatch(
    prompts.map((p) => tokenizer.encodePrompt(p)),
    completions.map((c) => completionIds(tokenizer, c)),
  );
}
