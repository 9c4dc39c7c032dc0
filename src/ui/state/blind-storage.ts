// Blind-evaluation answers survive a reload, as the labels do (storage.ts): a few hundred bytes
// each in localStorage after every answer. A failed write is reported and loses nothing while the
// page is open; stored data that cannot be read is set aside under another key, not erased.
import { errorText } from '../errors';
import type { BlindAnswer } from './blind.svelte';

export const BLIND_KEY = 'rlhf-playground/blind/v1';
const UNREADABLE_KEY = `${BLIND_KEY}/unreadable`;

const SIDES = new Set(['left', 'right']);
const CHOICES = new Set(['left', 'right', 'tie']);

function isAnswer(v: unknown): v is BlindAnswer {
  if (typeof v !== 'object' || v === null) return false;
  const a = v as Record<string, unknown>;
  return (
    typeof a.id === 'string' &&
    typeof a.method === 'string' &&
    SIDES.has(a.methodSide as string) &&
    CHOICES.has(a.choice as string) &&
    (a.repeatOf === null || typeof a.repeatOf === 'string') &&
    typeof a.prompt === 'string' &&
    typeof a.left === 'string' &&
    typeof a.right === 'string' &&
    typeof a.steps === 'number' &&
    typeof a.seed === 'number' &&
    typeof a.time === 'number'
  );
}

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function loadAnswers(): { answers: BlindAnswer[]; problem: string | null } {
  const store = storage();
  if (!store) return { answers: [], problem: 'This browser blocks storage: blind answers will not survive a reload.' };
  const raw = store.getItem(BLIND_KEY);
  if (raw === null) return { answers: [], problem: null };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) throw new Error('not a list');
    const answers = parsed.filter(isAnswer);
    const dropped = parsed.length - answers.length;
    return { answers, problem: dropped > 0 ? `${dropped} saved blind answer${dropped === 1 ? '' : 's'} could not be read and ${dropped === 1 ? 'was' : 'were'} left out.` : null };
  } catch (e) {
    try {
      store.setItem(UNREADABLE_KEY, raw);
    } catch {
      // nowhere to put it: it stays under its own key until the next save
    }
    return { answers: [], problem: `The saved blind answers could not be read (${errorText(e)}); they were set aside.` };
  }
}

/** Writes the answers; returns why it failed, or null. */
export function saveAnswers(answers: readonly BlindAnswer[]): string | null {
  const store = storage();
  if (!store) return 'This browser blocks storage: blind answers will not survive a reload.';
  try {
    store.setItem(BLIND_KEY, JSON.stringify(answers));
    return null;
  } catch (e) {
    return `Could not save the blind answers (${errorText(e)}); nothing is lost while this page stays open.`;
  }
}
