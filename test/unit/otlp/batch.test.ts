import { describe, expect, it } from 'vitest';
import { batchBySize, joinRequests, splitEntries, validateExportRequest } from '../../../src/otlp/index.js';
import { concat, makeSpans, traceProtobuf } from './sdk-fixtures.js';

/** A small deterministic PRNG (mulberry32) so failures reproduce from the printed seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('batchBySize', () => {
  it('keeps order, never exceeds the max unless a single part does, and loses nothing', () => {
    const seed = 20261121;
    const random = rng(seed);
    for (let round = 0; round < 200; round++) {
      const max = 1 + Math.floor(random() * 100);
      const sizes = Array.from({ length: Math.floor(random() * 30) }, () => Math.floor(random() * 130));
      const parts = sizes.map((n, i) => ({ byteLength: n, i }));
      const batches = batchBySize(parts, max);
      const context = `seed ${seed} round ${round} max ${max} sizes ${sizes.join(',')}`;
      expect(
        batches.flat().map((p) => p.i),
        context,
      ).toEqual(parts.map((p) => p.i));
      for (const batch of batches) {
        expect(batch.length, context).toBeGreaterThan(0);
        const total = batch.reduce((n, p) => n + p.byteLength, 0);
        if (total > max) expect(batch, context).toHaveLength(1);
      }
      // Greedy: a batch is closed only when the next part would not fit.
      for (let b = 0; b + 1 < batches.length; b++) {
        const total = batches[b]!.reduce((n, p) => n + p.byteLength, 0);
        expect(total + batches[b + 1]![0]!.byteLength, context).toBeGreaterThan(max);
      }
    }
  });

  it('puts an entry bigger than the max in a batch of its own', () => {
    const parts = [{ byteLength: 10 }, { byteLength: 500 }, { byteLength: 10 }];
    expect(batchBySize(parts, 100).map((b) => b.length)).toEqual([1, 1, 1]);
  });

  it('returns no batches for no parts and rejects a non-positive max', () => {
    expect(batchBySize([], 10)).toEqual([]);
    expect(() => batchBySize([{ byteLength: 1 }], 0)).toThrow(RangeError);
  });

  it('produces valid requests holding every span when batching real SDK entries', () => {
    const requests = Array.from({ length: 6 }, (_, i) => traceProtobuf(makeSpans(3 + i)));
    const entries = splitEntries(concat(...requests));
    const batches = batchBySize(entries, 6000);
    expect(batches.length).toBeGreaterThan(1);
    const joined = batches.map((b) => joinRequests(b));
    const spans = joined.map((j) => validateExportRequest('traces', j).items);
    expect(spans.reduce((a, b) => a + b, 0)).toBe(3 + 4 + 5 + 6 + 7 + 8);
    expect(Buffer.concat(joined).equals(Buffer.concat(requests))).toBe(true);
  });
});
