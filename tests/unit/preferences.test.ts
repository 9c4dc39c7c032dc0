import { describe, expect, it } from 'vitest';
import { TIE_WEIGHT, comparisonPairs, fromTrlJsonl, toTrlJsonl } from '../../src/lib/rl/preferences';
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

describe('TRL preference JSON lines', () => {
  it('writes prompt / chosen / rejected, the tie marker and provenance; skips are not exported', () => {
    const lines = toTrlJsonl(labels).split('\n');
    expect(lines).toHaveLength(5); // 4 exported labels + the final newline
    expect(lines[4]).toBe('');
    expect(JSON.parse(lines[0])).toEqual({ prompt: 'the pizza was', chosen: ' great.', rejected: ' bad.', id: 'l1', source: 'human', time: T0 });
    expect(JSON.parse(lines[1])).toMatchObject({ chosen: ' this cafe. ten out of ten.', rejected: ' the crust.', chosen_position: 'B' });
    expect(JSON.parse(lines[2])).toMatchObject({ chosen: ' was nice.', rejected: ' was fine.', tie: true });
    expect(Object.keys(JSON.parse(lines[0]))).toEqual(['prompt', 'chosen', 'rejected', 'id', 'source', 'time']);
    expect(toTrlJsonl([])).toBe('');
    expect(toTrlJsonl([labels[3]])).toBe('');
  });

  it('round-trips labels exactly, skips aside', () => {
    const { labels: back, errors } = fromTrlJsonl(toTrlJsonl(labels));
    expect(errors).toEqual([]);
    expect(back).toEqual(labels.filter((l) => l.choice !== 'skip'));
  });

  it('reads plain TRL lines: A is chosen, ids are generated, source and time default', () => {
    const text = '{"prompt": "p", "chosen": "c", "rejected": "r", "score_chosen": 9}\r\n\n{"prompt": "p", "chosen": "c", "rejected": "r"}\n';
    const { labels: got, errors } = fromTrlJsonl(text, { now: 42 });
    expect(errors).toEqual([]);
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({ prompt: 'p', completionA: 'c', completionB: 'r', choice: 'A', source: 'human', time: 42 });
    expect(got[0].id).not.toBe(got[1].id);
    expect(fromTrlJsonl(text, { now: 42 }).labels).toEqual(got); // ids are deterministic
    const custom = fromTrlJsonl(text, { makeId: (n) => `row-${n}` });
    expect(custom.labels.map((l) => l.id)).toEqual(['row-1', 'row-3']);
  });

  it('skips malformed lines with an error naming the line, never throwing', () => {
    const text = [
      '{"prompt": "p", "chosen": "c", "rejected": "r", "id": "ok1"}',
      '{"prompt": "p", "chosen": "c"',
      '[1, 2, 3]',
      '{"prompt": "p", "rejected": "r"}',
      '{"prompt": 3, "chosen": ["a"], "rejected": "r"}',
      '{"prompt": "p", "chosen": "c", "rejected": "r", "tie": "yes", "time": "today", "source": "robot"}',
      '{"prompt": "p", "chosen": "c", "rejected": "r", "chosen_position": "C", "id": 7}',
      'null',
      '{"prompt": "p", "chosen": "c", "rejected": "r", "id": "ok1"}',
      '{"prompt": "p", "chosen": "c", "rejected": "r", "tie": false, "time": 5}',
    ].join('\n');
    const { labels: got, errors } = fromTrlJsonl(text);
    expect(got.map((l) => l.id)).toEqual(['ok1', got[1].id]);
    expect(got[1]).toMatchObject({ choice: 'A', time: 5 });
    expect(errors).toHaveLength(8);
    expect(errors[0]).toMatch(/^line 2: not valid JSON/);
    expect(errors[1]).toMatch(/^line 3: expected a JSON object/);
    expect(errors[2]).toBe('line 4: missing "chosen"');
    expect(errors[3]).toBe('line 5: "prompt" must be a string; "chosen" must be a string');
    expect(errors[4]).toMatch(/^line 6: "tie" must be true or false; "source" must be "human" or "simulated"; "time" must be a number/);
    expect(errors[5]).toMatch(/^line 7: "chosen_position" must be "A" or "B"; "id" must be a non-empty string/);
    expect(errors[6]).toMatch(/^line 8: expected a JSON object/);
    expect(errors[7]).toBe('line 9: repeats id "ok1"');
  });

  it('a tie written with chosen_position B re-imports with its sides swapped', () => {
    const line = '{"prompt": "p", "chosen": "x", "rejected": "y", "tie": true, "chosen_position": "B"}';
    expect(fromTrlJsonl(line).labels[0]).toMatchObject({ completionA: 'y', completionB: 'x', choice: 'tie' });
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
