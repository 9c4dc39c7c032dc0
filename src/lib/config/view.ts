// How the page is shown, as opposed to what the run does (url.ts): lecture mode's large type and
// one-screen layout, panels hidden by the address (tensorflow/playground's `_hide` keys), the tour
// step to open at, and a hands-free start under autopilot. These travel in the address like the
// run's settings, so a lecturer's link opens the page exactly as it was set up, but they never
// change a number the run computes.
import { addressProblem, checkChoice, int, readNumber, type Parsed } from './fields';

/** The page's regions that the address can hide, by the key `?hide=` names them with. */
export const VIEW_PANELS = {
  pipeline: 'Pipeline',
  how: 'How it works',
  base: 'Base model',
  prefs: 'Your preferences',
  rm: 'Reward model',
  methods: 'Train the policy',
  pertoken: 'Per-token view',
  hacking: 'Reward hacking',
  autopilot: 'Autopilot',
  plane: 'Is RL necessary?',
  blind: 'Blind evaluation',
  run: 'This run',
} as const;
export type ViewPanel = keyof typeof VIEW_PANELS;
export const VIEW_PANEL_KEYS = Object.keys(VIEW_PANELS) as ViewPanel[];

export interface ViewSettings {
  /** Large type and the one-screen lecture layout (pair, pipeline and key charts together). */
  lecture: boolean;
  /** Regions left out of the page. */
  hide: ViewPanel[];
  /** The tour step open at load, 1-based; 0: the tour is closed. */
  tour: number;
  /** Start autopilot as soon as the first pair is on screen: the whole loop runs hands-free. */
  autopilot: boolean;
}

export const DEFAULT_VIEW: ViewSettings = {
  lecture: false, // the page is a student's workbench first; a lecturer's link turns this on
  hide: [], // every region: a shared link hides what its author chose
  tour: 0, // closed: the tour is offered, not imposed
  autopilot: false, // nothing runs until the user asks (or a lecture link says so)
};

/** The lecture link: large type, the tour at its first step, the loop running by itself. */
export const LECTURE_PRESET: Partial<ViewSettings> = { lecture: true, tour: 1, autopilot: true };

/** Steps of the tour (lecture-tour.ts has their texts); the address's `tour` is checked against it. */
export const TOUR_STEPS = 6;

/** The address keys this file owns (url.ts counts them as known). */
export const VIEW_KEYS = ['lecture', 'autopilot', 'tour', 'hide'] as const;

const FLAG: Record<string, boolean> = { '1': true, true: true, yes: true, on: true, '0': false, false: false, no: false, off: false, '': true };

function parseFlag(raw: string): Parsed<boolean> {
  const word = checkChoice(raw, Object.keys(FLAG));
  return word.ok ? { ok: true, value: FLAG[word.value] } : { ok: false, why: 'use 1 or 0' };
}

export interface ParsedView {
  view: ViewSettings;
  /** One readable line per rejected parameter (the default was kept). */
  problems: string[];
}

/** The view settings of a page address; problems are worded like the run config's. */
export function parseView(search: string): ParsedView {
  const params = new URLSearchParams(search);
  const view: ViewSettings = { ...DEFAULT_VIEW, hide: [] };
  const problems: string[] = [];
  const bad = (key: string, raw: string, why: string, kept: string) => problems.push(`Bad ${key} "${raw}" in the address (?${key}=${raw}): ${why}; using ${kept}.`);
  for (const key of ['lecture', 'autopilot'] as const) {
    const raw = params.get(key);
    if (raw === null) continue;
    const parsed = parseFlag(raw);
    if (parsed.ok) view[key] = parsed.value;
    else bad(key, raw, parsed.why, view[key] ? '1' : '0');
  }
  const tour = params.get('tour');
  if (tour !== null) {
    const read = readNumber(tour, int(0, TOUR_STEPS));
    if (read.kind !== 'refused') view.tour = read.value;
    const why = read.kind === 'taken' ? read : { ...read, why: `${read.why}; 0 closes the tour` };
    const problem = addressProblem('tour step', 'tour', tour, why, String(view.tour));
    if (problem) problems.push(problem);
  }
  const hide = params.get('hide');
  if (hide !== null) {
    const keys = hide.split(',').map((k) => k.trim().toLowerCase()).filter((k) => k !== '');
    const unknown = keys.filter((k) => !(k in VIEW_PANELS));
    view.hide = [...new Set(keys.filter((k): k is ViewPanel => k in VIEW_PANELS))];
    if (unknown.length > 0) bad('hide', hide, `unknown panel ${unknown.map((k) => `"${k}"`).join(', ')}; known: ${VIEW_PANEL_KEYS.join(', ')}`, view.hide.join(',') || 'none hidden');
  }
  return { view, problems };
}

/** The address parameters of `view` that differ from the defaults, after those of `base` it does not own. */
export function viewSearch(view: ViewSettings, base = ''): string {
  const params = new URLSearchParams(base);
  for (const key of VIEW_KEYS) params.delete(key);
  if (view.lecture) params.set('lecture', '1');
  if (view.autopilot) params.set('autopilot', '1');
  if (view.tour !== 0) params.set('tour', String(view.tour));
  if (view.hide.length > 0) params.set('hide', view.hide.join(','));
  const s = params.toString();
  return s ? `?${s}` : '';
}
