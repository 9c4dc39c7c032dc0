// The headless experiment (npm run experiment): the page's own run (src/lib/rl/run.ts) driven by a
// simulated annotator, one run per method and seed. Defaults reproduce the method-registry issue's
// target setting: 50 labels, 10 % noise, positive-sentiment annotator, 3 seeds. Everything the page
// also runs (reward model, pair selection, each method's settings) takes the page's defaults; only
// how long to train and how to judge are set here.
import type { AnnotatorPreset } from '../rl/annotators';
import type { GoldKind } from './run';

export interface ExperimentConfig {
  /** Labels the simulated annotator gives. */
  labels: number;
  /** Label-flip probability. */
  noise: number;
  annotator: AnnotatorPreset;
  /** Target word of the 'mentions' annotator. */
  word?: string;
  /** What the annotator's gold (its labels and the judge) sees: grammar too, or the preference alone. */
  gold: GoldKind;
  /** Iterations of each online method (PPO, GRPO, RLOO). */
  iterations: number;
  /** The N of each best-of-N row. */
  bestOfN: readonly number[];
  /** Held-out prompts for the gold evaluation. */
  evalPrompts: number;
  /** Held-out prompts whose noise-free base pairs measure RM accuracy. */
  heldoutPairs: number;
  /** Registry names of the methods to run, in order. */
  methods: readonly string[];
}

export const DEFAULT_EXPERIMENT: ExperimentConfig = {
  labels: 50, // a student's session: 30-60 clicks
  noise: 0.1, // prototype2's setting
  annotator: 'positive', // AFINN-165 sentiment, as both prototypes
  gold: 'grammar', // the page's: a broken sentence never beats a well-formed one
  iterations: 120, // prototype2 ran 60-100; here PPO reaches its KL target (4.5) by about iteration 60 and holds it
  bestOfN: [4, 16, 64], // KL 0.64, 1.83 and 3.17 nats: the reranking curve beside RL's KL budget
  evalPrompts: 512, // win-rate standard error about 0.02
  heldoutPairs: 400, // about 300 non-tied noise-free pairs
  methods: ['best-of-n', 'sft', 'dpo', 'ppo', 'grpo', 'rloo'],
};
