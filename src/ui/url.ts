// The page's address parameters: ?backend= overrides the worker's backend choice and ?seed= sets
// the run seed. A bad value never breaks the page: it is reported and the default is used.
// (A later issue moves these into the config <-> URL table in src/lib/config.)
import { BACKEND_NAMES, isBackendName, type BackendName } from '../lib/protocol/messages';

export const DEFAULT_SEED = 1;
const MAX_SEED = 0xffffffff; // the Rng's seed is 32 bits

export interface PageParams {
  /** Absent: the worker chooses. */
  backend?: BackendName;
  seed: number;
  /** One readable line per rejected parameter. */
  problems: string[];
}

export function parsePageParams(search: string): PageParams {
  const params = new URLSearchParams(search);
  const problems: string[] = [];
  let backend: BackendName | undefined;
  const rawBackend = params.get('backend');
  if (rawBackend !== null) {
    const value = rawBackend.trim().toLowerCase();
    if (isBackendName(value)) backend = value;
    else {
      problems.push(`Unknown backend "${rawBackend}" in the address (?backend=${rawBackend}). Use one of ${BACKEND_NAMES.join(', ')}; the page chose a backend itself.`);
    }
  }
  let seed = DEFAULT_SEED;
  const rawSeed = params.get('seed');
  if (rawSeed !== null) {
    const value = Number(rawSeed.trim());
    if (rawSeed.trim() !== '' && Number.isInteger(value) && value >= 0 && value <= MAX_SEED) seed = value;
    else problems.push(`Bad seed "${rawSeed}" in the address (?seed=${rawSeed}): use a whole number from 0 to ${MAX_SEED}; using seed ${DEFAULT_SEED}.`);
  }
  return { backend, seed, problems };
}

/** `search` with `key` set to `value`, or removed when `value` is null; keeps the other parameters. */
export function withParam(search: string, key: string, value: string | null): string {
  const params = new URLSearchParams(search);
  if (value === null) params.delete(key);
  else params.set(key, value);
  const s = params.toString();
  return s ? `?${s}` : '?';
}
