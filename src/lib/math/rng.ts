// Seeded random numbers. Every random choice in a run derives from one run seed, so the same seed
// gives the same run (tensorflow/playground keeps its seed in the URL for the same reason).
// Generator: mulberry32 (32-bit state, passes the usual smoke tests, fast in JS); sub-streams are
// derived by hashing the parent seed with a label, so adding a consumer never shifts another's draws.

/** FNV-1a over a string, mixed with a seed: a stable 32-bit hash for deriving sub-seeds. */
export function hashSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    }
    this.state = seed >>> 0;
  }

  /** Where the stream is (a checkpoint saves it; restore() goes back there). */
  get position(): number {
    return this.state;
  }

  /** Continues the stream from a saved position: the next draws equal those after it was saved. */
  restore(position: number): void {
    if (!Number.isInteger(position) || position < 0 || position > 0xffffffff) throw new RangeError(`a stream position must be an integer in [0, 2^32), got ${position}`);
    this.state = position >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)];
  }

  /** k distinct items, in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const pool = items.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(pool.length - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, k);
  }

  /** A standard normal draw (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Index drawn from unnormalised non-negative weights. */
  categorical(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i];
    let u = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    // Rounding left u >= 0: return the last index with positive weight.
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return weights.length - 1;
  }

  /** An independent stream named by `label`, derived from this generator's seed. */
  fork(label: string): Rng {
    return new Rng(hashSeed(this.seed, label));
  }
}
