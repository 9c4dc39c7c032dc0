// Checks for config that enters from outside (a file, the URL, a form). Inside, config is trusted.

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid config: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

export interface IntRule {
  min: number;
  max: number;
}

/** Reads integer fields of `raw` by the rules in `rules`; missing fields take `defaults`. */
export function readIntFields<T extends { [K in keyof T]: number }>(
  raw: unknown,
  defaults: T,
  rules: Record<keyof T, IntRule>,
  problems: string[],
): T {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push('expected an object');
    return { ...defaults };
  }
  const input = raw as Record<string, unknown>;
  const out: Record<string, number> = { ...defaults };
  for (const key of Object.keys(input)) {
    if (!(key in defaults)) problems.push(`unknown field "${key}"`);
  }
  for (const key of Object.keys(defaults) as (keyof T & string)[]) {
    const v = input[key];
    if (v === undefined) continue;
    const { min, max } = rules[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    } else {
      out[key] = v;
    }
  }
  return out as T;
}
