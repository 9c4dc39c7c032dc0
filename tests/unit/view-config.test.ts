// The view settings of the address (lecture mode, hidden panels, tour step, hands-free start):
// parsed with a message per bad value, written back with only what differs from the defaults.
import { describe, expect, test } from 'vitest';
import { DEFAULT_VIEW, parseView, TOUR_STEPS, viewSearch } from '../../src/lib/config/view';

describe('view settings in the address', () => {
  test('no parameters: the defaults, no problems', () => {
    expect(parseView('')).toEqual({ view: DEFAULT_VIEW, problems: [] });
  });

  test('the lecture link parses and writes back unchanged, beside run parameters', () => {
    const { view, problems } = parseView('?seed=3&lecture=1&autopilot=1&tour=2&hide=blind,run');
    expect(problems).toEqual([]);
    expect(view).toEqual({ lecture: true, autopilot: true, tour: 2, hide: ['blind', 'run'] });
    expect(viewSearch(view, '?seed=3')).toBe('?seed=3&lecture=1&autopilot=1&tour=2&hide=blind%2Crun');
    expect(parseView(viewSearch(view)).view).toEqual(view);
  });

  test('bare flags count as on; 0 and off as off', () => {
    expect(parseView('?lecture').view.lecture).toBe(true);
    expect(parseView('?lecture=off&autopilot=0').view).toMatchObject({ lecture: false, autopilot: false });
  });

  test('bad values keep the default and say why, naming the key; a tour step out of range takes the nearest', () => {
    const { view, problems } = parseView(`?lecture=maybe&tour=${TOUR_STEPS + 1}&hide=blind,charts`);
    expect(view).toEqual({ ...DEFAULT_VIEW, tour: TOUR_STEPS, hide: ['blind'] });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^Bad lecture "maybe" .*use 1 or 0; using 0\.$/);
    expect(problems[1]).toBe(`The tour step "${TOUR_STEPS + 1}" in the address (?tour=${TOUR_STEPS + 1}) is out of range (use a whole number from 0 to ${TOUR_STEPS}; 0 closes the tour); using ${TOUR_STEPS}.`);
    expect(parseView('?tour=0x1')).toMatchObject({ view: { tour: 0 }, problems: [expect.stringMatching(/^Bad tour step "0x1"/)] });
    expect(problems[2]).toMatch(/unknown panel "charts"; known: pipeline, how, .*; using blind\.$/);
  });

  test('defaults write nothing, and other parameters are kept', () => {
    expect(viewSearch(DEFAULT_VIEW)).toBe('');
    expect(viewSearch(DEFAULT_VIEW, '?seed=2&lecture=1')).toBe('?seed=2');
  });
});
