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

const VERBS: Readonly<Record<Sentiment, readonly string[]>> = {
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
 *  1.50 nats/token). "quite" was dropped: "quite awesome" reads oddly. */
const INTENSIFIERS = ['', '', '', '', '', 'very ', 'really ', 'so '];
const ARTICLE_INTENSIFIERS = ['', '', '', '', '', 'very ', 'really '];
const SAME_CONJ = [' and ', ', and '];
const DIFF_CONJ = [' but ', ', but ', ' yet '];

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

function be(noun: string): string {
  return noun.endsWith('s') && noun !== 'class' && noun !== 'boss' ? 'were' : 'was';
}

/** An adjective of sentiment `s`, sometimes intensified. After "what a", only "very" and "really"
 *  read well ("what a so sad movie" was a wart of the prototype's corpus). */
function adjective(rng: Rng, s: Sentiment, afterArticle = false): string {
  const intensifiers = afterArticle ? ARTICLE_INTENSIFIERS : INTENSIFIERS;
  return (s === 'neu' ? '' : rng.pick(intensifiers)) + rng.pick(ADJECTIVES[s]);
}

/** Sentence kinds (cases below) that may open a review. "the <topic> was ..." is the most common
 *  opening, as in prototype2's corpus: it names the topic, which lowers the entropy of what follows,
 *  and it is the prompt the page shows first. Closing remarks (kinds 9-10) never open a review. */
const FIRST_SENTENCE_KINDS = [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 6, 7, 8];

/** One sentence (without the full stop) about `topic` with sentiment `s`. */
function sentence(rng: Rng, topic: string, s: Sentiment, first: boolean): string {
  const aspects = TOPICS[topic];
  const aspect = rng.pick(aspects);
  const kind = first ? rng.pick(FIRST_SENTENCE_KINDS) : rng.int(11);
  switch (kind) {
    case 0:
      return `the ${topic} was ${adjective(rng, s)}`;
    case 1:
      return `i ${rng.pick(VERBS[s])} the ${aspect}`;
    case 2:
      return `the ${aspect} ${be(aspect)} ${adjective(rng, s)}`;
    case 3: {
      // Two aspects; a contrasting second half with a "but".
      const [a1, a2] = rng.sample(aspects, 2);
      const s2: Sentiment = rng.next() < 0.7 ? s : rng.pick(['pos', 'neg', 'neu'] as const);
      const conj = rng.pick(s2 === s ? SAME_CONJ : DIFF_CONJ);
      return `the ${a1} ${be(a1)} ${adjective(rng, s)}${conj}the ${a2} ${be(a2)} ${adjective(rng, s2)}`;
    }
    case 4:
      return `we ${rng.pick(VERBS[s])} this ${topic}`;
    case 5:
      return `the ${aspect} ${rng.pick(['felt', 'looked'])} ${adjective(rng, s)}`;
    case 6:
      return `what a ${adjective(rng, s, true)} ${topic}`;
    case 7:
      return s === 'neg' ? `the ${aspect} ${be(aspect)} too ${rng.pick(TOO_ADJECTIVES)}` : `${rng.pick(PEOPLE)} ${rng.pick(VERBS[s])} the ${aspect}`;
    case 8: {
      const [a1, a2] = rng.sample(aspects, 2);
      const cmp = s === 'neg' ? 'worse' : 'better';
      return `the ${a1} ${be(a1)} ${cmp} than the ${a2}`;
    }
    default:
      // Later sentences may be a closing remark that matches the sentiment.
      return rng.pick(ENDINGS[s]).slice(0, -1);
  }
}

export interface ReviewSpec {
  topic?: string;
  mood?: Sentiment;
  sentences?: number;
}

/** A review keeps one mood. prototype2's "mix" mood drew each sentence's sentiment anew, which wrote
 *  contradictions ("the cafe was awesome. i want my money back."); contrast now lives inside the
 *  two-aspect sentence ("the crust was great but the price was awful"). */
const MOODS: readonly Sentiment[] = ['pos', 'pos', 'neg', 'neg', 'neu'];
const SENTENCE_COUNTS = [1, 1, 1, 2, 2, 2, 3];

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
