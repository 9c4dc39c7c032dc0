// "Your preferences" (InstructGPT step 2): the pair on screen and the ones prefetched behind it, the
// labels (stored through a LabelSink: IndexedDB, runs.svelte.ts), the reward model's verdict on each, the prompt setting, and the
// label files: TRL JSONL export, import with a preview (Merge or Replace), labels from a share link, the TRL hand-off zip. A click shows the next prefetched pair at once and sends the label with
// the id of the pair it answers; the verdict arrives when the worker has learned it. A press that
// finds no pair on screen is not dropped silently: pressNote says it was not counted (issue 11).
// The page's label list is the truth: the worker gets every change, and the whole list after a
// restore, an import or a worker restart. A click's pair advances at once, but the label counts
// ("N labels" in the status) only once its write has committed, so a count the page shows is
// never ahead of what a reload gives back; a press in a burst is never held up by the disk.
import { SvelteSet } from 'svelte/reactivity';
import { MAX_IMPORT_BYTES } from '../../lib/config/label';
import { labelsParam, withoutLabelsParam } from '../../lib/config/url';
import type { Agreement, ImportedFile, Label, LabelEdit, PairOffer, Verdict } from '../../lib/protocol/messages';
import { errorText } from '../errors';
import type { AppLink } from './link';
import type { LabelSink } from './runs.svelte';

export type Answer = 'A' | 'B' | 'tie';

export interface FileMessage {
  kind: 'ok' | 'error';
  text: string;
}

/** Files read and checked, waiting for the user's Merge or Replace. */
export interface ImportPreview {
  files: ImportedFile[];
  /** Every label the files hold, once each (by id), in file order. */
  labels: Label[];
  /** Of those, labels whose id is not held yet (what Merge adds). */
  fresh: number;
  /** Problems of the files: refused files and line errors, each naming its file. */
  problems: string[];
  /** One sentence on the annotators' agreement, with its numbers (null with a single annotator). */
  agreement: string | null;
}

/** A file the user picked, as the import reads it (File fits). */
export interface PickedFile {
  name: string;
  size: number;
  text(): Promise<string>;
}

/** Pairs the preview shows. */
export const PREVIEW_PAIRS = 3;

let idCounter = 0;
/** A label id unique across reloads (crypto.randomUUID needs a secure context; a static host may not be one). */
function newLabelId(): string {
  idCounter += 1;
  return `${Date.now().toString(36)}-${idCounter.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export class Preferences {
  /** Pairs received and not answered: [0] is on screen. */
  queue = $state.raw<PairOffer[]>([]);
  labels = $state.raw<Label[]>([]);
  /** The reward model's verdict per label id (labels made in this session). */
  verdicts = $state.raw<Record<string, Verdict>>({});
  /** The fixed prompt new pairs use; null: varied prompts. */
  prompt = $state<string | null>(null);
  promptProblem = $state<string | null>(null);
  /** Why stored labels could not all be read back (null when fine). */
  storageProblem = $state<string | null>(null);
  /** Ids of labels whose write has not committed yet: not counted until it has. */
  readonly saving = new SvelteSet<string>();
  fileMessage = $state.raw<FileMessage | null>(null);
  /** Labels sent and not yet answered by a verdict. */
  learning = $state(0);
  /** Answers (keys or buttons) that found no pair on screen, this visit: each one is said in pressNote. */
  missed = $state(0);
  /** Why the latest answers were not counted; '' once an answer is counted. */
  pressNote = $state('');
  /** Answers not counted since the last counted one (the note says how many). */
  private missedInRow = 0;

  readonly current = $derived<PairOffer | null>(this.queue[0] ?? null);
  readonly count = $derived(this.labels.filter((l) => l.choice !== 'skip' && !this.saving.has(l.id)).length);
  /** The newest verdict that has arrived (verdicts come in label order). */
  lastVerdict = $state.raw<Verdict | null>(null);

  /** The prompt setting pairs must belong to (older pairs in flight are dropped). */
  private epoch = 0;

  constructor(
    private readonly app: AppLink,
    private readonly sink: LabelSink,
  ) {}

  /** Labels stored by an earlier visit (before the worker starts). */
  restore(labels: Label[], problem: string | null): void {
    this.labels = labels;
    this.storageProblem = problem;
  }

  /** The stored list after this tab took over from another one: it holds both tabs' labels. */
  adopt(labels: Label[]): void {
    const same = labels.length === this.labels.length && labels.every((l, i) => l.id === this.labels[i].id && l.choice === this.labels[i].choice);
    if (same) return;
    this.labels = labels;
    void this.sendEdit({ op: 'replace', labels });
  }

  /** A fresh worker (its pairs start at epoch 0): sends it the prompt setting and the whole list
   *  of labels (it refits its reward model on them); `labels` false: the labels come with a
   *  checkpoint instead (CheckpointState.restoreInto). */
  async syncWorker(labels = true): Promise<void> {
    this.queue = [];
    this.epoch = 0;
    const client = this.app.client;
    if (!client) return;
    if (this.prompt !== null) {
      const wanted = this.prompt;
      this.prompt = null;
      await this.setPrompt(wanted);
    }
    if (labels && this.labels.length > 0) await this.sendEdit({ op: 'replace', labels: this.labels });
  }

  receivePair(pair: PairOffer): void {
    if (pair.epoch === this.epoch) this.queue = [...this.queue, pair];
  }

  /** Pairs whose policy has trained since they were sampled: dropped (the worker sends fresh
   *  ones). The pair on screen stays, whatever the list says: the user may be reading it. */
  withdraw(ids: readonly number[]): void {
    const [shown, ...behind] = this.queue;
    if (shown) this.queue = [shown, ...behind.filter((p) => !ids.includes(p.id))];
  }

  /** A new online round (Start round N): every pair held, the one on screen too, goes; the worker sends pairs from the current policy. */
  dropPairs(): void {
    this.queue = [];
  }

  /** Labels the pair on screen; the next one shows at once. With none on screen, says the answer was not counted. */
  choose(answer: Answer, source: Label['source'] = 'human', preset?: string): void {
    const pair = this.current;
    const client = this.app.client;
    if (!pair || !client || !this.app.ready) {
      if (source === 'human') this.notCounted();
      return;
    }
    this.counted();
    const label: Label = { id: newLabelId(), prompt: pair.prompt, completionA: pair.a, completionB: pair.b, choice: answer, source, time: Date.now(), origin: { from: pair.from, steps: pair.steps } };
    if (preset !== undefined) label.preset = preset;
    this.queue = this.queue.slice(1);
    this.labels = [...this.labels, label];
    void this.store([label.id], this.sink.added([label]));
    this.learning += 1;
    client
      .request('label', { label, pairId: pair.id })
      .then((reply) => {
        this.verdicts = { ...this.verdicts, [label.id]: reply.verdict };
        if (this.labels.some((l) => l.id === label.id)) this.lastVerdict = reply.verdict;
      })
      .catch((e: unknown) => this.app.warn(`The reward model did not learn label ${this.labels.indexOf(label) + 1}: ${errorText(e)}`))
      .finally(() => (this.learning -= 1));
  }

  /** No label for the pair on screen: the next one shows at once. */
  skip(): void {
    const pair = this.current;
    if (!pair || !this.app.ready) {
      this.notCounted();
      return;
    }
    this.counted();
    this.queue = this.queue.slice(1);
    this.app.client?.send({ type: 'skip', pairId: pair.id });
  }

  /** An answer found no pair: the note says so, and how many in a row (a live region reads a changed text again). */
  private notCounted(): void {
    this.missed += 1;
    this.missedInRow += 1;
    const why = this.app.client === null
      ? 'the worker has stopped, so there is no pair to answer'
      : !this.app.ready
        ? 'the model is still loading — press again when a pair appears'
        : 'the next pair is still being sampled — press again when it appears';
    this.pressNote = `${this.missedInRow === 1 ? 'Press' : `${this.missedInRow} presses`} not counted: ${why}.`;
  }

  private counted(): void {
    this.missedInRow = 0;
    this.pressNote = '';
  }

  change(id: string, choice: Answer): void {
    if (!this.labels.some((l) => l.id === id && l.choice !== choice)) return;
    this.labels = this.labels.map((l) => (l.id === id ? { ...l, choice } : l));
    const changed = this.labels.find((l) => l.id === id);
    if (changed) void this.sink.changed(changed);
    const rest = { ...this.verdicts };
    delete rest[id]; // the old verdict judged the old answer
    this.verdicts = rest;
    if (this.lastVerdict?.labelId === id) this.lastVerdict = null;
    void this.sendEdit({ op: 'change', id, choice });
  }

  remove(id: string): void {
    if (!this.labels.some((l) => l.id === id)) return;
    this.labels = this.labels.filter((l) => l.id !== id);
    void this.sink.removed(id);
    if (this.lastVerdict?.labelId === id) this.lastVerdict = null;
    void this.sendEdit({ op: 'remove', id });
  }

  clear(): void {
    const before = this.labels;
    this.labels = [];
    void this.sink.replaced([], before);
    this.verdicts = {};
    this.lastVerdict = null;
    void this.sendEdit({ op: 'replace', labels: [] });
  }

  /** Uses `text` as the prompt of new pairs (null or blank: varied prompts). Unknown words are named. */
  async setPrompt(text: string | null): Promise<void> {
    const client = this.app.client;
    if (!client) return;
    const prompt = text === null || text.trim() === '' ? null : text.trim().toLowerCase().replace(/\s+/g, ' ');
    const epoch = this.epoch + 1;
    try {
      const reply = await client.request('setPrompt', { prompt, epoch });
      if (reply.unknown.length > 0 || reply.problem) {
        const words = reply.unknown.map((w) => `"${w}"`).join(', ');
        this.promptProblem = reply.unknown.length > 0
          ? `The model does not know ${reply.unknown.length === 1 ? 'the word' : 'the words'} ${words}: use words of its vocabulary (pairs keep their old prompt).`
          : `This prompt cannot be used: ${reply.problem}.`;
        return;
      }
      this.promptProblem = null;
      this.prompt = reply.prompt;
      this.epoch = epoch;
      this.queue = [];
    } catch (e) {
      this.promptProblem = `The prompt could not be set: ${errorText(e)}`;
    }
  }

  /** The labels as TRL preference JSON lines. Ties are left out (TRL would read a tie line as a preference) and counted in the message. */
  async exportJsonl(): Promise<{ jsonl: string; count: number } | null> {
    const client = this.app.client;
    if (!client) return null;
    try {
      const reply = await client.request('exportLabels', { labels: this.labels });
      const ties = reply.ties === 0 ? '' : ` ${reply.ties} tie${reply.ties === 1 ? ' was' : 's were'} left out: TRL's preference format has no tie, and a tie written as a pair would train as a win for A ("Export for TRL" writes them to ties.jsonl).`;
      this.fileMessage = { kind: 'ok', text: `Exported ${plural(reply.count, 'label')} as TRL preference JSONL.${ties}` };
      return reply;
    } catch (e) {
      this.fileMessage = { kind: 'error', text: `Export failed: ${errorText(e)}` };
      return null;
    }
  }

  /** The TRL hand-off zip (labels, this run's models as Hugging Face folders, README, script), built by the worker. */
  async exportTrl(): Promise<ArrayBuffer | null> {
    const client = this.app.client;
    if (!client) return null;
    this.fileMessage = { kind: 'ok', text: 'Building the TRL hand-off: reading every model\'s weights…' };
    try {
      const reply = await client.request('exportTrl', { labels: this.labels });
      this.fileMessage = {
        kind: 'ok',
        text: `Exported for TRL: ${reply.models.join(', ')}, ${plural(reply.preferences, 'preference')} and ${plural(reply.ties, 'tie')} (${Math.round(reply.zip.byteLength / 1024)} kB). Unzip it and read its README.md.`,
      };
      return reply.zip;
    } catch (e) {
      this.fileMessage = { kind: 'error', text: `The TRL export failed: ${errorText(e)}` };
      return null;
    }
  }

  /** Import, step 1: reads and checks the files (too large or empty ones are refused by name) and shows a preview; nothing changes yet. */
  importPreview = $state.raw<ImportPreview | null>(null);

  async previewImport(picked: readonly PickedFile[]): Promise<void> {
    const client = this.app.client;
    this.importPreview = null;
    if (!client || picked.length === 0) return;
    const refused: string[] = [];
    const files: { name: string; text: string }[] = [];
    for (const f of picked) {
      if (f.size > MAX_IMPORT_BYTES) {
        refused.push(`${f.name} is ${(f.size / 1024 / 1024).toFixed(1)} MB; the page reads label files up to ${MAX_IMPORT_BYTES / 1024 / 1024} MB (about 40,000 labels): split it, or train on it with TRL directly`);
        continue;
      }
      const text = await f.text();
      if (text.trim() === '') refused.push(`${f.name} is empty: it holds no label`);
      else files.push({ name: f.name, text });
    }
    try {
      const reply = files.length === 0 ? null : await client.request('importLabels', { files, held: this.labels });
      const read = reply?.files ?? [];
      const problems = [...refused];
      for (const f of read) {
        if (f.labels.length === 0) problems.push(`${f.name}: no label could be read (${plural(f.lines, 'line')}). ${summarise(f.errors)}`);
        else if (f.errors.length > 0) problems.push(`${f.name}: ${plural(f.errors.length, 'line')} skipped. ${summarise(f.errors)}`);
      }
      const seen: Record<string, true> = {};
      const labels = read.flatMap((f) => f.labels).filter((l) => !Object.hasOwn(seen, l.id) && (seen[l.id] = true));
      if (labels.length === 0) {
        this.fileMessage = { kind: 'error', text: `Nothing imported, your labels are unchanged. ${problems.join(' ')}` };
        return;
      }
      const held = idsOf(this.labels);
      this.fileMessage = null;
      this.importPreview = {
        files: read,
        labels,
        fresh: labels.filter((l) => !Object.hasOwn(held, l.id)).length,
        problems,
        agreement: reply ? agreementText(reply.agreement, read.filter((f) => f.labels.length > 0).length, this.labels.length > 0) : null,
      };
    } catch (e) {
      this.fileMessage = { kind: 'error', text: `The files could not be imported, your labels are unchanged: ${errorText(e)}` };
    }
  }

  /** Import, step 2: Merge adds the labels not held yet; Replace makes the imported labels the whole list. */
  async applyImport(mode: 'merge' | 'replace'): Promise<void> {
    const preview = this.importPreview;
    if (!preview) return;
    this.importPreview = null;
    const held = idsOf(this.labels);
    const fresh = preview.labels.filter((l) => !Object.hasOwn(held, l.id));
    const before = this.labels;
    let stored: Promise<void>;
    if (mode === 'merge') {
      this.labels = [...this.labels, ...fresh];
      stored = this.store(fresh.map((l) => l.id), this.sink.added(fresh));
    } else {
      this.labels = preview.labels;
      this.verdicts = {};
      this.lastVerdict = null;
      stored = this.store(preview.labels.map((l) => l.id), this.sink.replaced(preview.labels, before));
    }
    await this.sendEdit({ op: 'replace', labels: this.labels });
    await stored; // the message comes once the labels are stored (or said to be in memory only)
    const names = preview.files.map((f) => f.name).join(', ');
    const text = mode === 'merge'
      ? `${names}: imported ${plural(fresh.length, 'label')}${preview.labels.length > fresh.length ? `; ${preview.labels.length - fresh.length} already held` : ''}.`
      : `${names}: your ${plural(before.length, 'label')} were replaced by ${plural(preview.labels.length, 'imported label')}.`;
    this.fileMessage = { kind: preview.problems.length > 0 ? 'error' : 'ok', text: preview.problems.length > 0 ? `${text} ${preview.problems.join(' ')}` : text };
  }

  cancelImport(): void {
    this.importPreview = null;
    this.fileMessage = { kind: 'ok', text: 'Import cancelled; your labels are unchanged.' };
  }

  /** Labels carried by the page address (a share link): merged in by id, said in the message, and dropped from the address. */
  async loadFromLink(): Promise<void> {
    if (typeof location === 'undefined') return;
    const value = labelsParam(location.search);
    if (value === null) return;
    try {
      const { decodeLabels } = await import('../../lib/config/share-labels');
      const linked = decodeLabels(value);
      const held = idsOf(this.labels);
      const fresh = linked.filter((l) => !Object.hasOwn(held, l.id));
      this.labels = [...this.labels, ...fresh];
      await this.store(fresh.map((l) => l.id), this.sink.added(fresh));
      const repeated = linked.length - fresh.length;
      this.fileMessage = { kind: 'ok', text: `Loaded ${plural(linked.length, 'label')} from the link${repeated > 0 ? ` (${repeated} already held)` : ''}.` };
    } catch (e) {
      this.fileMessage = { kind: 'error', text: `The labels in this link could not be loaded (your own labels are unchanged): ${errorText(e)}. Ask for the labels file instead.` };
    }
    history.replaceState(history.state, '', `${location.pathname}${withoutLabelsParam(location.search)}${location.hash}`);
  }

  /** Counts `ids` only once `write` has settled (stored, or kept in memory with the page saying so). */
  private async store(ids: readonly string[], write: Promise<void>): Promise<void> {
    for (const id of ids) this.saving.add(id);
    await write;
    for (const id of ids) this.saving.delete(id);
  }

  /** The labels of a restored checkpoint file: they replace the list (the worker holds them already). */
  async adoptLabels(labels: Label[]): Promise<void> {
    const before = this.labels;
    this.queue = [];
    this.verdicts = {};
    this.lastVerdict = null;
    this.labels = labels;
    await this.store(labels.map((l) => l.id), this.sink.replaced(labels, before));
  }

  private async sendEdit(edit: LabelEdit): Promise<void> {
    const client = this.app.client;
    if (!client || !this.app.ready) return;
    try {
      await client.request('editLabels', { edit });
    } catch (e) {
      this.app.warn(`The worker could not apply the change to the labels: ${errorText(e)}`);
    }
  }
}

/** The ids of `labels`, for lookups. */
function idsOf(labels: readonly Label[]): Record<string, true> {
  return Object.fromEntries(labels.map((l) => [l.id, true] as const));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The agreement sentence of an import preview: which annotators, how many pairs they share, how many got the same answer. */
function agreementText(a: Agreement, files: number, withHeld: boolean): string | null {
  const annotators = files + (withHeld ? 1 : 0);
  if (annotators < 2) return null;
  const fileWords = files === 1 ? 'this file' : `these ${files} files`;
  const who = withHeld ? `${fileWords} and your labels` : fileWords;
  if (a.shared === 0) return `${who[0].toUpperCase()}${who.slice(1)} share no pair, so there is no agreement between annotators to measure.`;
  return `Agreement between annotators: ${who} share ${plural(a.shared, 'pair')}, and ${a.same} of them (${Math.round((a.fraction ?? 0) * 100)} %) got the same answer from everyone who labelled them.`;
}

/** The first few line errors of an import, then a count of the rest. */
function summarise(errors: readonly string[], shown = 5): string {
  const head = errors.slice(0, shown).join('; ');
  return errors.length > shown ? `${head}; and ${errors.length - shown} more.` : `${head}.`;
}
