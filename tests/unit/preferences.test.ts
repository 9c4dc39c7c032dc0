import { describe, expect, it } from 'vitest';
import {
  MAX_IMPORT_BYTES,
  TIE_WEIGHT,
  TRL_PREFERENCE_FIELDS,
  agreement,
  comparisonPairs,
  contentId,
  describeFormats,
  exportLabels,
  fromTrlJsonl,
  splitImplicitPrompt,
  toTrlJsonl,
} from '../../src/lib/rl/preferences';
import type { ComparisonPair, Label } from '../../src/lib/rl/preferences';
import { logSigmoid } from '../../src/lib/math/stats';

const T0 = 1_700_000_000_000;

const labels: Label[] = [
  { id: 'l1', prompt: 'the pizza was', completionA: ' great.', completionB: ' bad.', choice: 'A', source: 'human', time: T0 },
  { id: 'l2', prompt: 'we loved', completionA: ' the crust.', completionB: ' this cafe. ten out of ten.', choice: 'B', source: 'simulated', time: T0 + 1 },
  { id: 'l3', prompt: 'the hotel', completionA: ' was nice.', completionB: ' was fine.', choice: 'tie', source: 'human', time: T0 + 2 },
  { id: 'l4', prompt: 'what a', completionA: ' dull song.', completionB: ' "quoted"\nline.', choice: 'skip', source: 'human', time: T0 + 3 },
  { id: 'l5', prompt: 'i hated', completionA: ' the "box"\tand \\ it.\nnever again.', completionB: '', choice: 'A', source: 'simulated', time: T0 + 4 },
];

/** Labels as the page makes them: completions without a leading space, provenance recorded. */
const pageLabels: Label[] = [
  { id: 'p1', prompt: 'the pizza was', completionA: 'great. i would go again.', completionB: 'bad.', choice: 'A', source: 'human', time: T0, origin: { from: 'base', steps: 0 } },
  { id: 'p2', prompt: 'we loved', completionA: 'the crust.', completionB: 'this cafe.', choice: 'B', source: 'simulated', preset: 'short', time: T0 + 1, origin: { from: 'ppo', steps: 12 } },
  { id: 'p3', prompt: 'the hotel', completionA: 'was nice.', completionB: '', choice: 'tie', source: 'human', time: T0 + 2 },
  { id: 'p4', prompt: 'what a', completionA: 'dull song.', completionB: 'fine day …', choice: 'skip', source: 'human', time: T0 + 3 },
  { id: 'p5', prompt: 'i hated', completionA: 'the "box"\tand \\ it.\nnever again.', completionB: '', choice: 'A', source: 'simulated', preset: 'length', time: T0 + 4 },
];

describe('TRL preference JSON lines', () => {
  it("puts the separating space at the start of each completion, so prompt + chosen is the text shown", () => {
    const lines = toTrlJsonl(pageLabels).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3); // p1, p2, p5: the tie and the skip are not preferences
    expect(`${lines[0].prompt as string}${lines[0].chosen as string}`).toBe('the pizza was great. i would go again.');
    expect(lines[0].rejected).toBe(' bad.');
    expect(lines[2].rejected).toBe(''); // "ends at once": the prompt alone
    for (const line of lines) expect(Object.keys(line).slice(0, 3)).toEqual([...TRL_PREFERENCE_FIELDS]);
    expect(lines[0]).toEqual({ prompt: 'the pizza was', chosen: ' great. i would go again.', rejected: ' bad.', id: 'p1', annotator: 'human', model: 'base', model_steps: 0, time: T0 });
    expect(lines[1]).toEqual({ prompt: 'we loved', chosen: ' this cafe.', rejected: ' the crust.', chosen_position: 'B', id: 'p2', annotator: 'simulated', annotator_preset: 'short', model: 'ppo', model_steps: 12, time: T0 + 1 });
    for (const line of lines) expect(line).not.toHaveProperty('tie');
    expect(toTrlJsonl([])).toBe('');
  });

  it('writes ties to their own lines without "chosen", and counts what it left out', () => {
    const out = exportLabels(pageLabels);
    expect(out.counts).toEqual({ preferences: 3, ties: 1, skips: 1 });
    const ties = out.ties.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(ties).toEqual([{ prompt: 'the hotel', completion_a: ' was nice.', completion_b: '', tie: true, id: 'p3', annotator: 'human', time: T0 + 2 }]);
    expect(exportLabels([pageLabels[0]]).ties).toBe('');
  });

  it('round-trips every label exactly (preferences and ties files), skips aside', () => {
    const out = exportLabels(pageLabels);
    const back = fromTrlJsonl(out.preferences + out.ties);
    expect(back.errors).toEqual([]);
    const byId = (l: Label[]) => [...l].sort((x, y) => x.id.localeCompare(y.id));
    expect(byId(back.labels)).toEqual(byId(pageLabels.filter((l) => l.choice !== 'skip')));
    expect(back.formats).toEqual({ standard: 3, ties: 1 });
    expect(describeFormats(back.formats)).toBe("3 lines in TRL's standard format, 1 line in this page's tie format");
  });

  it("reads TRL's own examples: standard, implicit prompt, conversational and conversational implicit", () => {
    const lines = [
      '{"prompt": "The sky is", "chosen": " blue.", "rejected": " green."}',
      '{"chosen": "The sky is blue.", "rejected": "The sky is green."}',
      '{"prompt": [{"role": "user", "content": "What color is the sky?"}], "chosen": [{"role": "assistant", "content": "It is blue."}], "rejected": [{"role": "assistant", "content": "It is green."}]}',
      '{"chosen": [{"role": "user", "content": "What color is the sky?"}, {"role": "assistant", "content": "It is blue."}], "rejected": [{"role": "user", "content": "What color is the sky?"}, {"role": "assistant", "content": "It is green."}]}',
    ];
    const read = lines.map((line) => fromTrlJsonl(line, { now: 42 }));
    for (const r of read) expect(r.errors).toEqual([]);
    const got = read.map((r) => r.labels[0]);
    const pair = (l: Label) => [l.prompt, l.completionA, l.completionB, l.choice, l.source, l.time];
    expect(got.map(pair)).toEqual([
      ['The sky is', 'blue.', 'green.', 'A', 'human', 42],
      ['The sky is', 'blue.', 'green.', 'A', 'human', 42],
      ['What color is the sky?', 'It is blue.', 'It is green.', 'A', 'human', 42],
      ['What color is the sky?', 'It is blue.', 'It is green.', 'A', 'human', 42],
    ]);
    expect(read.map((r) => r.formats)).toEqual([{ standard: 1 }, { standardImplicit: 1 }, { conversational: 1 }, { conversationalImplicit: 1 }]);
    // The same pair and answer give the same id: in one file, the implicit line repeats the standard one.
    expect(got[0].id).toBe(got[1].id);
    expect(fromTrlJsonl(lines.slice(0, 2).join('\n')).errors).toEqual(['line 2: repeats line 1 (the same pair and answer)']);
    expect(describeFormats({ conversational: 40 })).toBe("40 lines in TRL's conversational format");
  });

  it('takes the implicit prompt at a word boundary', () => {
    expect(splitImplicitPrompt('the pizza was great', 'the pizza was grim')).toEqual({ prompt: 'the pizza was', chosen: ' great', rejected: ' grim' });
    expect(splitImplicitPrompt('the pizza was', 'the pizza was bad.')).toEqual({ prompt: 'the pizza was', chosen: '', rejected: ' bad.' });
    expect(splitImplicitPrompt('great food', 'good food')).toBeNull();
  });

  it("reads this page's older exports (source, tie: true, no leading space)", () => {
    const text = '{"prompt": "p", "chosen": "x", "rejected": "y", "tie": true, "chosen_position": "B", "id": "o1", "source": "simulated", "time": 5}';
    expect(fromTrlJsonl(text).labels[0]).toEqual({ id: 'o1', prompt: 'p', completionA: 'y', completionB: 'x', choice: 'tie', source: 'simulated', time: 5 });
  });

  it('lines without an id are de-duplicated by content: the same file twice gives the same ids, a repeat is named', () => {
    const text = '{"prompt": "p", "chosen": " c", "rejected": " r", "score_chosen": 9}\r\n\n{"prompt": "p", "chosen": " c", "rejected": " r"}\n{"prompt": "p", "chosen": " r", "rejected": " c"}\n';
    const first = fromTrlJsonl(text, { now: 42 });
    expect(first.labels).toHaveLength(2);
    expect(first.errors).toEqual(['line 3: repeats line 1 (the same pair and answer)']);
    expect(first.labels[0].id).toBe(contentId('p', 'c', 'r', 'A'));
    expect(fromTrlJsonl(text, { now: 99 }).labels.map((l) => l.id)).toEqual(first.labels.map((l) => l.id));
    expect(first.labels[0].id).not.toBe(first.labels[1].id); // the other answer is another label
  });

  it('skips malformed lines with an error naming the line and the field, never throwing', () => {
    const text = [
      '{"prompt": "p", "chosen": "c", "rejected": "r", "id": "ok1"}',
      '{"prompt": "p", "chosen": "c"',
      '[1, 2, 3]',
      '{"prompt": "p", "rejected": "r"}',
      '{"prompt": 3, "chosen": "a", "rejected": "r"}',
      '{"prompt": "p", "chosen": "c", "rejected": "r", "tie": "yes", "time": "today", "annotator": "robot"}',
      '{"prompt": "p", "chosen": "c", "rejected": "r", "chosen_position": "C", "id": 7}',
      'null',
      '{"prompt": "p", "chosen": "c", "rejected": "r", "id": "ok1"}',
      '{"prompt": "p", "chosen": "c", "rejected": "r", "tie": false, "time": 5}',
      '{"chosen": [{"role": "user", "content": 5}], "rejected": []}',
      '{"chosen": "great food", "rejected": "good food"}',
    ].join('\n');
    const { labels: got, errors, lines } = fromTrlJsonl(text);
    expect(lines).toBe(12);
    expect(got.map((l) => l.id)).toEqual(['ok1', got[1].id]);
    expect(got[1]).toMatchObject({ choice: 'A', time: 5 });
    expect(errors).toHaveLength(10);
    expect(errors[0]).toMatch(/^line 2: not valid JSON/);
    expect(errors[1]).toMatch(/^line 3: expected a JSON object/);
    expect(errors[2]).toBe('line 4: missing "chosen"');
    expect(errors[3]).toBe('line 5: "prompt" must be text');
    expect(errors[4]).toBe('line 6: "annotator" must be "human" or "simulated"; "time" must be a number (ms since epoch); "tie" must be true or false');
    expect(errors[5]).toBe('line 7: "id" must be text; "chosen_position" must be "A" or "B"');
    expect(errors[6]).toMatch(/^line 8: expected a JSON object/);
    expect(errors[7]).toBe('line 9: repeats the id "ok1" of line 1');
    expect(errors[8]).toBe('line 11: "chosen[0].content" must be text; "rejected" must hold at least one message');
    expect(errors[9]).toBe('line 12: "chosen" and "rejected" share no first word, so no prompt can be taken from them');
  });

  it("names the line of a label the run cannot use (the worker passes the run's checkLabel)", () => {
    const text = '{"prompt": "the pizza was", "chosen": " good.", "rejected": " bad."}\n{"prompt": "the pizza was", "chosen": " zzyzx.", "rejected": " bad."}';
    const check = (l: Label) => (l.completionA.includes('zzyzx') ? 'a completion has unknown words: "zzyzx"' : null);
    const { labels: got, errors } = fromTrlJsonl(text, { check });
    expect(got).toHaveLength(1);
    expect(errors).toEqual(['line 2: a completion has unknown words: "zzyzx"']);
  });

  it('keeps HTML and script as plain text (rendering is the page\'s job, which never uses {@html})', () => {
    const payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
    const { labels: got } = fromTrlJsonl(JSON.stringify({ prompt: 'the pizza was', chosen: ` ${payload}`, rejected: ' bad.' }));
    expect(got[0].completionA).toBe(payload);
  });

  it('documents a cap on the file size that a class of students stays far below', () => {
    expect(MAX_IMPORT_BYTES).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(MAX_IMPORT_BYTES).toBeLessThan(50 * 1024 * 1024);
  });
});

describe('agreement between annotators', () => {
  const l = (id: string, prompt: string, a: string, b: string, choice: Label['choice']): Label => ({ id, prompt, completionA: a, completionB: b, choice, source: 'human', time: T0 });
  it('counts the pairs two annotators share and how many got the same answer, whichever side each saw', () => {
    const alice = [l('a1', 'p', 'x', 'y', 'A'), l('a2', 'q', 'x', 'y', 'B'), l('a3', 'r', 'x', 'y', 'tie'), l('a4', 'only alice', 'x', 'y', 'A')];
    const bob = [l('b1', 'p', 'y', 'x', 'B'), l('b2', 'q', 'x', 'y', 'A'), l('b3', 'r', 'y', 'x', 'tie'), l('b4', 'only bob', 'x', 'y', 'A')];
    expect(agreement([alice, bob])).toEqual({ shared: 3, same: 2, fraction: 2 / 3 });
    expect(agreement([alice])).toEqual({ shared: 0, same: 0, fraction: null });
    const carol = [l('c1', 'p', 'x', 'y', 'B')];
    expect(agreement([alice, bob, carol])).toEqual({ shared: 3, same: 1, fraction: 1 / 3 });
  });
});

describe('comparisonPairs (Bradley-Terry training pairs)', () => {
  it('A and B give one pair of weight 1, a tie both orderings at 1/2, a skip nothing', () => {
    const pairs = comparisonPairs(labels);
    expect(pairs).toEqual<ComparisonPair[]>([
      { prompt: 'the pizza was', chosen: ' great.', rejected: ' bad.', weight: 1 },
      { prompt: 'we loved', chosen: ' this cafe. ten out of ten.', rejected: ' the crust.', weight: 1 },
      { prompt: 'the hotel', chosen: ' was nice.', rejected: ' was fine.', weight: TIE_WEIGHT },
      { prompt: 'the hotel', chosen: ' was fine.', rejected: ' was nice.', weight: TIE_WEIGHT },
      { prompt: 'i hated', chosen: ' the "box"\tand \\ it.\nnever again.', rejected: '', weight: 1 },
    ]);
    expect(comparisonPairs([labels[3]])).toEqual([]);
  });

  it('a tie weighs one label in total and its BT loss is minimised at equal rewards', () => {
    const tie = comparisonPairs([labels[2]]);
    expect(tie.reduce((s, p) => s + p.weight, 0)).toBe(1);
    // Loss of the tie's pairs when r(A) - r(B) = d.
    const reward = (d: number) => (text: string) => (text === labels[2].completionA ? d : 0);
    const loss = (d: number) => tie.reduce((s, p) => s - p.weight * logSigmoid(reward(d)(p.chosen) - reward(d)(p.rejected)), 0);
    expect(loss(0)).toBeCloseTo(Math.LN2, 12);
    for (const d of [-3, -1, -0.1, -1e-3, 1e-3, 0.1, 1, 3]) {
      expect(loss(d)).toBeGreaterThan(loss(0));
      expect(loss(d)).toBeCloseTo(loss(-d), 12);
    }
    // Zero gradient at d = 0 (central difference).
    const h = 1e-5;
    expect((loss(h) - loss(-h)) / (2 * h)).toBeCloseTo(0, 8);
    // Whereas an A label keeps pushing d up.
    const a = comparisonPairs([{ ...labels[2], choice: 'A' }]);
    const lossA = (d: number) => a.reduce((s, p) => s - p.weight * logSigmoid(reward(d)(p.chosen) - reward(d)(p.rejected)), 0);
    expect(lossA(1)).toBeLessThan(lossA(0));
  });
});
