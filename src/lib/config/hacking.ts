// One-click settings that provoke reward hacking, and the known remedies (DESIGN.md: "reward
// hacking is shown, not hidden"). Each preset is only a change of settings the page already has:
// method settings by their field key (sent with setMethodConfig and written into the address as
// `method.field`, checked by the field's rule like a typed value) and autopilot's settings (the URL
// table's `trainAfter`). A few also act on the run (reset, an online round); the page says so.
import type { MethodName } from '../rl/methods/registry';

// ---- the thresholds of the symptoms (src/lib/rl/symptoms.ts states each rule) ----

/** How far the gold score must fall below its best so far: more than one broken completion's penalty among the 64 gold prompts (92 / 64 = 1.4 on the positive preset), so one unlucky sample is not a parting. */
export const GOLD_FALL = 1.5;
/** How far the RM score must rise above its value at that best: half the base samples' spread, the rise alarms.ts's hackingAlarms asks for over the base model. */
export const PROXY_RISE = 0.5;
/** Iterations averaged at the start and at the end of a run when two stretches are compared: one iteration's 32-64 rollouts are noisy. */
export const WINDOW = 3;
/** The distinct ratio has collapsed when the last WINDOW iterations average at most this share of the first WINDOW's (the base model's rollouts are ~95 % distinct). */
export const DISTINCT_KEEP = 0.6;
/** The length has drifted when the last WINDOW iterations' mean length differs from the first WINDOW's by this share or more (the prototype's hacks grew it by half). */
export const LENGTH_DRIFT = 0.3;
/** Rollouts stop ending when the share reaching EOS falls by this much from the first WINDOW iterations (the base model ends ~98 %). */
export const EOS_FALL = 0.2;
/** Groups carry no signal when the last WINDOW iterations average this share of rollouts in all-equal groups, or more: half the batch teaches nothing. */
export const ZERO_STD_SHARE = 0.5;

/** A setting's new raw value, or DEFAULT for the method's own default. */
export const DEFAULT = 'default';

export type PresetId = 'provoke' | 'adaptive' | 'labels' | 'online';

export interface HackingPreset {
  id: PresetId;
  /** The button's text. */
  label: string;
  kind: 'provoke' | 'remedy';
  /** Why it provokes or cures hacking, in one sentence. */
  reason: string;
  /** New settings of each online method by field key (raw text, or DEFAULT). */
  methods: Partial<Record<MethodName, Record<string, string>>>;
  /** Autopilot presses Train once this many labels exist. */
  trainAfter?: number;
  /** What else it does to the run, in words (shown on the button's description). */
  action?: 'reset' | 'online-round';
}

/** Labels the "more labels" remedy waits for: prototype2's reward model reached 0.78-0.80 accuracy from 25-50 labels. */
export const MORE_LABELS = 50;
/** Labels the hacking preset trains after: an undertrained reward model is what RL exploits. */
export const FEW_LABELS = 10;
/** New labels of one online round, taken on the current policy's outputs before the reward model is refitted. */
export const ONLINE_ROUND_LABELS = 20;

const BETA_OFF = { ppo: { klControl: 'fixed', initKlCoef: '0' }, grpo: { klControl: 'fixed', beta: '0' }, rloo: { klControl: 'fixed', beta: '0' } };
const BETA_BACK = { ppo: { klControl: 'adaptive', initKlCoef: DEFAULT }, grpo: { klControl: 'adaptive', beta: DEFAULT }, rloo: { klControl: 'adaptive', beta: DEFAULT } };

function merge(...parts: Partial<Record<MethodName, Record<string, string>>>[]): Partial<Record<MethodName, Record<string, string>>> {
  const out: Partial<Record<MethodName, Record<string, string>>> = {};
  for (const part of parts) for (const [m, patch] of Object.entries(part) as [MethodName, Record<string, string>][]) out[m] = { ...out[m], ...patch };
  return out;
}

export const HACKING_PRESETS: readonly HackingPreset[] = [
  {
    id: 'provoke',
    label: 'Provoke reward hacking',
    kind: 'provoke',
    reason: 'with no KL penalty nothing holds the policy near fluent text, with no truncation penalty a sentence that never ends costs nothing, and a reward model fitted on 10 labels has many holes to exploit',
    methods: merge(BETA_OFF, { ppo: { truncationPenalty: '0' }, grpo: { truncationPenalty: '0' }, rloo: { truncationPenalty: '0' } }),
    trainAfter: FEW_LABELS,
  },
  {
    id: 'adaptive',
    label: 'Remedy: adaptive KL',
    kind: 'remedy',
    reason: 'the controller raises β whenever the KL to the base model passes its target (Ziegler et al. 2019), and the truncation penalty makes a run-on sentence cost again',
    methods: merge(BETA_BACK, { ppo: { truncationPenalty: DEFAULT }, grpo: { truncationPenalty: DEFAULT }, rloo: { truncationPenalty: DEFAULT } }),
  },
  {
    id: 'labels',
    label: 'Remedy: more labels',
    kind: 'remedy',
    reason: 'a reward model fitted on more comparisons has fewer blind spots; the methods start again from the base model and train once there are enough labels',
    methods: {},
    trainAfter: MORE_LABELS,
    action: 'reset',
  },
  {
    id: 'online',
    label: 'Remedy: an online round',
    kind: 'remedy',
    reason: "the reward model is shown the policy's own outputs, the very texts it was fooled by, and learns that they are not what the annotator wants (InstructGPT's and Anthropic's online rounds)",
    methods: {},
    action: 'online-round',
  },
];

export function hackingPreset(id: PresetId): HackingPreset {
  const preset = HACKING_PRESETS.find((p) => p.id === id);
  if (!preset) throw new Error(`no hacking preset "${id}"`);
  return preset;
}
