// The headless experiment (npm run experiment): the whole loop with a simulated annotator, one
// run per method and seed. Defaults reproduce the engine issue's target setting: 50 labels,
// 10 % noise, positive-sentiment annotator, 3 seeds.
import type { AnnotatorPreset } from '../rl/annotators';

export type PairSelection = 'random' | 'most-different' | 'disagreement';
export type Method = 'ppo' | 'best-of-n' | 'dpo' | 'sft';
export const METHODS: readonly Method[] = ['ppo', 'best-of-n', 'dpo', 'sft'];

export interface ExperimentConfig {
  /** Labels the simulated annotator gives (over all rounds). */
  labels: number;
  /** Label-flip probability. */
  noise: number;
  annotator: AnnotatorPreset;
  /** Target word of the 'mentions' annotator. */
  word?: string;
  /** How the two completions of a pair are chosen among `candidates`. */
  selection: PairSelection;
  /** Candidates sampled per prompt for pair selection. */
  candidates: number;
  /** Labels chosen by "most different" before the disagreement ensemble takes over. */
  warmupLabels: number;
  /** Labels per round of disagreement selection (the ensemble is refitted between rounds). */
  selectionRound: number;
  /** Online RLHF rounds: labels are split over rounds; rounds after the first label policy samples. */
  rounds: number;
  /** PPO iterations in total (split over rounds). */
  ppoIterations: number;
  /** Candidates of best-of-N. */
  bestOfN: number;
  dpoSteps: number;
  sftSteps: number;
  /** Held-out prompts for the gold evaluation. */
  evalPrompts: number;
  /** Held-out prompts whose noise-free base pairs measure RM accuracy. */
  heldoutPairs: number;
  methods: readonly Method[];
}

export const DEFAULT_EXPERIMENT: ExperimentConfig = {
  labels: 50, // a student's session: 30-60 clicks
  noise: 0.1, // prototype2's setting
  annotator: 'positive', // AFINN-165 sentiment, as both prototypes
  selection: 'disagreement', // prototype2: 0.835 vs 0.786 (random) RM accuracy at 50 labels; here see warmupLabels
  candidates: 6, // prototype2 used K=6 for disagreement, K=4 for most-different
  warmupLabels: 25, // RM held-out accuracy, lr 3e-5, 50 labels, seeds 1-3: 0.768 after 10 warm-up labels, 0.817 after 25, 0.813 after 40, 0.814 all most-different, 0.777 random pairs
  selectionRound: 5, // prototype2's rounds of 5
  rounds: 1, // prototype2: an online round raised win rate but collapsed diversity (0.22)
  ppoIterations: 120, // prototype2 ran 60-100. 3 seeds: 120 at target KL 4.5 gave win 0.860, KL 4.7, distinct 0.75; 80 at target 5 gave 0.857, KL 5.3, 0.70
  bestOfN: 16, // KL = log 16 - 15/16 = 1.84 nats
  dpoSteps: 60, // prototype's DPO recipe (60 steps of batch 16)
  sftSteps: 60, // as DPO
  evalPrompts: 512, // win-rate standard error about 0.02
  heldoutPairs: 400, // about 300 non-tied noise-free pairs
  methods: METHODS,
};
