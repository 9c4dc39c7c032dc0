// The TRL hand-off (src/lib/export): safetensors bytes by the format's rules, GPT-2 names and
// layouts (the LM head and score head transposed to torch's Linear), the zip's files, the
// generated Python script parses (python3's ast, where python3 exists), and the JSONL carries
// TRL's field names. The full check against transformers and TRL is npm run check:trl (not in CI).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { strFromU8, unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../src/lib/data/tokenizer';
import { ensureScalarHead } from '../../src/lib/model/heads';
import { gpt2Config, hfTensors, tokenizerJson } from '../../src/lib/export/huggingface';
import { readSafetensors, writeSafetensors } from '../../src/lib/export/safetensors';
import { SCRIPT_NAME } from '../../src/lib/export/trl-files';
import { readWeights, trlZip, ZIP_ROOT } from '../../src/lib/export/trl-zip';
import { TRL_PREFERENCE_FIELDS, type Label } from '../../src/lib/rl/preferences';
import { TINY, tinyGpt } from '../support/tiny';

afterEach(() => tf.disposeVariables());

const WORDS = ['.', 'bad', 'good', 'great', 'pizza', 'the', 'was', 'i', 'it', 'loved'];
const tokenizer = new Tokenizer(WORDS);

const labels: Label[] = [
  { id: 'a', prompt: 'the pizza was', completionA: 'good.', completionB: 'bad.', choice: 'A', source: 'human', time: 1, origin: { from: 'base', steps: 0 } },
  { id: 'b', prompt: 'i loved', completionA: 'it.', completionB: 'the pizza.', choice: 'B', source: 'simulated', preset: 'positive', time: 2, origin: { from: 'ppo', steps: 3 } },
  { id: 'c', prompt: 'the pizza was', completionA: 'great.', completionB: 'good.', choice: 'tie', source: 'human', time: 3 },
];

/** python3 on this machine, or null (the parse test then says why it is skipped). */
function python(): string | null {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return 'python3';
  } catch {
    return null;
  }
}
const PYTHON = python();

describe('safetensors', () => {
  it('writes the 8-byte little-endian header length, an aligned JSON header and little-endian float32 data', () => {
    const bytes = writeSafetensors([{ name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -0.5]) }, { name: 'b', shape: [1], data: Float32Array.from([7]) }], { format: 'pt' });
    const view = new DataView(bytes.buffer);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
    expect(header).toEqual({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] }, b: { dtype: 'F32', shape: [1], data_offsets: [24, 28] } });
    expect(bytes.length).toBe(8 + n + 28);
    expect(view.getFloat32(8 + n + 20, true)).toBe(-0.5);
    expect(readSafetensors(bytes).tensors.map((t) => [t.name, [...t.data]])).toEqual([['w', [1, 2, 3, 4, 5, -0.5]], ['b', [7]]]);
    expect(() => writeSafetensors([{ name: 'x', shape: [3], data: new Float32Array(2) }])).toThrow(/holds 3 values, not 2/);
  });
});

describe('Hugging Face folders', () => {
  it('names every tensor as GPT2LMHeadModel does, with the LM head as torch Linear [vocab, d]', async () => {
    const model = tinyGpt(3);
    const weights = await readWeights(model);
    const tensors = hfTensors(weights, TINY, 'policy');
    const names = tensors.map((t) => t.name);
    expect(names).toContain('transformer.wte.weight');
    expect(names).toContain('transformer.wpe.weight');
    expect(names).toContain('transformer.h.1.attn.c_attn.weight');
    expect(names).toContain('transformer.ln_f.bias');
    expect(names.filter((n) => !n.startsWith('transformer.'))).toEqual(['lm_head.weight']);
    const ours = weights.get('lm_head.weight')!; // [d, V]
    const head = tensors.find((t) => t.name === 'lm_head.weight')!;
    expect(head.shape).toEqual([TINY.vocabSize, TINY.dModel]);
    for (const [i, j] of [[0, 0], [3, 5], [TINY.dModel - 1, TINY.vocabSize - 1]]) expect(head.data[j * TINY.dModel + i]).toBe(ours.data[i * TINY.vocabSize + j]);
    // Conv1D matrices keep our x @ W layout.
    expect(tensors.find((t) => t.name === 'transformer.h.0.mlp.c_fc.weight')!.shape).toEqual([TINY.dModel, 4 * TINY.dModel]);
  });

  it('exports the reward model as a sequence classifier with its score head and no LM head', async () => {
    const model = tinyGpt(4);
    ensureScalarHead(model, 'rm');
    const tensors = hfTensors(await readWeights(model), TINY, 'reward');
    expect(tensors.find((t) => t.name === 'score.weight')!.shape).toEqual([1, TINY.dModel]);
    expect(tensors.some((t) => t.name === 'lm_head.weight' || t.name === 'score.bias')).toBe(false);
    expect(gpt2Config(TINY, 'reward')).toMatchObject({ architectures: ['GPT2ForSequenceClassification'], num_labels: 1, pad_token_id: 0 });
  });

  it('writes config.json with GPT-2 sizes, gelu_new and untied embeddings', () => {
    expect(gpt2Config(TINY, 'policy')).toMatchObject({
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      activation_function: 'gelu_new',
      tie_word_embeddings: false,
      n_embd: TINY.dModel,
      n_layer: TINY.nLayers,
      n_head: TINY.nHeads,
      n_positions: TINY.contextLength,
      vocab_size: TINY.vocabSize,
      layer_norm_epsilon: 1e-5,
    });
  });

  it('writes a WordLevel tokenizer over our vocabulary, PAD and EOS first', () => {
    const t = tokenizerJson(tokenizer.vocab) as { model: { type: string; vocab: Record<string, number> }; added_tokens: { content: string; id: number }[] };
    expect(t.model.type).toBe('WordLevel');
    expect(Object.keys(t.model.vocab)).toHaveLength(tokenizer.size);
    expect(t.model.vocab['<pad>']).toBe(0);
    expect(t.model.vocab['<eos>']).toBe(1);
    expect(t.model.vocab.pizza).toBe(tokenizer.encode('pizza')[0]);
    expect(t.added_tokens.map((a) => [a.content, a.id])).toEqual([['<pad>', 0], ['<eos>', 1]]);
  });
});

describe('the TRL hand-off zip', () => {
  async function unzipped(): Promise<Record<string, Uint8Array>> {
    const cfg = { ...TINY, vocabSize: tokenizer.size };
    const base = tinyGpt(1, cfg);
    const policy = tinyGpt(2, cfg);
    const rm = tinyGpt(3, cfg);
    ensureScalarHead(rm, 'rm');
    const zip = await trlZip({ base, rewardModel: rm, vocab: tokenizer.vocab, trained: [{ name: 'ppo', note: 'PPO after 3 steps', model: policy }] }, labels, new Date(Date.UTC(2026, 0, 1)));
    expect(zip.models).toEqual(['policy-ppo', 'policy-base', 'reward-model']);
    expect([zip.preferences, zip.ties]).toEqual([2, 1]);
    return unzipSync(zip.bytes);
  }

  it('holds the labels, three model folders, a README and the script', async () => {
    const files = await unzipped();
    for (const folder of ['policy-ppo', 'policy-base', 'reward-model']) {
      for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) expect(Object.keys(files)).toContain(`${ZIP_ROOT}/${folder}/${f}`);
    }
    for (const f of ['preferences.jsonl', 'ties.jsonl', 'README.md', SCRIPT_NAME]) expect(Object.keys(files)).toContain(`${ZIP_ROOT}/${f}`);
    const policy = readSafetensors(files[`${ZIP_ROOT}/policy-ppo/model.safetensors`]);
    expect(policy.tensors).toHaveLength(2 + 12 * TINY.nLayers + 3);
  });

  it("writes the preferences under TRL's field names and the ties apart", async () => {
    const files = await unzipped();
    const rows = strFromU8(files[`${ZIP_ROOT}/preferences.jsonl`]).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(Object.keys(r).slice(0, 3)).toEqual([...TRL_PREFERENCE_FIELDS]);
      for (const f of TRL_PREFERENCE_FIELDS) expect(typeof r[f]).toBe('string');
    }
    expect(`${rows[0].prompt as string}${rows[0].chosen as string}`).toBe('the pizza was good.');
    const ties = strFromU8(files[`${ZIP_ROOT}/ties.jsonl`]).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(ties).toHaveLength(1);
    expect(ties[0]).not.toHaveProperty('chosen');
  });

  it.skipIf(PYTHON === null)('writes a Python script that parses (skipped where python3 is not installed)', async () => {
    const files = await unzipped();
    const dir = mkdtempSync(join(tmpdir(), 'trl-script-'));
    try {
      const path = join(dir, SCRIPT_NAME);
      writeFileSync(path, files[`${ZIP_ROOT}/${SCRIPT_NAME}`]);
      execFileSync(PYTHON!, ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read())', path]);
      const script = strFromU8(files[`${ZIP_ROOT}/${SCRIPT_NAME}`]);
      for (const name of ['RewardTrainer', 'DPOTrainer', 'GRPOTrainer', 'RLOOTrainer', 'processing_class=', '"policy-ppo"']) expect(script).toContain(name);
      // A broken script is caught: the same check fails on it.
      writeFileSync(path, 'def broken(:\n');
      expect(() => execFileSync(PYTHON!, ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read())', path], { stdio: 'ignore' })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
