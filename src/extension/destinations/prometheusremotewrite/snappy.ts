// Snappy block format (not the framed stream format), which Prometheus remote write requires: the
// uncompressed length as a varint, then literal and copy elements. A greedy matcher with a 4-byte
// hash table; it compresses the repetitive label text of a WriteRequest well and is small enough to
// read. Copies use the 2-byte-offset form (offsets < 65536, lengths 4..64), which every decoder takes.

const MIN_MATCH = 4;
const MAX_COPY = 64;
const MAX_OFFSET = 65_535;
const HASH_BITS = 14;

function hash4(src: Uint8Array, i: number): number {
  const v = (src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> 0;
  return Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);
}

class Out {
  buf: Uint8Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  byte(b: number): void {
    this.buf[this.len++] = b;
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    this.byte(n);
  }
  literal(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    const l = n - 1;
    if (l < 60) this.byte(l << 2);
    else if (l < 0x100) {
      this.byte(60 << 2);
      this.byte(l);
    } else if (l < 0x10000) {
      this.byte(61 << 2);
      this.byte(l & 0xff);
      this.byte(l >>> 8);
    } else if (l < 0x1000000) {
      this.byte(62 << 2);
      this.byte(l & 0xff);
      this.byte((l >>> 8) & 0xff);
      this.byte(l >>> 16);
    } else {
      this.byte(63 << 2);
      this.byte(l & 0xff);
      this.byte((l >>> 8) & 0xff);
      this.byte((l >>> 16) & 0xff);
      this.byte(l >>> 24);
    }
    this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }
  copy(offset: number, length: number): void {
    while (length > 0) {
      // Never leave a remainder below 4, which the 2-byte form cannot express on its own.
      let n = Math.min(length, MAX_COPY);
      if (length - n > 0 && length - n < MIN_MATCH) n = length - MIN_MATCH;
      this.byte(((n - 1) << 2) | 2);
      this.byte(offset & 0xff);
      this.byte(offset >>> 8);
      length -= n;
    }
  }
}

/** Compresses `src` into one Snappy block. */
export function snappyCompress(src: Uint8Array): Uint8Array {
  // Worst case: every byte a literal, plus tag bytes, plus the length varint.
  const out = new Out(32 + src.length + Math.ceil(src.length / 6));
  out.varint(src.length);
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  let literalStart = 0;
  let i = 0;
  const last = src.length - MIN_MATCH;
  while (i <= last) {
    const h = hash4(src, i);
    const candidate = table[h]!;
    table[h] = i;
    if (
      candidate >= 0 &&
      i - candidate <= MAX_OFFSET &&
      src[candidate] === src[i] &&
      src[candidate + 1] === src[i + 1] &&
      src[candidate + 2] === src[i + 2] &&
      src[candidate + 3] === src[i + 3]
    ) {
      let len = MIN_MATCH;
      while (i + len < src.length && src[candidate + len] === src[i + len]) len++;
      out.literal(src, literalStart, i);
      out.copy(i - candidate, len);
      i += len;
      literalStart = i;
    } else i++;
  }
  out.literal(src, literalStart, src.length);
  return out.buf.subarray(0, out.len);
}
