// The TRL hand-off (issue 12): one zip, made in the worker (which owns the weights), holding the
// labels as TRL preference JSONL (ties in their own file), this run's models as Hugging Face
// folders (the base policy, the current policy of each trained method, the reward model), a README
// and a Python script that trains with TRL from exactly those folders. Zipped with fflate.
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { Gpt } from '../model/gpt';
import { exportLabels, type Label } from '../rl/preferences';
import { hfFolder, type Folder, type HfKind, type Weights } from './huggingface';
import { readme, SCRIPT_NAME, trainScript } from './trl-files';

/** The folder every file of the zip sits in, so that unzipping makes one folder. */
export const ZIP_ROOT = 'rlhf-playground-trl';
export const REWARD_FOLDER = 'reward-model';
/** Deflate level: the float32 weights barely compress, the JSON does; 6 is fflate's default balance. */
const ZIP_LEVEL = 6;

/** A trained policy to export. */
export interface TrainedPolicy {
  /** Its method's registry name ("ppo"): the folder is policy-<name>. */
  name: string;
  /** What the README calls it ("PPO after 40 iterations"). */
  note: string;
  model: Gpt;
}

export interface TrlSource {
  base: Gpt;
  rewardModel: Gpt;
  vocab: readonly string[];
  /** The current policy of each method that has trained one, newest first (the script's default is the first). */
  trained: readonly TrainedPolicy[];
}

export interface TrlZip {
  bytes: Uint8Array;
  models: string[];
  preferences: number;
  ties: number;
}

/** A model's tensors, read from its variables (await data(): no synchronous read in the worker). */
export async function readWeights(model: Gpt): Promise<Weights> {
  const entries = await Promise.all([...model.params].map(async ([name, v]) => [name, { shape: v.shape, data: (await v.data()) as Float32Array }] as const));
  return new Map(entries);
}

/** The whole hand-off: every folder and file, by path inside ZIP_ROOT. */
export async function trlFiles(source: TrlSource, labels: readonly Label[], now = new Date()): Promise<{ files: Record<string, Folder | Uint8Array>; models: string[]; preferences: number; ties: number }> {
  const config = source.base.config;
  const createdAt = now.toISOString();
  const folders: [string, Gpt, HfKind, string][] = [
    ...source.trained.map((t): [string, Gpt, HfKind, string] => [`policy-${t.name}`, t.model, 'policy', t.note]),
    ['policy-base', source.base, 'policy', 'the base model the page ships (pretrained, before any RLHF)'],
    [REWARD_FOLDER, source.rewardModel, 'reward', 'the reward model'],
  ];
  const files: Record<string, Folder | Uint8Array> = {};
  for (const [folder, model, kind, note] of folders) {
    files[folder] = hfFolder(await readWeights(model), config, source.vocab, kind, { source: 'RLHF Playground', model: note, created: createdAt });
  }
  const out = exportLabels(labels);
  files['preferences.jsonl'] = strToU8(out.preferences);
  files['ties.jsonl'] = strToU8(out.ties);
  const policies = folders.filter(([, , kind]) => kind === 'policy').map(([f]) => f);
  const facts = {
    policies,
    policyNotes: Object.fromEntries(folders.map(([f, , , note]) => [f, note])),
    rewardModel: REWARD_FOLDER,
    preferences: out.counts.preferences,
    ties: out.counts.ties,
    config,
    createdAt,
  };
  files['README.md'] = strToU8(readme(facts));
  files[SCRIPT_NAME] = strToU8(trainScript(facts));
  return { files, models: folders.map(([f]) => f), preferences: out.counts.preferences, ties: out.counts.ties };
}

/** The hand-off as one zip (every path under ZIP_ROOT/). */
export async function trlZip(source: TrlSource, labels: readonly Label[], now = new Date()): Promise<TrlZip> {
  const { files, ...rest } = await trlFiles(source, labels, now);
  const bytes = zipSync({ [ZIP_ROOT]: files as Zippable }, { level: ZIP_LEVEL, mtime: now });
  return { bytes, ...rest };
}
