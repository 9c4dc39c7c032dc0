// Labels kept by earlier versions of the page, in localStorage under one key, move into the
// IndexedDB run once (db.ts). The key is removed only after the IndexedDB transaction committed,
// so a failure at any point loses nothing: the next load tries again, and ids already moved are not
// added twice. Stored text that cannot be read is set aside under another key, never erased.
import * as v from 'valibot';
import { LabelSchema, type Label } from '../../lib/config/label';
import { errorText } from '../errors';
import type { RunStore } from './db';

export const LABELS_KEY = 'rlhf-playground/labels/v1';
export const UNREADABLE_KEY = `${LABELS_KEY}/unreadable`;

/** The page's localStorage, or null where the browser blocks it. */
export function localStore(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // some browsers throw on access when storage is blocked
  }
}

interface Legacy {
  labels: Label[];
  /** The stored text could not be read as a list, or some entries failed the schema. */
  problem: string | null;
}

function readLegacy(raw: string): Legacy {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) throw new Error('not a list');
    const labels = parsed.filter((l): l is Label => v.is(LabelSchema, l));
    const dropped = parsed.length - labels.length;
    const problem = dropped > 0
      ? `${dropped} label${dropped === 1 ? '' : 's'} saved by an earlier version of the page could not be read and ${dropped === 1 ? 'was' : 'were'} set aside.`
      : null;
    return { labels, problem };
  } catch (e) {
    return { labels: [], problem: `The labels saved by an earlier version of the page could not be read (${errorText(e)}); they were set aside.` };
  }
}

export interface Migrated {
  /** Labels added to the run (those it held already are not counted). */
  moved: number;
  problem: string | null;
}

/**
 * Moves the labels under LABELS_KEY into run `runId`, then removes the key (the unreadable text,
 * if any, is kept under UNREADABLE_KEY first). Throws if the IndexedDB write fails: the key stays.
 */
export async function migrateLegacyLabels(store: RunStore, runId: string, local: Storage | null = localStore()): Promise<Migrated> {
  const raw = local?.getItem(LABELS_KEY) ?? null;
  if (local === null || raw === null) return { moved: 0, problem: null };
  const { labels, problem } = readLegacy(raw);
  const moved = await store.addLabels(runId, labels);
  try {
    if (problem !== null) local.setItem(UNREADABLE_KEY, raw);
    local.removeItem(LABELS_KEY);
  } catch {
    // localStorage refused: the key stays, and the next load finds its labels moved already
  }
  return { moved, problem };
}
