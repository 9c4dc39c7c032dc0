// Chart history stays bounded (issue 11, memory): thinOldest keeps a line at most MAX_CHART_POINTS
// long however many rows arrive, keeps the newest half at full resolution and the last point
// exact, and leaves a short line untouched.
import { describe, expect, it } from 'vitest';
import { MAX_CHART_POINTS, thinOldest } from '../../src/ui/charts/thin';

describe('thinOldest', () => {
  it('leaves a line of at most max points as it is', () => {
    const line = Array.from({ length: 10 }, (_, i) => i);
    expect(thinOldest(line, 10)).toBe(line);
  });

  it('halves the older half when the line is one over', () => {
    const line = Array.from({ length: 11 }, (_, i) => i);
    expect(thinOldest(line, 10)).toEqual([0, 2, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('holds at most MAX_CHART_POINTS over 100,000 rows pushed one at a time, the newest rows whole', () => {
    let line: number[] = [];
    let longest = 0;
    for (let row = 0; row < 100_000; row++) {
      line.push(row);
      line = thinOldest(line);
      longest = Math.max(longest, line.length);
    }
    expect(longest).toBe(MAX_CHART_POINTS);
    expect(line.at(-1)).toBe(99_999);
    expect(line.slice(-MAX_CHART_POINTS / 4)).toEqual(Array.from({ length: MAX_CHART_POINTS / 4 }, (_, i) => 100_000 - MAX_CHART_POINTS / 4 + i));
    expect(line[0]).toBe(0); // the first row stays: the curve still starts where the run did
    expect([...line].sort((a, b) => a - b)).toEqual(line); // in order
  });

  it('brings a line far over the cap under it in one call', () => {
    const line = Array.from({ length: 10 * MAX_CHART_POINTS }, (_, i) => i);
    const kept = thinOldest(line);
    expect(kept.length).toBeLessThanOrEqual(MAX_CHART_POINTS);
    expect(kept.at(-1)).toBe(line.at(-1));
  });
});
