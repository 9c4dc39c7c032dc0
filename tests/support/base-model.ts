// Loads the shipped base model (public/models/base) in Node, as the worker does with fetch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../../src/lib/data/tokenizer';
import { loadGpt, WEIGHTS_FILE } from '../../src/lib/model/io';

export const BASE_DIR = join(import.meta.dirname, '../../public/models/base');

export function readJson(name: string): unknown {
  return JSON.parse(readFileSync(join(BASE_DIR, name), 'utf8'));
}

export function loadBase(prefix = 'base') {
  const { model, manifest } = loadGpt(readJson('model.json'), readFileSync(join(BASE_DIR, WEIGHTS_FILE)), prefix);
  return { model, manifest, tokenizer: Tokenizer.fromVocab(readJson('vocab.json')) };
}
