// The method registry: every training method the run can hold, by name. Adding a method is its
// module in this folder and one line here; the worker, the page (through the descriptors it is
// sent) and the experiment read everything else from the spec.
import { BEST_OF_N } from './best-of-n';
import { DPO } from './dpo';
import { GRPO } from './grpo';
import { PPO } from './ppo';
import { RLOO } from './rloo';
import { SFT } from './sft';
import type { MethodDescriptor, MethodSpec } from './types';

export const METHODS = {
  ppo: PPO,
  grpo: GRPO,
  rloo: RLOO,
  dpo: DPO,
  sft: SFT,
  'best-of-n': BEST_OF_N,
} satisfies Record<string, MethodSpec>;

export type MethodName = keyof typeof METHODS;
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}

/** The spec without `create`: what crosses to the page. */
export function describeMethod(name: MethodName): MethodDescriptor {
  const { create: _create, ...descriptor } = METHODS[name];
  return descriptor;
}
