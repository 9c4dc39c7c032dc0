// This run's models as Hugging Face transformers folders. Our weights already carry GPT-2's names
// and layout (pre-LN blocks, tanh GELU, learned positions, Conv1D matrices used as x @ W, an untied
// LM head), so a policy is a GPT2LMHeadModel: the trunk's tensors under "transformer.", the LM head
// transposed to torch's Linear layout [vocab, d]. The reward model is a
// GPT2ForSequenceClassification with num_labels 1: its fine-tuned trunk, and its per-token score
// head ([d, 1] -> [1, d]) as `score.weight`. That class scores the LAST real token and its score
// layer has no bias, whereas the page sums the per-token score (bias included) over the completion;
// so the exported reward model is a warm start for TRL's RewardTrainer, not the page's reward
// function (README.md in the zip says so). tokenizer.json is a WordLevel model over our vocabulary
// that splits text as src/lib/data/tokenizer.ts does and puts <eos> first as the start token.
import type { ModelConfig } from '../config/model';
import { EOS_ID, EOS_TOKEN, PAD_ID } from '../data/tokenizer';
import { writeSafetensors, type NamedTensor } from './safetensors';

/** A model's tensors by our parameter names, as read from its variables. */
export type Weights = ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;

export type HfKind = 'policy' | 'reward';

/** The files of one folder, by name. */
export type Folder = Record<string, Uint8Array>;

/** The tokenizer's split (src/lib/data/corpus.ts WORD_RE): words with apostrophes, and . and , alone. */
const WORD_PATTERN = "[a-z']+|[.,]";
/** Marks a completion that hit the token budget (tokenizer.ts TRUNCATED_MARK): not a word, so the HF tokenizer drops it as ours does. */
const TRUNCATION_MARK = '…';
/** Where a decoded token gets its leading space: before a word, not before punctuation. */
const WORD_START = "^(?=[a-z'])";
const PAD_TOKEN = '<pad>';
/** Not in the vocabulary: an unknown word is an error in transformers too, never a silent id. */
const UNK_TOKEN = '<unk>';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');

/** transformers' GPT2Config for `config`. */
export function gpt2Config(config: ModelConfig, kind: HfKind): Record<string, unknown> {
  const common = {
    model_type: 'gpt2',
    vocab_size: config.vocabSize,
    n_positions: config.contextLength,
    n_ctx: config.contextLength,
    n_embd: config.dModel,
    n_layer: config.nLayers,
    n_head: config.nHeads,
    n_inner: 4 * config.dModel,
    activation_function: 'gelu_new', // GPT-2's tanh approximation, as gpt.ts's gelu
    layer_norm_epsilon: 1e-5, // gpt.ts LN_EPS
    resid_pdrop: 0, // the page trains without dropout
    embd_pdrop: 0,
    attn_pdrop: 0,
    summary_first_dropout: 0,
    initializer_range: 0.02,
    scale_attn_weights: true,
    tie_word_embeddings: false, // our lm_head is its own matrix
    bos_token_id: EOS_ID, // <eos> starts every prompt (tokenizer.ts encodePrompt)
    eos_token_id: EOS_ID,
    pad_token_id: PAD_ID,
    use_cache: true,
    dtype: 'float32',
  };
  return kind === 'policy'
    ? { architectures: ['GPT2LMHeadModel'], ...common, task_specific_params: { 'text-generation': { do_sample: true, max_new_tokens: config.maxNewTokens } } }
    : { architectures: ['GPT2ForSequenceClassification'], ...common, num_labels: 1, id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 } };
}

function tensor(weights: Weights, name: string): { shape: readonly number[]; data: Float32Array } {
  const t = weights.get(name);
  if (!t) throw new Error(`the model has no parameter "${name}" to export`);
  return t;
}

/** [rows, cols] -> [cols, rows]. */
function transpose(t: { shape: readonly number[]; data: Float32Array }): Float32Array {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return out;
}

/** Our embedding tables, which torch's nn.Embedding names "<name>.weight". */
const EMBEDDINGS = new Set(['wte', 'wpe']);

/** The tensors of the Hugging Face model, under transformers' names. */
export function hfTensors(weights: Weights, config: ModelConfig, kind: HfKind): NamedTensor[] {
  const out: NamedTensor[] = [];
  for (const [name, t] of weights) {
    if (name === 'lm_head.weight' || name.startsWith('score.')) continue;
    out.push({ name: `transformer.${EMBEDDINGS.has(name) ? `${name}.weight` : name}`, shape: [...t.shape], data: t.data });
  }
  if (kind === 'policy') {
    out.push({ name: 'lm_head.weight', shape: [config.vocabSize, config.dModel], data: transpose(tensor(weights, 'lm_head.weight')) });
  } else {
    out.push({ name: 'score.weight', shape: [1, config.dModel], data: transpose(tensor(weights, 'score.weight')) });
  }
  return out;
}

/** tokenizer.json (the tokenizers library's format): WordLevel over `vocab`, split like ours, <eos> prepended. */
export function tokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(PAD_ID, PAD_TOKEN), special(EOS_ID, EOS_TOKEN)],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Lowercase' }, { type: 'Replace', pattern: { String: TRUNCATION_MARK }, content: '' }] },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Split', pattern: { Regex: WORD_PATTERN }, behavior: 'Isolated', invert: false }],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: EOS_TOKEN, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: EOS_TOKEN, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [EOS_TOKEN]: { id: EOS_TOKEN, ids: [EOS_ID], tokens: [EOS_TOKEN] } },
    },
    // Decoding puts a space before each word (not before . and ,): a decoded completion starts with
    // its separating space, so GRPO's and RLOO's prompt + completion re-tokenises as it should.
    decoder: { type: 'Replace', pattern: { Regex: WORD_START }, content: ' ' },
    model: { type: 'WordLevel', vocab: Object.fromEntries(vocab.map((w, i) => [w, i])), unk_token: UNK_TOKEN },
  };
}

/** The tokenizer files of a folder: tokenizer.json, tokenizer_config.json, special_tokens_map.json. */
export function tokenizerFiles(vocab: readonly string[], config: ModelConfig): Folder {
  const specials = { bos_token: EOS_TOKEN, eos_token: EOS_TOKEN, pad_token: PAD_TOKEN };
  return {
    'tokenizer.json': json(tokenizerJson(vocab)),
    'tokenizer_config.json': json({ tokenizer_class: 'PreTrainedTokenizerFast', ...specials, model_max_length: config.contextLength, padding_side: 'left', clean_up_tokenization_spaces: false }),
    'special_tokens_map.json': json(specials),
  };
}

/** A whole Hugging Face folder: config, weights, tokenizer. */
export function hfFolder(weights: Weights, config: ModelConfig, vocab: readonly string[], kind: HfKind, metadata: Record<string, string> = {}): Folder {
  if (vocab.length !== config.vocabSize) throw new Error(`the vocabulary has ${vocab.length} entries, the model ${config.vocabSize}`);
  return {
    'config.json': json(gpt2Config(config, kind)),
    'model.safetensors': writeSafetensors(hfTensors(weights, config, kind), { format: 'pt', ...metadata }),
    ...tokenizerFiles(vocab, config),
  };
}
