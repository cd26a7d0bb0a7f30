// A minimal protobuf writer and reader for the few small messages we hand-encode (export responses,
// google.rpc.Status). Not for the hot path: the walker has its own allocation-free loop.

import { OtlpDecodeError } from '../types.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class ProtoWriter {
  private readonly bytes: number[] = [];

  /** Unsigned or non-negative varint up to 2^53, or a negative int32/int64 (10 bytes, two's complement). */
  varint(value: number): this {
    if (!Number.isInteger(value)) throw new RangeError(`protobuf varint must be an integer, got ${value}`);
    if (value < 0) {
      let v = BigInt.asUintN(64, BigInt(value));
      while (v >= 0x80n) {
        this.bytes.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.bytes.push(Number(v));
      return this;
    }
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  lengthDelimited(field: number, payload: Uint8Array): this {
    this.tag(field, 2).varint(payload.length);
    for (const b of payload) this.bytes.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.lengthDelimited(field, utf8Encoder.encode(value));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export interface ProtoField {
  field: number;
  wire: number;
  /** Varint value (as a number; int64 beyond 2^53 loses precision), or the payload for wire type 2. */
  value: number;
  payload: Uint8Array;
}

/** Reads top-level fields of a small message one by one. Throws OtlpDecodeError with `what` on malformed input. */
export function* readFields(bytes: Uint8Array, what: string): Generator<ProtoField> {
  let pos = 0;
  const fail = (detail: string): never => {
    throw new OtlpDecodeError(`${what} is not valid protobuf: ${detail} at byte ${pos}`, pos);
  };
  const varint = (): number => {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) fail('varint is cut off');
      const b = bytes[pos++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return Number(BigInt.asIntN(64, result));
    }
    return fail('varint is longer than 10 bytes');
  };
  const empty = new Uint8Array(0);
  while (pos < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field <= 0) fail(`invalid field number ${field}`);
    switch (wire) {
      case 0:
        yield { field, wire, value: varint(), payload: empty };
        break;
      case 1:
      case 5: {
        const size = wire === 1 ? 8 : 4;
        if (bytes.length - pos < size) fail('fixed-size value is cut off');
        yield { field, wire, value: 0, payload: bytes.subarray(pos, pos + size) };
        pos += size;
        break;
      }
      case 2: {
        const len = varint();
        if (len < 0 || len > bytes.length - pos)
          fail(`length ${len} exceeds the ${bytes.length - pos} bytes left`);
        yield { field, wire, value: len, payload: bytes.subarray(pos, pos + len) };
        pos += len;
        break;
      }
      default:
        fail(`unsupported wire type ${wire}`);
    }
  }
}

export function utf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}
