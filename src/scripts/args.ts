// A small typed parser for the scripts' --name value flags; an unknown flag or a bad value is an error.

type Kind = 'int' | 'number' | 'string' | 'flag';
type Value<K extends Kind> = K extends 'int' | 'number' ? number : K extends 'flag' ? boolean : string;
export type Parsed<S extends Record<string, Kind>> = { [K in keyof S]?: Value<S[K]> };

export function parseArgs<S extends Record<string, Kind>>(argv: string[], spec: S): Parsed<S> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const name = a.slice(2);
    const kind = spec[name];
    if (!kind) throw new Error(`unknown option --${name}; options: ${Object.keys(spec).map((k) => `--${k}`).join(' ')}`);
    if (kind === 'flag') {
      out[name] = true;
      continue;
    }
    const raw = argv[++i];
    if (raw === undefined) throw new Error(`--${name} needs a value`);
    if (kind === 'string') out[name] = raw;
    else {
      const n = Number(raw);
      if (!Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n))) throw new Error(`--${name} needs ${kind === 'int' ? 'an integer' : 'a number'}, got "${raw}"`);
      out[name] = n;
    }
  }
  return out as Parsed<S>;
}

/**
 * Applies a JSON patch such as '{"targetKl":3}' (from --ppo, --reward or --dpo) to a config table: every
 * key must exist in `defaults` with a value of the same type.
 */
export function patchConfig<T extends object>(option: string, json: string | undefined, defaults: T): T {
  const patch = json ? (JSON.parse(json) as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in defaults) || typeof v !== typeof defaults[k as keyof T]) throw new Error(`--${option}: bad field ${k}=${JSON.stringify(v)}`);
  }
  return { ...defaults, ...patch };
}
