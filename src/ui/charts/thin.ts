// A chart's points stay bounded however long the run: when a line holds more than
// MAX_CHART_POINTS, its older half is thinned to every other point. The newest points keep full
// resolution (the last point is always the latest row, which the explanations quote), older
// history is kept ever more coarsely, and the chart draws at most DECIMATED_POINTS of it anyway.
// The series itself (tables, CSV) keeps every row: a Float32Array row costs 4 bytes a metric, a
// chart point a JS object of ~40.

/** Points one chart line holds at most (about 80 kB): 2.5x the 800 iterations of a long lecture run at full resolution. */
export const MAX_CHART_POINTS = 2048;

/** `points` with its older half thinned to every other point, as often as it takes to hold at most `max`; `points` itself when it already does. */
export function thinOldest<T>(points: T[], max = MAX_CHART_POINTS): T[] {
  let kept = points;
  while (kept.length > max) {
    const half = Math.floor(kept.length / 2);
    kept = kept.slice(0, half).filter((_, i) => i % 2 === 0).concat(kept.slice(half));
  }
  return kept;
}
