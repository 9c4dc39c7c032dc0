// "Is RL necessary?": the worker's reward-KL plane as it last posted it (every point so far, so the
// page draws exactly the worker's numbers), and the demonstrations the user typed for SFT. A
// demonstration is checked by the worker (words outside the vocabulary are named in its refusal),
// joins SFT's data only once accepted, survives a reload in localStorage, and is sent again to a
// fresh worker.
import type { Demonstration, PlaneEvent } from '../../lib/protocol/messages';
import { errorText } from '../errors';
import type { AppLink } from './link';

export const DEMOS_KEY = 'rlhf-playground/demonstrations/v1';

function isDemonstration(v: unknown): v is Demonstration {
  return typeof v === 'object' && v !== null && typeof (v as Demonstration).prompt === 'string' && typeof (v as Demonstration).completion === 'string';
}

function store(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** A typed text as the worker reads it: lower case, single spaces (the tokenizer splits off "." and ","). */
export function normaliseText(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, ' ');
}

export class PlaneState {
  latest = $state.raw<PlaneEvent | null>(null);
  demos = $state.raw<Demonstration[]>([]);
  /** Why the last demonstration was refused (unknown words named), or null. */
  problem = $state<string | null>(null);
  busy = $state(false);

  constructor(private readonly app: AppLink) {
    const raw = store()?.getItem(DEMOS_KEY) ?? null;
    if (raw === null) return;
    try {
      const parsed: unknown = JSON.parse(raw);
      this.demos = Array.isArray(parsed) ? parsed.filter(isDemonstration) : [];
    } catch {
      this.demos = []; // unreadable: start with none (labels are what matter)
    }
  }

  receive(event: PlaneEvent): void {
    this.latest = event;
  }

  clear(): void {
    this.latest = null;
  }

  /** Sends the demonstrations to the worker (after it starts); a refusal is shown, nothing is lost. */
  async sync(): Promise<void> {
    if (this.demos.length === 0) return;
    await this.send(this.demos);
  }

  /** Adds one demonstration; true when the worker accepted it. */
  async add(prompt: string, completion: string): Promise<boolean> {
    const demo = { prompt: normaliseText(prompt), completion: normaliseText(completion) };
    if (demo.prompt === '' || demo.completion === '') {
      this.problem = 'Type a prompt and a completion for it.';
      return false;
    }
    return this.send([...this.demos, demo]);
  }

  async remove(index: number): Promise<void> {
    await this.send(this.demos.filter((_, i) => i !== index));
  }

  private async send(demos: Demonstration[]): Promise<boolean> {
    const client = this.app.client;
    if (!client || !this.app.ready) {
      this.problem = 'The model is still loading: try again in a moment.';
      return false;
    }
    this.busy = true;
    try {
      await client.request('setDemonstrations', { demonstrations: demos });
      this.demos = demos;
      this.problem = null;
      try {
        store()?.setItem(DEMOS_KEY, JSON.stringify(demos));
      } catch (e) {
        this.problem = `The demonstrations could not be saved in this browser (${errorText(e)}); they are in use until the page closes.`;
      }
      return true;
    } catch (e) {
      this.problem = errorText(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
