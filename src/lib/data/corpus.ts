// Procedural corpus of short reviews: the text the base model is pretrained on, and the source of
// prompts. Improves on reference/prototype/corpus.py: more topics and aspects, people, "too ..."
// and comparison sentences, sentiment-matched endings, and a length cap so that a prompt of two or
// three words is completed within the model's 12 new tokens. Everything is lower case; the closed
// word list below is the tokenizer's vocabulary, so the model cannot misspell.
import { Rng } from '../math/rng';

export type Sentiment = 'pos' | 'neg' | 'neu';

/** topic -> aspects a reviewer talks about. */
export const TOPICS: Readonly<Record<string, readonly string[]>> = {
  movie: ['plot', 'actors', 'music', 'ending', 'jokes'],
  book: ['story', 'ending', 'hero', 'cover', 'writing'],
  pizza: ['crust', 'cheese', 'sauce', 'price', 'box'],
  hotel: ['room', 'bed', 'staff', 'pool', 'view'],
  game: ['levels', 'music', 'controls', 'boss', 'story'],
  song: ['beat', 'voice', 'lyrics', 'chorus', 'video'],
  cafe: ['coffee', 'cake', 'staff', 'music', 'chairs'],
  park: ['trees', 'paths', 'lake', 'dogs', 'benches'],
  trip: ['train', 'food', 'weather', 'beach', 'guide'],
  phone: ['screen', 'battery', 'camera', 'case', 'price'],
  class: ['teacher', 'homework', 'tests', 'room', 'lessons'],
  show: ['cast', 'songs', 'ending', 'costumes', 'story'],
  museum: ['paintings', 'guide', 'shop', 'tickets', 'rooms'],
  bakery: ['bread', 'cake', 'staff', 'price', 'smell'],
};

export const ADJECTIVES: Readonly<Record<Sentiment, readonly string[]>> = {
  pos: ['good', 'great', 'nice', 'fun', 'lovely', 'amazing', 'wonderful', 'awesome', 'perfect',
    'beautiful', 'excellent', 'fantastic', 'sweet', 'funny', 'fresh', 'friendly', 'clean', 'calm',
    'brilliant', 'interesting', 'exciting', 'charming', 'delicious', 'fine', 'cool'],
  neg: ['bad', 'awful', 'boring', 'terrible', 'horrible', 'ugly', 'sad', 'dull', 'poor', 'weird',
    'stupid', 'rude', 'dirty', 'noisy', 'broken', 'wrong', 'nasty', 'lame', 'gross', 'annoying',
    'scary', 'strange'],
  neu: ['long', 'short', 'small', 'old', 'new', 'loud', 'quiet', 'cheap', 'slow', 'cold', 'simple',
    'tiny', 'red', 'late', 'early', 'usual', 'busy', 'plain', 'full', 'empty'],
};

/** Neutral adjectives that read as a complaint after "too". */
const TOO_ADJECTIVES = ['long', 'small', 'old', 'loud', 'slow', 'cold', 'busy', 'plain'];

export const VERBS: Readonly<Record<Sentiment, readonly string[]>> = {
  pos: ['loved', 'liked', 'enjoyed'],
  neg: ['hated', 'disliked'],
  neu: ['watched', 'tried', 'saw', 'visited', 'got'],
};

const PEOPLE = ['my sister', 'my brother', 'my mom', 'my dad', 'my friend', 'the kids'];

export const ENDINGS: Readonly<Record<Sentiment, readonly string[]>> = {
  pos: ['i would go again.', 'we had a great time.', 'my friends loved it.', 'ten out of ten.',
    'i am so glad we went.', 'it made me smile.', 'best day ever.', 'highly recommended.'],
  neg: ['never again.', 'what a waste.', 'i want my money back.', 'it was the worst.',
    'my friends hated it.', 'i was so bored.', 'it made me sad.', 'do not bother.'],
  neu: ['it was a tuesday.', 'we left at noon.', 'that is all.', 'we took the bus home.',
    'my sister came too.', 'it was raining.', 'we sat near the door.'],
};

/** Intensifiers; the empty entries make "no intensifier" the most common case (5 in 8: the choice
 *  costs 1.07 nats per adjective instead of prototype2's 1.47, which held the base model above
 *  1.50 nats/token). "quite" was dropped: "quite awesome" reads oddly. After "what a", only "very"
 *  and "really" read well ("what a so sad movie" was a wart of the prototype's corpus). */
export const INTENSIFIERS = ['', '', '', '', '', 'very ', 'really ', 'so '];
export const ARTICLE_INTENSIFIERS = ['', '', '', '', '', 'very ', 'really '];
/** Conjunctions of the two-aspect sentence: "and" when both halves share a sentiment, else a contrast. */
export const SAME_CONJ = [' and ', ', and '];
export const DIFF_CONJ = [' but ', ', but ', ' yet '];
/** Every sentiment, once. */
export const SENTIMENTS: readonly Sentiment[] = ['pos', 'neg', 'neu'];
/** Chance that the second half of a two-aspect sentence keeps the review's sentiment. */
const SAME_HALF = 0.7;

/** Words the templates write besides the lists above. */
const TEMPLATE_WORDS = ['the', 'was', 'were', 'i', 'we', 'this', 'what', 'a', 'felt', 'looked',
  'too', 'than', 'better', 'worse', 'and', 'but', 'yet'];

/** Longest review in tokens (words and punctuation, EOS not counted): a two-word prompt plus
 *  at most 12 new tokens, the last being EOS. */
export const MAX_REVIEW_TOKENS = 13;

const WORD_RE = /[a-z']+|[.,]/g;

/** Words and punctuation marks of a text, in order. */
export function splitTokens(text: string): string[] {
  return text.toLowerCase().match(WORD_RE) ?? [];
}

/** Every word and punctuation mark the generator can write, sorted: the closed vocabulary. */
export function corpusWords(): string[] {
  const words = new Set<string>();
  const add = (s: string) => splitTokens(s).forEach((w) => words.add(w));
  for (const [topic, aspects] of Object.entries(TOPICS)) [topic, ...aspects].forEach(add);
  for (const s of ['pos', 'neg', 'neu'] as const) {
    [...ADJECTIVES[s], ...VERBS[s], ...ENDINGS[s]].forEach(add);
  }
  [...PEOPLE, ...INTENSIFIERS, ...SAME_CONJ, ...DIFF_CONJ, ...TEMPLATE_WORDS].forEach(add);
  return [...words].sort();
}

/** "was" or "were" for a noun (plural nouns end in s, except "class" and "boss"). */
export function be(noun: string): string {
  return noun.endsWith('s') && noun !== 'class' && noun !== 'boss' ? 'were' : 'was';
}

// The grammar, as data. A sentence template is a list of parts; the generator below draws each
// part's words at random, and ./grammar.ts reads the same templates to decide whether a text is a
// review they could have written. There is no second copy of the grammar.

/** Which aspect a part refers to: the sentence's own (drawn for every sentence), or the first or
 *  second of a two-aspect sentence's pair (two different aspects of the topic). */
export type AspectRef = 'own' | 'first' | 'second';

/** One part of a sentence template. */
export type Part =
  | { kind: 'word'; word: string }
  | { kind: 'topic' }
  | { kind: 'aspect'; of: AspectRef }
  /** "was" or "were", agreeing with the aspect. */
  | { kind: 'be'; of: AspectRef }
  /** An adjective of the review's sentiment (or the second half's), maybe intensified (never when neutral). */
  | { kind: 'adjective'; half: 'review' | 'second'; afterArticle: boolean }
  /** One of a list of phrases; `rule` names it in the grammar check's messages. */
  | { kind: 'choice'; rule: string; options: readonly string[] }
  /** The two-aspect sentence's conjunction, drawn with the second half's sentiment. */
  | { kind: 'conjunction' };

export interface Template {
  /** Draws made before any word is written, in this order: the two-aspect pair, then the second
   *  half's sentiment and its conjunction. */
  readonly pair: boolean;
  readonly secondHalf: boolean;
  readonly parts: readonly Part[];
}

const w = (word: string): Part => ({ kind: 'word', word });
const words = (text: string): Part[] => text.split(' ').map(w);
const adj = (afterArticle = false): Part => ({ kind: 'adjective', half: 'review', afterArticle });
const plain = (parts: Part[]): Template => ({ pair: false, secondHalf: false, parts });

/** Sentence kinds: each a template for a sentiment. Kinds 9 and 10 are closing remarks. */
export const SENTENCE_KINDS: readonly ((s: Sentiment) => Template)[] = [
  () => plain([w('the'), { kind: 'topic' }, w('was'), adj()]),
  (s) => plain([w('i'), { kind: 'choice', rule: 'a verb', options: VERBS[s] }, w('the'), { kind: 'aspect', of: 'own' }]),
  () => plain([w('the'), { kind: 'aspect', of: 'own' }, { kind: 'be', of: 'own' }, adj()]),
  // Two aspects; a contrasting second half takes a "but".
  () => ({ pair: true, secondHalf: true, parts: [
    w('the'), { kind: 'aspect', of: 'first' }, { kind: 'be', of: 'first' }, adj(), { kind: 'conjunction' },
    w('the'), { kind: 'aspect', of: 'second' }, { kind: 'be', of: 'second' }, { kind: 'adjective', half: 'second', afterArticle: false },
  ] }),
  (s) => plain([w('we'), { kind: 'choice', rule: 'a verb', options: VERBS[s] }, w('this'), { kind: 'topic' }]),
  () => plain([w('the'), { kind: 'aspect', of: 'own' }, { kind: 'choice', rule: '"felt" or "looked"', options: ['felt', 'looked'] }, adj()]),
  () => plain([...words('what a'), adj(true), { kind: 'topic' }]),
  (s) => s === 'neg'
    ? plain([w('the'), { kind: 'aspect', of: 'own' }, { kind: 'be', of: 'own' }, w('too'), { kind: 'choice', rule: 'an adjective after "too"', options: TOO_ADJECTIVES }])
    : plain([{ kind: 'choice', rule: 'a person', options: PEOPLE }, { kind: 'choice', rule: 'a verb', options: VERBS[s] }, w('the'), { kind: 'aspect', of: 'own' }]),
  (s) => ({ pair: true, secondHalf: false, parts: [
    w('the'), { kind: 'aspect', of: 'first' }, { kind: 'be', of: 'first' }, w(s === 'neg' ? 'worse' : 'better'), w('than'), w('the'), { kind: 'aspect', of: 'second' },
  ] }),
  // Later sentences may be a closing remark that matches the sentiment (its full stop is the sentence's).
  ...[9, 10].map(() => (s: Sentiment) => plain([{ kind: 'choice', rule: 'a closing remark', options: ENDINGS[s].map((e) => e.slice(0, -1)) }])),
];

/** Sentence kinds that may open a review. "the <topic> was ..." is the most common opening, as in
 *  prototype2's corpus: it names the topic, which lowers the entropy of what follows, and it is the
 *  prompt the page shows first. Closing remarks (kinds 9-10) never open a review. */
export const FIRST_SENTENCE_KINDS = [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 6, 7, 8];

/** The conjunctions a two-aspect sentence may take when its halves have sentiments `s` and `s2`. */
export function conjunctions(s: Sentiment, s2: Sentiment): readonly string[] {
  return s2 === s ? SAME_CONJ : DIFF_CONJ;
}

/** The intensifiers an adjective of sentiment `s` may take ('' is none; neutral ones take none). */
export function intensifiers(s: Sentiment, afterArticle: boolean): readonly string[] {
  return s === 'neu' ? [''] : afterArticle ? ARTICLE_INTENSIFIERS : INTENSIFIERS;
}

/** One sentence (without the full stop) about `topic` with sentiment `s`: the template's words,
 *  drawn in a fixed order (the sentence's aspect, its kind, the template's draws, then each part). */
function sentence(rng: Rng, topic: string, s: Sentiment, first: boolean): string {
  const aspects = TOPICS[topic];
  const own = rng.pick(aspects);
  const template = SENTENCE_KINDS[first ? rng.pick(FIRST_SENTENCE_KINDS) : rng.int(SENTENCE_KINDS.length)](s);
  const [firstAspect, secondAspect] = template.pair ? rng.sample(aspects, 2) : [own, own];
  const aspect: Record<AspectRef, string> = { own, first: firstAspect, second: secondAspect };
  let s2 = s;
  let conj = '';
  if (template.secondHalf) {
    s2 = rng.next() < SAME_HALF ? s : rng.pick(SENTIMENTS);
    conj = rng.pick(conjunctions(s, s2));
  }
  let text = '';
  for (const part of template.parts) {
    switch (part.kind) {
      case 'word': text += ` ${part.word}`; break;
      case 'topic': text += ` ${topic}`; break;
      case 'aspect': text += ` ${aspect[part.of]}`; break;
      case 'be': text += ` ${be(aspect[part.of])}`; break;
      case 'adjective': {
        const mood = part.half === 'review' ? s : s2;
        const intensifier = mood === 'neu' ? '' : rng.pick(intensifiers(mood, part.afterArticle));
        text += ` ${intensifier}${rng.pick(ADJECTIVES[mood])}`;
        break;
      }
      case 'choice': text += ` ${rng.pick(part.options)}`; break;
      case 'conjunction': text += conj.trimEnd(); break;
    }
  }
  return text.trimStart();
}

export interface ReviewSpec {
  topic?: string;
  mood?: Sentiment;
  sentences?: number;
}

/** A review keeps one mood. prototype2's "mix" mood drew each sentence's sentiment anew, which wrote
 *  contradictions ("the cafe was awesome. i want my money back."); contrast now lives inside the
 *  two-aspect sentence ("the crust was great but the price was awful"). */
export const MOODS: readonly Sentiment[] = ['pos', 'pos', 'neg', 'neg', 'neu'];
export const SENTENCE_COUNTS = [1, 1, 1, 2, 2, 2, 3];

/** One review. Draws again until it fits MAX_REVIEW_TOKENS (a bounded number of tries). */
export function generateReview(rng: Rng, spec: ReviewSpec = {}): string {
  const topic = spec.topic ?? rng.pick(Object.keys(TOPICS));
  if (!(topic in TOPICS)) throw new RangeError(`unknown topic "${topic}"`);
  const mood = spec.mood ?? rng.pick(MOODS);
  for (let attempt = 0; ; attempt++) {
    const n = attempt < 20 ? spec.sentences ?? rng.pick(SENTENCE_COUNTS) : 1;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      parts.push(sentence(rng, topic, mood, i === 0) + '.');
    }
    const text = parts.join(' ');
    if (splitTokens(text).length <= MAX_REVIEW_TOKENS || attempt >= 40) return text;
  }
}

/** `n` reviews from `seed`: the same seed gives the same corpus. */
export function generateCorpus(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => generateReview(rng));
}

/** A prompt is the first two or three words of a review ("the pizza was"), as in the prototypes. */
export function generatePrompts(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const words = generateReview(rng).split(' ');
    const k = Math.min(words.length, rng.pick([2, 3]));
    return words.slice(0, k).join(' ').replace(/[.,]+$/, '');
  });
}
