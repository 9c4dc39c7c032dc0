// Pieces the method modules share: sampling texts from a policy in bounded chunks, and a spec
// helper that lets each module keep its own config type while the registry holds one shape.
import type { FieldValue } from '../../config/fields';
import type { Tokenizer } from '../../data/tokenizer';
import type { Rng } from '../../math/rng';
import type { Gpt } from '../../model/gpt';
import { sampleCompletions } from '../../model/sample';
import { completionText } from '../sequences';
import type { MethodSpec } from './types';

/** Rows per sampling call: keeps a batched forward efficient without large attention tensors. */
export const SAMPLE_CHUNK = 256;

/** One completion text per prompt from `model`, drawn with `rng` at `temperature`. */
export async function sampleTexts(model: Gpt, tokenizer: Tokenizer, prompts: readonly string[], rng: Rng, temperature = 1): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < prompts.length; i += SAMPLE_CHUNK) {
    const s = await sampleCompletions(model, prompts.slice(i, i + SAMPLE_CHUNK).map((p) => tokenizer.encodePrompt(p)), { rng, temperature });
    out.push(...s.completions.map((c) => completionText(tokenizer, c)));
  }
  return out;
}

/** A method's spec with its own config type, as the registry holds it (config values are checked by its fields). */
export function defineMethod<C extends object>(spec: MethodSpec<C>): MethodSpec {
  return spec as unknown as MethodSpec;
}

/** The config a trainer runs with after a patch from the page (only the spec's own keys are taken). */
export function patchConfig<C extends object>(config: C, patch: Record<string, FieldValue>): C {
  const next = { ...config } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) if (k in next) next[k] = v;
  return next as C;
}
