// The grammar check: could the corpus's generator (./corpus.ts) have written this review, and if
// not, where does it first break? It reads the generator's own templates (SENTENCE_KINDS) and word
// lists, so the two cannot drift: a review is grammatical when some topic and sentiment make every
// sentence an instance of a template (the first never a closing remark), the review has at most
// max(SENTENCE_COUNTS) sentences and MAX_REVIEW_TOKENS tokens, and it ends with "." and then EOS.
// It is a small backtracking parser over the sentences, which split at "." (no template writes one
// inside a sentence), with the topic and sentiment as the only state carried between them.
import {
  ADJECTIVES, be, conjunctions, FIRST_SENTENCE_KINDS, intensifiers, MAX_REVIEW_TOKENS, SENTENCE_COUNTS, SENTIMENTS,
  SENTENCE_KINDS, splitTokens, TOPICS, type AspectRef, type Part, type Sentiment, type Template,
} from './corpus';
import { EOS_TOKEN, isTruncated } from './tokenizer';


export type GrammarVerdict =
  | { ok: true }
  | {
      ok: false;
      /** Token index (in the whole review, prompt included) of the first token no review can have. */
      index: number;
      /** What the grammar allowed there, in words: 'a positive adjective', '"." (the end of the sentence)'. */
      rule: string;
      /** Tokens that could have stood there ('<eos>' for the end), sorted. */
      expected: readonly string[];
    };

const MAX_SENTENCES = Math.max(...SENTENCE_COUNTS);
const SENTIMENT_NAMES: Readonly<Record<Sentiment, string>> = { pos: 'positive', neg: 'negative', neu: 'neutral' };

/** One way a part may be written: its tokens, and the aspect it names (for agreement). */
interface Option {
  tokens: readonly string[];
  aspect?: string;
}

/** A part's options, and the same indexed by their first token (the parser's fast path). */
interface Options {
  all: readonly Option[];
  byFirst: ReadonlyMap<string, readonly Option[]>;
  /** The tokens an option may start with. */
  firsts: readonly string[];
}

function options(all: Option[]): Options {
  const byFirst = new Map<string, Option[]>();
  for (const o of all) byFirst.set(o.tokens[0], [...(byFirst.get(o.tokens[0]) ?? []), o]);
  return { all, byFirst, firsts: [...byFirst.keys()] };
}

const tokensOf = (phrase: string): Option => ({ tokens: splitTokens(phrase) });

/** A template with its parts' fixed options worked out once (the rest depend on what was matched). */
interface Compiled {
  template: Template;
  /** Options of 'word' and 'choice' parts, by part index. */
  fixed: (Options | null)[];
}

function compile(template: Template): Compiled {
  return {
    template,
    fixed: template.parts.map((p) => (p.kind === 'word' ? options([{ tokens: [p.word] }]) : p.kind === 'choice' ? options(p.options.map(tokensOf)) : null)),
  };
}

const bySentiment = <T>(f: (s: Sentiment) => T) => Object.fromEntries(SENTIMENTS.map((s) => [s, f(s)])) as Record<Sentiment, T>;

/** Every sentence kind's template for each sentiment: all of them, and those that may open a review. */
const ALL_KINDS = bySentiment((s) => SENTENCE_KINDS.map((kind) => compile(kind(s))));
const OPENING_KINDS = bySentiment((s) => ALL_KINDS[s].filter((_, k) => FIRST_SENTENCE_KINDS.includes(k)));
/** Adjective options per sentiment, without and with "what a" before them. */
const ADJECTIVE_OPTIONS = bySentiment((s) => [false, true].map((afterArticle) => options([...new Set(intensifiers(s, afterArticle))].flatMap((i) => ADJECTIVES[s].map((a) => tokensOf(i + a))))));
const CONJUNCTIONS = bySentiment((s) => bySentiment((s2) => options(conjunctions(s, s2).map(tokensOf))));
const ASPECT_OPTIONS = Object.fromEntries(Object.entries(TOPICS).map(([t, aspects]) => [t, options(aspects.map((a) => ({ tokens: [a], aspect: a })))]));
const TOPIC_OPTIONS = Object.fromEntries(Object.keys(TOPICS).map((t) => [t, options([{ tokens: [t] }])]));
const BE_OPTIONS = Object.fromEntries(Object.values(TOPICS).flat().map((a) => [a, options([{ tokens: [be(a)] }])]));

/** Words only a topic or aspect part writes, and the topics they belong to: a sentence holding one can
 *  only be about those topics (the parser's cheap first cut, derived from the same tables). */
const TOPIC_WORDS: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const free = new Set<string>();
  for (const kinds of Object.values(ALL_KINDS)) for (const c of kinds) for (const o of c.fixed) o?.all.forEach((x) => x.tokens.forEach((t) => free.add(t)));
  for (const s of SENTIMENTS) for (const lists of [...ADJECTIVE_OPTIONS[s], ...Object.values(CONJUNCTIONS[s])]) lists.all.forEach((x) => x.tokens.forEach((t) => free.add(t)));
  for (const o of Object.values(BE_OPTIONS)) free.add(o.all[0].tokens[0]);
  const topicsOf = new Map<string, Set<string>>();
  for (const [topic, aspects] of Object.entries(TOPICS)) {
    for (const word of [topic, ...aspects]) if (!free.has(word)) topicsOf.set(word, new Set([...(topicsOf.get(word) ?? []), topic]));
  }
  return topicsOf;
})();

function ruleOf(part: Part, topic: string, mood: Sentiment): string {
  switch (part.kind) {
    case 'word': return `"${part.word}"`;
    case 'topic': return `the topic ("${topic}")`;
    case 'aspect': return `an aspect of the ${topic}`;
    case 'be': return '"was" or "were", agreeing with its noun';
    case 'adjective': return `${part.half === 'review' ? `a ${SENTIMENT_NAMES[mood]}` : 'an'} adjective${part.half === 'second' ? ' (second half)' : ''}`;
    case 'choice': return part.rule;
    case 'conjunction': return 'a conjunction ("and" for the same sentiment, "but" or "yet" for a contrast)';
  }
}

/** The furthest point any reading reached, and what it expected there. */
class Furthest {
  index = -1;
  rules = new Set<string>();
  expected = new Set<string>();

  /** `rule` is made only when the point is at least as far as the furthest so far. */
  note(index: number, rule: () => string, tokens: readonly string[]): void {
    if (index < this.index) return;
    if (index > this.index) {
      this.index = index;
      this.rules.clear();
      this.expected.clear();
    }
    this.rules.add(rule());
    for (const t of tokens) this.expected.add(t);
  }

  verdict(): GrammarVerdict {
    return { ok: false, index: this.index, rule: [...this.rules].join(' or '), expected: [...this.expected].sort() };
  }
}

/**
 * Whether tokens[start, end) is one sentence of `compiled` for `topic` and review sentiment `s`.
 * Each part looks up only the options that start with the token at hand; with `far`, each reading
 * that fails notes there where it stopped and what it expected (run only to explain a rejection).
 */
function matchTemplate(tokens: readonly string[], start: number, end: number, compiled: Compiled, topic: string, s: Sentiment, far: Furthest | null): boolean {
  const { parts } = compiled.template;
  const bound: Partial<Record<AspectRef, string>> = {};
  const visit = (i: number, pos: number, s2: Sentiment): boolean => {
    if (i === parts.length) {
      if (pos === end) return true;
      far?.note(pos, () => '"." (the end of the sentence)', ['.']);
      return false;
    }
    const part = parts[i];
    // The pair's second aspect differs from its first (the generator samples two without replacement).
    const excluded = part.kind === 'aspect' && part.of === 'second' ? bound.first : undefined;
    const choices = optionsOf(compiled, i, part, topic, s, s2, bound);
    const candidates = (pos < end && choices.byFirst.get(tokens[pos])) || [];
    const rule = () => ruleOf(part, topic, part.kind === 'adjective' && part.half === 'second' ? s2 : s);
    let advanced = false;
    for (const option of candidates) {
      if (option.aspect !== undefined && option.aspect === excluded) continue;
      advanced = true;
      let k = 1;
      while (k < option.tokens.length && pos + k < end && tokens[pos + k] === option.tokens[k]) k++;
      if (k < option.tokens.length) {
        far?.note(pos + k, rule, [option.tokens[k]]);
        continue;
      }
      const previous = part.kind === 'aspect' ? bound[part.of] : undefined;
      if (part.kind === 'aspect') bound[part.of] = option.aspect;
      const matched = visit(i + 1, pos + k, s2);
      if (part.kind === 'aspect') bound[part.of] = previous;
      if (matched) return true;
    }
    // No option starts here: the reading stops at pos (one that went further has noted that instead).
    if (!advanced) far?.note(pos, rule, excluded === undefined ? choices.firsts : choices.firsts.filter((t) => t !== excluded));
    return false;
  };
  if (!compiled.template.secondHalf) return visit(0, start, s);
  return SENTIMENTS.some((s2) => visit(0, start, s2));
}

function optionsOf(compiled: Compiled, i: number, part: Part, topic: string, s: Sentiment, s2: Sentiment, bound: Partial<Record<AspectRef, string>>): Options {
  const fixed = compiled.fixed[i];
  if (fixed) return fixed;
  switch (part.kind) {
    case 'topic': return TOPIC_OPTIONS[topic];
    case 'aspect': return ASPECT_OPTIONS[topic];
    case 'be': return BE_OPTIONS[bound[part.of]!];
    case 'adjective': return ADJECTIVE_OPTIONS[part.half === 'review' ? s : s2][part.afterArticle ? 1 : 0];
    case 'conjunction': return CONJUNCTIONS[s][s2];
    default: throw new Error(`part "${part.kind}" has fixed options`);
  }
}

interface Context {
  topic: string;
  mood: Sentiment;
}

const CONTEXTS: readonly Context[] = Object.keys(TOPICS).flatMap((topic) => SENTIMENTS.map((mood) => ({ topic, mood })));

/**
 * Whether the generator could have written `tokens` (words and punctuation) as a whole review,
 * `ended` saying whether EOS followed them; if not, the first token index where every reading fails.
 */
export function checkReview(tokens: readonly string[], ended: boolean): GrammarVerdict {
  const verdict = checkSentences(tokens, ended);
  // The length cap: no review has a token at index MAX_REVIEW_TOKENS (EOS must have come by then).
  if (tokens.length > MAX_REVIEW_TOKENS && (verdict.ok || verdict.index > MAX_REVIEW_TOKENS)) {
    return { ok: false, index: MAX_REVIEW_TOKENS, rule: `the end of the review (at most ${MAX_REVIEW_TOKENS} tokens)`, expected: [EOS_TOKEN] };
  }
  return verdict;
}

function checkSentences(tokens: readonly string[], ended: boolean): GrammarVerdict {
  let alive = CONTEXTS;
  let start = 0;
  for (let sentence = 0; ; sentence++) {
    if (start === tokens.length && sentence > 0) {
      return ended ? { ok: true } : { ok: false, index: start, rule: 'the end of the review (EOS)', expected: [EOS_TOKEN] };
    }
    if (sentence === MAX_SENTENCES) {
      return { ok: false, index: start, rule: `the end of the review (at most ${MAX_SENTENCES} sentences)`, expected: [EOS_TOKEN] };
    }
    const dot = tokens.indexOf('.', start);
    const end = dot === -1 ? tokens.length : dot;
    const kinds = sentence === 0 ? OPENING_KINDS : ALL_KINDS;
    const matches = (far: Furthest | null) => ({ topic, mood }: Context) => kinds[mood].some((c) => matchTemplate(tokens, start, end, c, topic, mood, far));
    const topics = topicsOf(tokens, start, end);
    const candidates = topics ? alive.filter((c) => topics.has(c.topic)) : alive;
    const next = candidates.filter(matches(null));
    if (next.length === 0) {
      // Explain the rejection from every reading still open (all of them if the topic words clash).
      const far = new Furthest();
      (candidates.length > 0 ? candidates : alive).forEach(matches(far));
      return far.verdict();
    }
    if (dot === -1) return { ok: false, index: end, rule: '"." (the end of the sentence)', expected: ['.'] };
    alive = next;
    start = dot + 1;
  }
}

/** The topics a sentence's topic words allow, or null when it has none (any topic). */
function topicsOf(tokens: readonly string[], start: number, end: number): ReadonlySet<string> | null {
  let topics: ReadonlySet<string> | null = null;
  for (let i = start; i < end; i++) {
    const own = TOPIC_WORDS.get(tokens[i]);
    if (own) topics = topics === null ? own : intersect(topics, own);
  }
  return topics;
}

function intersect(a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> {
  return new Set([...a].filter((x) => b.has(x)));
}

/** The grammar check of a prompt and a sampled completion's text (a truncated one never saw EOS). */
export function checkCompletion(prompt: string, completion: string): GrammarVerdict & { promptTokens: number } {
  const promptTokens = splitTokens(prompt);
  // splitTokens drops the truncation mark, which is not a token.
  return { ...checkReview([...promptTokens, ...splitTokens(completion)], !isTruncated(completion)), promptTokens: promptTokens.length };
}

/** Repeated words in a text's tokens: words minus distinct words (punctuation not counted). */
export function repeatedWords(tokens: readonly string[]): number {
  const words = tokens.filter((t) => t !== '.' && t !== ',');
  return words.length - new Set(words).size;
}
