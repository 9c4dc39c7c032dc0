import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32, loadGpt, ModelLoadError, saveGpt, type ModelManifest } from '../../src/lib/model/io';
import { countParams, disposeParams } from '../../src/lib/model/params';
import { snapshot, TINY, tinyGpt } from '../support/tiny';

afterEach(() => tf.disposeVariables());

async function saved() {
  const model = tinyGpt(7);
  const { manifest, weights } = await saveGpt(model, { note: 'test' });
  // Through JSON, as the files travel.
  return { model, manifest: JSON.parse(JSON.stringify(manifest)) as ModelManifest, weights };
}

describe('model save and load', () => {
  it('round-trips bit-exactly', async () => {
    const { model, manifest, weights } = await saved();
    const { model: loaded, manifest: m } = loadGpt(manifest, weights.slice().buffer);
    expect(loaded.config).toEqual(TINY);
    expect(m.meta).toEqual({ note: 'test' });
    expect(countParams(loaded.params)).toBe(countParams(model.params));
    const [a, b] = [await snapshot(model), await snapshot(loaded)];
    const bytes = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    for (const [name, v] of a) expect(bytes(b.get(name)!).equals(bytes(v)), name).toBe(true);
  });

  it('CRC-32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  const cases: [string, (m: ModelManifest, w: Uint8Array) => [unknown, Uint8Array], RegExp][] = [
    ['a truncated weights file', (m, w) => [m, w.slice(0, w.length - 100)], /bytes.*truncated/],
    ['a corrupted weights file', (m, w) => { const c = w.slice(); c[123] ^= 0xff; return [m, c]; }, /corrupted/],
    ['a config the weights do not match', (m, w) => [{ ...m, config: { ...m.config, dModel: 16 } }, w], /does not match/],
    ['a manifest missing a weight', (m, w) => [{ ...m, weightsManifest: [{ ...m.weightsManifest[0], weights: m.weightsManifest[0].weights.slice(1) }] }, w], /missing weight "wte"/],
    ['a bad config', (m, w) => [{ ...m, config: { ...m.config, nHeads: 3 } }, w], /bad config.*multiple of nHeads/],
    ['another format', (m, w) => [{ ...m, format: 'keras' }, w], /not a rlhf-playground-gpt file/],
    ['not JSON object', (_m, w) => ['hello', w], /not a JSON object/],
  ];
  for (const [what, corrupt, message] of cases) {
    it(`refuses ${what} with a clear error and creates no tensors`, async () => {
      const { manifest, weights } = await saved();
      const before = tf.memory().numTensors;
      const [m, w] = corrupt(manifest, weights);
      expect(() => loadGpt(m, w)).toThrow(ModelLoadError);
      expect(() => loadGpt(m, w)).toThrow(message);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('refuses NaN weights even with a matching checksum', async () => {
    const { model, manifest, weights } = await saved();
    const floats = new Float32Array(weights.slice().buffer);
    floats[5] = NaN;
    const bytes = new Uint8Array(floats.buffer);
    const m = { ...manifest, weightsCrc32: crc32(bytes) };
    expect(() => loadGpt(m, bytes)).toThrow(/non-finite/);
    disposeParams(model.params);
  });
});
