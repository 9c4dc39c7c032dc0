// Labels survive a reload: they are written to localStorage after every change (a few hundred
// bytes each; a class's worth of labels is far below the ~5 MB quota). A failed write (quota
// exceeded, storage disabled) is reported and loses nothing: the labels stay in the page, and the
// user can export them. Stored data that cannot be read is set aside under another key, not erased.
import * as v from 'valibot';
import { LabelSchema, type Label } from '../../lib/config/label';
import { errorText } from '../errors';

export const LABELS_KEY = 'rlhf-playground/labels/v1';
const UNREADABLE_KEY = `${LABELS_KEY}/unreadable`;

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // some browsers throw on access when storage is blocked
  }
}

export interface Loaded {
  labels: Label[];
  /** Why stored labels could not all be read (null when fine). */
  problem: string | null;
}

export function loadLabels(): Loaded {
  const store = storage();
  if (!store) return { labels: [], problem: 'This browser blocks storage: labels will not survive a reload (export them to keep them).' };
  const raw = store.getItem(LABELS_KEY);
  if (raw === null) return { labels: [], problem: null };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) throw new Error('not a list');
    const labels = parsed.filter((l): l is Label => v.is(LabelSchema, l));
    const dropped = parsed.length - labels.length;
    return { labels, problem: dropped > 0 ? `${dropped} saved label${dropped === 1 ? '' : 's'} could not be read and ${dropped === 1 ? 'was' : 'were'} left out.` : null };
  } catch (e) {
    try {
      store.setItem(UNREADABLE_KEY, raw);
    } catch {
      // nowhere to put it: it stays under its own key until the next save
    }
    return { labels: [], problem: `The saved labels could not be read (${errorText(e)}); they were set aside.` };
  }
}

/** Writes the labels; returns why it failed, or null. */
export function saveLabels(labels: readonly Label[]): string | null {
  const store = storage();
  if (!store) return 'This browser blocks storage: labels will not survive a reload (export them to keep them).';
  try {
    store.setItem(LABELS_KEY, JSON.stringify(labels));
    return null;
  } catch (e) {
    const full = e instanceof DOMException && (e.name === 'QuotaExceededError' || e.name === 'NS_ERROR_DOM_QUOTA_REACHED');
    const why = full ? 'the browser storage is full' : `saving failed (${errorText(e)})`;
    return `Could not save the labels: ${why}. Nothing is lost while this page stays open; export them as JSONL to keep them.`;
  }
}
