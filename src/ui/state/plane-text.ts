// The words of the reward-KL plane ("Is RL necessary?"), written from the worker's numbers: how a
// point is named and rounded (table, tooltips and sentence alike), and the one sentence that says
// which method is ahead, at what KL and by how much. Pure functions over the protocol's PlanePoint
// (no DOM, no runes), unit-tested in tests/unit/plane.test.ts.
import type { MethodName, PlaneAxis, PlanePoint } from '../../lib/protocol/messages';

/** The plane's numbers as the page prints them (table, tooltips and sentence alike); a sampled KL of -0.001 reads 0.00, not -0.00. */
export function planeNumber(x: number): string {
  const text = x.toFixed(2);
  return text === '-0.00' ? '0.00' : text;
}

/** What a point is called: the method's title, or "best-of-16" (best-of-1 is one plain sample: the base model). */
export function pointName(p: PlanePoint, titles: Readonly<Record<string, string>>): string {
  if (p.n === 1) return 'the base model (best-of-1)';
  return p.n !== null ? `best-of-${p.n}` : (titles[p.method] ?? p.method);
}

function capitalised(sentence: string): string {
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

/** What the y axis is called. */
export function axisName(axis: PlaneAxis): string {
  return axis === 'gold' ? 'gold score' : 'RM score';
}

/**
 * Each method's representative point: an online method's latest (its policy now), best-of-N's
 * highest (the fewest candidates among equals: the least KL), a trained method's one point.
 * Values compare as shown (2 decimals), so what the sentence calls level looks level.
 */
export function standings(points: readonly PlanePoint[]): PlanePoint[] {
  const byMethod = new Map<MethodName, PlanePoint>();
  for (const p of points) {
    const held = byMethod.get(p.method);
    if (!held) byMethod.set(p.method, p);
    else if (p.kind === 'online') byMethod.set(p.method, p.steps >= held.steps ? p : held);
    else if (shown(p.y) > shown(held.y) || (shown(p.y) === shown(held.y) && p.kl < held.kl)) byMethod.set(p.method, p);
  }
  return [...byMethod.values()].sort((a, b) => shown(b.y) - shown(a.y) || a.kl - b.kl);
}

function shown(x: number): number {
  return Number(planeNumber(x));
}

function list(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function at(p: PlanePoint): string {
  return `KL ${planeNumber(p.kl)} nats`;
}

/**
 * One sentence: which method is ahead on the plane, at what KL, and by how much over the next,
 * from the numbers shown (each method's standing point, rounded as the table rounds).
 */
export function leadSentence(points: readonly PlanePoint[], axis: PlaneAxis, titles: Readonly<Record<string, string>>): string {
  return capitalised(leadText(points, axis, titles));
}

function leadText(points: readonly PlanePoint[], axis: PlaneAxis, titles: Readonly<Record<string, string>>): string {
  const ranked = standings(points.filter((p) => Number.isFinite(p.y) && Number.isFinite(p.kl)));
  const what = axisName(axis);
  if (ranked.length === 0) return 'No method has been measured yet: give a few labels, then train a method.';
  const name = (p: PlanePoint) => pointName(p, titles);
  const [lead] = ranked;
  if (ranked.length === 1) return `Only ${name(lead)} has been measured so far: ${what} ${planeNumber(lead.y)} at ${at(lead)}; tick another method to compare.`;
  const level = ranked.filter((p) => shown(p.y) === shown(lead.y));
  if (level.length > 1) {
    const rest = ranked.length > level.length ? `, ${planeNumber(shown(lead.y) - shown(ranked[level.length].y))} above ${name(ranked[level.length])}` : '';
    return `${list(level.map(name))} are level at ${what} ${planeNumber(lead.y)} (${level.map((p) => `${name(p)} at ${at(p)}`).join(', ')})${rest}.`;
  }
  const next = ranked[1];
  const gap = planeNumber(shown(lead.y) - shown(next.y));
  const cost = lead.kl > next.kl ? `, spending ${planeNumber(shown(lead.kl) - shown(next.kl))} nats more KL` : lead.kl < next.kl ? `, with ${planeNumber(shown(next.kl) - shown(lead.kl))} nats less KL` : '';
  return `${name(lead)} is ahead: ${what} ${planeNumber(lead.y)} at ${at(lead)}, ${gap} above ${name(next)} (${planeNumber(next.y)} at ${at(next)})${cost}.`;
}
