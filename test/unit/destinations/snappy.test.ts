// The snappy block compressor, checked by a decoder written here from the format description
// (github.com/google/snappy format_description.txt); the real Prometheus decodes it too in
// test/integration/destinations/prometheusremotewrite.test.ts.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { snappyCompress } from '../../../src/extension/destinations/prometheusremotewrite/snappy.js';

function snappyDecode(src: Uint8Array): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const b = src[pos++]!;
    length |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  const out = new Uint8Array(length);
  let o = 0;
  while (pos < src.length) {
    const tag = src[pos++]!;
    const type = tag & 3;
    if (type === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const n = len - 59;
        len = 0;
        for (let i = 0; i < n; i++) len |= src[pos++]! << (8 * i);
      }
      len += 1;
      out.set(src.subarray(pos, pos + len), o);
      pos += len;
      o += len;
    } else {
      let len: number;
      let offset: number;
      if (type === 1) {
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | src[pos++]!;
      } else if (type === 2) {
        len = (tag >>> 2) + 1;
        offset = src[pos]! | (src[pos + 1]! << 8);
        pos += 2;
      } else {
        len = (tag >>> 2) + 1;
        offset = src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) | (src[pos + 3]! << 24);
        pos += 4;
      }
      if (offset === 0 || offset > o) throw new Error(`bad offset ${offset} at output ${o}`);
      for (let i = 0; i < len; i++, o++) out[o] = out[o - offset]!;
    }
  }
  if (o !== length) throw new Error(`decoded ${o} bytes, header says ${length}`);
  return out;
}

describe('snappy block compressor', () => {
  const cases: Record<string, Uint8Array> = {
    empty: new Uint8Array(0),
    short: Buffer.from('abc'),
    repetitive: Buffer.from('__name__job instance http_route '.repeat(500)),
    random: randomBytes(70_000),
    'long runs': new Uint8Array(200_000).fill(7),
    mixed: Buffer.concat([
      randomBytes(300),
      Buffer.from('x'.repeat(1000)),
      randomBytes(70_000),
      Buffer.from('labels'.repeat(3000)),
    ]),
  };
  for (const [name, input] of Object.entries(cases)) {
    it(`round-trips ${name} input`, () => {
      const compressed = snappyCompress(input);
      expect(Buffer.from(snappyDecode(compressed))).toEqual(Buffer.from(input));
    });
  }
  it('compresses repetitive label text', () => {
    expect(snappyCompress(cases.repetitive!).length).toBeLessThan(cases.repetitive!.length / 10);
  });
});
