// What a checkpoint keeps of a trainer or of the reward model (checkpoint.ts saves and restores it):
// every variable the next steps read or change, by a stable name (a model's parameters, an
// optimizer's moments), and the plain numbers beside them (step counts, beta, the KL history).
// The frozen reference is a copy of the base model and is left out: the base model is the page's.
import type * as tf from '@tensorflow/tfjs-core';
import type { AdamW } from '../model/optim';
import type { ParamStore } from '../model/params';

/** Plain numbers of a saved state (JSON: no NaN, no Infinity). */
export type StateValues = Record<string, number | number[]>;

export interface TrainerState {
  /** Variables by a stable name, in a stable order. */
  variables: [string, tf.Variable][];
  values: StateValues;
}

/** A model's parameters under `prefix/`. */
export function modelVariables(prefix: string, params: ParamStore): [string, tf.Variable][] {
  return [...params].map(([name, v]): [string, tf.Variable] => [`${prefix}/${name}`, v]);
}

/** An optimizer's moments under `prefix/` (its step count goes in the values). */
export function optimizerVariables(prefix: string, optimizer: AdamW): [string, tf.Variable][] {
  return optimizer.namedState().map(([name, v]): [string, tf.Variable] => [`${prefix}/${name}`, v]);
}

/** A saved whole number (a step count), or a readable error naming it. */
export function stateCount(values: StateValues, key: string): number {
  const x = values[key];
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new Error(`the saved state's "${key}" is not a step count (${JSON.stringify(x)})`);
  return x;
}

/** A saved finite number (beta), or a readable error naming it. */
export function stateNumber(values: StateValues, key: string): number {
  const x = values[key];
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`the saved state's "${key}" is not a number (${JSON.stringify(x)})`);
  return x;
}

/** A saved list of finite numbers (the KL history). */
export function stateList(values: StateValues, key: string): number[] {
  const x = values[key];
  if (!Array.isArray(x) || !x.every(Number.isFinite)) throw new Error(`the saved state's "${key}" is not a list of numbers`);
  return x.slice();
}
