// The loop shared by the offline trainers (DPO, SFT): `steps` calls of step(rng), reporting each.
import type { Rng } from '../math/rng';

export interface Steppable<M> {
  step(rng: Rng): Promise<M>;
  readonly steps: number;
}

/** Runs `steps` optimizer steps of `trainer`; `onStep` sees each step's metrics as it finishes. */
export async function trainSteps<M>(trainer: Steppable<M>, steps: number, rng: Rng, onStep?: (metrics: M, step: number) => void): Promise<M[]> {
  const out: M[] = [];
  for (let i = 0; i < steps; i++) {
    const m = await trainer.step(rng);
    out.push(m);
    onStep?.(m, trainer.steps);
  }
  return out;
}
