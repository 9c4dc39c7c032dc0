// The live numbers of "How it works": each one is the last point of a chart on the page, read from
// the same Series the chart draws (so the explanation and the chart cannot disagree), with the
// colour of that chart's line (MetricChart colours line i of a chart COLOURS[i]) and the chart's
// name, so the page can say where the number comes from. Reading a value subscribes the caller
// (a $derived or a template) to the series' new rows.
import { logSigmoid } from '../../lib/math/stats';
import { COLOURS } from '../charts/chart-setup';
import { formatNumber, type Series } from './series.svelte';
import type { MethodState } from './training.svelte';

/** One number of an explanation, as the page shows it and as its chart holds it. */
export interface LiveValue {
  /** The metric's name (the chart's column: TRL's names for a method, e.g. 'objective/kl'). */
  key: string;
  /** Whose number: a method's name, 'reward-model' or 'pair'. */
  source: string;
  /** The value as the series holds it (float32). */
  value: number;
  /** As the chart's table prints it (formatNumber): what a test compares. */
  exact: string;
  /** Rounded for reading. */
  text: string;
  /** The colour of its line in its chart. */
  colour: string;
  /** The chart it is the last point of ("<name> chart" is the canvas's accessible name); '' for none. */
  chart: string;
}

/** Significant digits of a live number in a sentence (the table and the tooltip have them all). */
export const LIVE_DIGITS = 3;

/** A number for reading: 3 significant digits (2 below 0.001), whole numbers from 1000. */
export function readable(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  return String(Number(x.toPrecision(a < 1e-3 ? LIVE_DIGITS - 1 : LIVE_DIGITS)));
}

/** A setting in a sentence: up to 4 significant digits ('–' when the method or the setting is missing). */
export function settingText(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : '–';
}

/** A share as a percentage, whole from 10 %. */
export function percent(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const v = x * 100;
  return `${Math.abs(v) >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1)} %`;
}

/** The colour of `key`'s line among a chart's `keys` (MetricChart's default: by position). */
export function lineColour(keys: readonly string[], key: string): string {
  const i = keys.indexOf(key);
  return COLOURS[(i < 0 ? 0 : i) % COLOURS.length];
}

/** A plain number that no chart shows (a setting, or one computed from live values). */
export function plainValue(key: string, source: string, value: number, colour = 'transparent'): LiveValue {
  return { key, source, value, exact: formatNumber(value), text: readable(value), colour, chart: '' };
}

/** The last point of `key` in a chart named `chart` drawing `keys` from `series`; null before one. */
export function lastPoint(series: Series, key: string, chart: string, keys: readonly string[], source: string): LiveValue | null {
  void series.length; // new rows re-run the caller
  const value = series.last(key);
  if (!Number.isFinite(value)) return null;
  return { key, source, value, exact: formatNumber(value), text: readable(value), colour: lineColour(keys, key), chart };
}

/** The last point of a method's metric, from the method's chart that draws it (MethodSection names it "<title> <chart title>"). */
export function methodPoint(m: MethodState | undefined, key: string): LiveValue | null {
  if (!m) return null;
  const chart = m.info.charts.find((c) => c.keys.includes(key));
  return lastPoint(m.series, key, chart ? `${m.title} ${chart.title}` : '', chart?.keys ?? [key], m.name);
}

/** A method's setting as a number (its confirmed config), or NaN when it has no such number. */
export function setting(m: MethodState | undefined, key: string): number {
  const v = m?.config[key];
  return typeof v === 'number' ? v : NaN;
}

/** A method's setting as text ('' when absent). */
export function choice(m: MethodState | undefined, key: string): string {
  const v = m?.config[key];
  return v === undefined ? '' : String(v);
}

/** Best-of-N's KL from the base model in closed form: log N - (N - 1)/N (best-of-n.ts bestOfNKl). */
export function bestOfNBound(n: number): number {
  return Math.log(n) - (n - 1) / n;
}

/**
 * The Bradley-Terry loss of one label, given the reward model's logit d = r(x, A) - r(x, B)
 * (reward-model.ts with preferences.ts's pairs): A: -log σ(d); B: -log σ(-d); a tie is both orders
 * at weight 1/2: -(log σ(d) + log σ(-d)) / 2.
 */
export function labelLoss(choice: 'A' | 'B' | 'tie', d: number): number {
  if (choice === 'A') return -logSigmoid(d);
  if (choice === 'B') return -logSigmoid(-d);
  return -(logSigmoid(d) + logSigmoid(-d)) / 2;
}
