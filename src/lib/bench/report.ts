// The lines the benchmark prints beside its own (issue 11): the native PyTorch reference's line
// (../shared/reference/torchref/ppo_time.sh prints {"where":"pytorch",...,"<name>_ms":...}) and
// one ratio line per measurement both sides have. Pure: the drivers print what these return.
import type { BenchLine } from './benches';

export interface RatioLine {
  where: 'ratio';
  what: string;
  ours_ms: number;
  pytorch_ms: number;
  /** ours / PyTorch: how many times slower we are (1 = as fast). */
  ratio: number;
  backend: string;
  /** Where ours ran: node or chromium. */
  ours_where: BenchLine['where'];
  threads: number;
}

/** The reference's timings by measurement name: each "<name>_ms" number field of its line. */
export function referenceTimes(reference: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(reference)) {
    const m = /^(.+)_ms$/.exec(key);
    if (m && typeof value === 'number' && Number.isFinite(value) && value > 0) out[m[1]] = value;
  }
  return out;
}

/** Parses the reference's output: the last line that is a JSON object with "where":"pytorch". */
export function parseReference(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
  for (const line of lines.reverse()) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (o.where === 'pytorch') return o;
    } catch {
      // not the reference's line
    }
  }
  throw new Error(`the PyTorch reference printed no {"where":"pytorch",...} line; its output was:\n${stdout}`);
}

/** One ratio line per (our line, reference figure) of the same name. */
export function ratioLines(ours: readonly BenchLine[], reference: Record<string, unknown>): RatioLine[] {
  const ref = referenceTimes(reference);
  return ours
    .filter((l) => ref[l.what] !== undefined)
    .map((l) => ({
      where: 'ratio',
      what: l.what,
      ours_ms: l.ms,
      pytorch_ms: ref[l.what],
      ratio: Math.round((l.ms / ref[l.what]) * 100) / 100,
      backend: l.backend,
      ours_where: l.where,
      threads: l.threads,
    }));
}
