import { describe, expect, it } from 'vitest';
import { groupAccuracy, RoundLog } from '../../src/lib/rl/rounds';
import type { Verdict } from '../../src/lib/rl/run';
import { label } from '../support/tiny';

function verdict(labelId: string, agreedBefore: boolean | null): Verdict {
  return { labelId, choice: 'A', pBefore: 0.5, pAfter: 0.5, scoreA: 0, scoreB: 0, agreedBefore, agreedAfter: agreedBefore };
}

describe('online rounds', () => {
  it('groupAccuracy: right predictions over labels; null with none', () => {
    expect(groupAccuracy([])).toEqual({ labels: 0, agreed: 0, accuracy: null });
    expect(groupAccuracy([{ agreed: true }, { agreed: false }, { agreed: true }, { agreed: true }])).toEqual({ labels: 4, agreed: 3, accuracy: 0.75 });
  });

  it('splits predictions by who wrote the pair and by round; unknown origins and ties without a verdict are left out', () => {
    const log = new RoundLog();
    // round 1: three base pairs (2 right), one label not from an offered pair
    [['a', true], ['b', false], ['c', true]].forEach(([id, ok]) => {
      log.expect(id as string, { from: 'base', steps: 0 });
      log.record(verdict(id as string, ok as boolean));
    });
    log.expect('typed', null);
    log.record(verdict('typed', true));
    let s = log.summary();
    expect(s.round).toBe(1);
    expect(s.policy).toBeNull();
    expect(s.base).toEqual({ labels: 3, agreed: 2, accuracy: 2 / 3 });
    expect(s.newPolicy).toEqual({ labels: 0, agreed: 0, accuracy: null });

    expect(log.start({ from: 'ppo', steps: 12 })).toBe(2);
    [['d', false], ['e', false], ['f', true], ['g', false]].forEach(([id, ok]) => {
      log.expect(id as string, { from: 'ppo', steps: 12 });
      log.record(verdict(id as string, ok as boolean));
    });
    log.expect('h', { from: 'base', steps: 0 }); // a base pair still on screen, labelled in round 2
    log.record(verdict('h', true));
    log.expect('skip', { from: 'ppo', steps: 12 });
    log.record(verdict('skip', null));
    s = log.summary();
    expect(s.round).toBe(2);
    expect(s.policy).toEqual({ from: 'ppo', steps: 12 });
    expect(s.base).toEqual({ labels: 4, agreed: 3, accuracy: 0.75 });
    expect(s.newPolicy).toEqual({ labels: 4, agreed: 1, accuracy: 0.25 });
    expect(s.rounds).toEqual([
      { round: 1, labels: 3, agreed: 2, accuracy: 2 / 3 },
      { round: 2, labels: 5, agreed: 2, accuracy: 0.4 },
    ]);
  });

  it('edits: a removed or changed label leaves the tally; a replaced list keeps only the labels it holds; a forgotten label is never tallied', () => {
    const log = new RoundLog();
    for (const id of ['a', 'b', 'c', 'd']) log.expect(id, { from: id < 'c' ? 'base' : 'grpo', steps: id < 'c' ? 0 : 3 });
    log.forget('d');
    for (const id of ['a', 'b', 'c', 'd']) log.record(verdict(id, true));
    expect(log.summary().newPolicy.labels).toBe(1);
    log.edit({ op: 'remove', id: 'a' });
    expect(log.summary().base.labels).toBe(1);
    log.edit({ op: 'change', id: 'b', choice: 'B' });
    expect(log.summary().base.accuracy).toBeNull();
    log.edit({ op: 'replace', labels: [label('x', 'the pizza was', 'good .', 'bad .', 'A')] });
    expect(log.summary().newPolicy).toEqual({ labels: 0, agreed: 0, accuracy: null });
  });
});
