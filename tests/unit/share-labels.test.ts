// Labels in a share link (src/lib/config/share-labels.ts): the list comes back exactly, the link
// keeps the address's settings, and a cut or edited link is refused with a readable reason.
import { describe, expect, it } from 'vitest';
import { decodeLabels, encodeLabels, MAX_LINK_LENGTH, shareLink } from '../../src/lib/config/share-labels';
import { labelsParam, parseRunConfig, withoutLabelsParam } from '../../src/lib/config/url';
import type { Label } from '../../src/lib/config/label';

const labels: Label[] = Array.from({ length: 60 }, (_, i) => ({
  id: `id-${i}`,
  prompt: i % 2 ? 'the pizza was' : 'we loved',
  completionA: `great. i would go again ${i}.`,
  completionB: i % 3 ? 'bad.' : '',
  choice: (['A', 'B', 'tie'] as const)[i % 3],
  source: i % 4 ? 'human' : 'simulated',
  time: 1_700_000_000_000 + i,
  ...(i % 4 ? {} : { preset: 'positive' }),
  ...(i % 5 ? { origin: { from: 'ppo', steps: i } } : {}),
}));

describe('labels in a share link', () => {
  it('round-trips the label list exactly, and keeps the settings and seed of the address', () => {
    const url = shareLink('https://example.org/app/?seed=7&ppo.lr=0.001', labels);
    const search = new URL(url).search;
    expect(parseRunConfig(search).config.seed).toBe(7);
    expect(parseRunConfig(search).problems).toEqual([]);
    expect(decodeLabels(labelsParam(search)!)).toEqual(labels);
    expect(withoutLabelsParam(search)).toBe('?seed=7&ppo.lr=0.001');
    expect(url.length).toBeLessThan(MAX_LINK_LENGTH);
    expect(labelsParam(new URL(shareLink(url, null)).search)).toBeNull();
  });

  it('refuses a cut, edited or foreign value with a reason', () => {
    const value = encodeLabels(labels);
    expect(() => decodeLabels(value.slice(0, value.length / 2))).toThrow(/cannot be unpacked/);
    expect(() => decodeLabels('not base64!')).toThrow(/base64url/);
    expect(() => decodeLabels(encodeLabels([{ ...labels[0], choice: 'maybe' as 'A' }]))).toThrow(/malformed \(labels\.0\.choice/);
  });
});
