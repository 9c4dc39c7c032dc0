// What every chart of the page shares: the settings, the colours, chart.js itself, loaded once
// when the first chart needs it (chart-lib.ts is a chunk of its own), and one queue of redraws for
// every chart on the page, so that many charts never make one long task.
import type { Chart } from 'chart.js';

/** Above this many points a line is decimated (LTTB) to DECIMATED_POINTS. */
export const DECIMATION_THRESHOLD = 400;
export const DECIMATED_POINTS = 200;
/** A chart redraws at most this often, however fast rows arrive (about 4 frames a second). */
export const MIN_REDRAW_MS = 250;
/** A chart this close to the viewport counts as in view (it is drawn before it scrolls in). */
export const IN_VIEW_MARGIN = '200px';
/** Rows a table view shows at first (the newest); "Show all" and the CSV have every row. */
export const TABLE_ROWS = 250;

/** Distinguishable on white and for the common colour-vision deficiencies (Okabe-Ito). */
export const COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'] as const;

export type { Chart };

let chartClass: typeof Chart | null = null;
let loading: Promise<typeof Chart> | null = null;

/**
 * chart.js's Chart, or null while it loads: the first call starts loading it (once for the page),
 * and `redraw` is queued when it has come, so a chart near the viewport draws then.
 */
export function chartOrLater(redraw: () => void): typeof Chart | null {
  if (chartClass) return chartClass;
  loading ??= import('./chart-lib').then((m) => (chartClass = m.Chart));
  void loading.then(() => queueDraw(redraw));
  return null;
}

/** One line of a metric chart: a column of the series, its legend label and its y axis. */
export interface Line {
  column: string;
  label: string;
  /** 'right': a second y axis for a quantity on another scale; absent: chosen by the values. */
  axis?: 'left' | 'right';
  dashed?: boolean;
  /** A colour of its own (one model keeps one colour across charts); else by position. */
  colour?: string;
}

/** The colour of a chart's mark (MetricChart's `mark`): where something changed, e.g. proxy and gold parting. */
export const MARK_COLOUR = '#b91c1c';

/** The base model's colour where models are compared. */
export const BASE_COLOUR = '#6b7280';

/** Redraws in one animation frame stop once they have taken this long; the rest wait a frame. */
export const FRAME_BUDGET_MS = 12;

const queued = new Set<() => void>();
let frameId = 0;

function flush(): void {
  frameId = 0;
  const start = performance.now();
  for (const draw of queued) {
    queued.delete(draw);
    draw();
    if (performance.now() - start > FRAME_BUDGET_MS) break;
  }
  if (queued.size > 0) frameId = requestAnimationFrame(flush);
}

/**
 * Runs `draw` in a coming animation frame. The charts' redraws share frames within
 * FRAME_BUDGET_MS (a chart's redraw is ~10 ms), so a page of charts stays responsive.
 */
export function queueDraw(draw: () => void): void {
  queued.add(draw);
  if (frameId === 0) frameId = requestAnimationFrame(flush);
}

export function cancelDraw(draw: () => void): void {
  queued.delete(draw);
}
