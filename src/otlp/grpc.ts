// gRPC length-prefixed message framing (gRPC over HTTP/2, "Length-Prefixed-Message"): a 1-byte
// compressed flag, a 4-byte big-endian length, then the message. For the node:http2 receiver and
// exporter, which deal in raw DATA frames; compression itself (gzip) is the caller's.

import { OtlpDecodeError } from './types.js';

/** gRPC's default receive limit; OTLP/gRPC clients and the Collector use the same 4 MiB. */
export const GRPC_DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const HEADER_BYTES = 5;

export interface GrpcMessage {
  /** The message is compressed with the call's `grpc-encoding`. */
  compressed: boolean;
  message: Uint8Array;
}

/** Why a gRPC body could not be framed: `too-large` maps to RESOURCE_EXHAUSTED, the rest to INTERNAL. */
export type GrpcFrameProblem = 'truncated' | 'too-large' | 'invalid-flag';

export class GrpcFrameError extends OtlpDecodeError {
  constructor(
    message: string,
    offset: number,
    readonly problem: GrpcFrameProblem,
  ) {
    super(message, offset);
  }
}

/** One length-prefixed message: flag byte, 4-byte big-endian length, payload. */
export function encodeGrpcFrame(bytes: Uint8Array, compressed = false): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + bytes.length);
  out[0] = compressed ? 1 : 0;
  new DataView(out.buffer).setUint32(1, bytes.length, false);
  out.set(bytes, HEADER_BYTES);
  return out;
}

/**
 * Incremental decoder for a stream of DATA chunks: push chunks as they arrive, get complete
 * messages back. A declared length over the cap fails at once, before its bytes are read, so a
 * hostile sender cannot make us buffer it.
 */
export class GrpcFrameDecoder {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private consumed = 0;

  constructor(private readonly maxMessageBytes = GRPC_DEFAULT_MAX_MESSAGE_BYTES) {}

  /** Bytes received but not yet part of a complete message. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Uint8Array): GrpcMessage[] {
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const out: GrpcMessage[] = [];
    for (;;) {
      if (this.pendingBytes < HEADER_BYTES) return out;
      const head = this.peek(HEADER_BYTES);
      const flag = head[0]!;
      if (flag > 1) {
        throw new GrpcFrameError(
          `gRPC message has compressed flag ${flag}; only 0 and 1 exist`,
          this.consumed,
          'invalid-flag',
        );
      }
      const length = new DataView(head.buffer, head.byteOffset, HEADER_BYTES).getUint32(1, false);
      if (length > this.maxMessageBytes) {
        throw new GrpcFrameError(
          `gRPC message of ${length} bytes exceeds the ${this.maxMessageBytes}-byte limit`,
          this.consumed,
          'too-large',
        );
      }
      if (this.pendingBytes < HEADER_BYTES + length) return out;
      const frame = this.take(HEADER_BYTES + length);
      out.push({ compressed: flag === 1, message: frame.subarray(HEADER_BYTES) });
    }
  }

  /** Call when the stream ended: throws if a message was left incomplete. */
  end(): void {
    if (this.pendingBytes > 0) {
      throw new GrpcFrameError(
        `gRPC stream ended inside a message (${this.pendingBytes} bytes left over)`,
        this.consumed,
        'truncated',
      );
    }
  }

  private peek(n: number): Uint8Array {
    const first = this.pending[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.pending, this.pendingBytes).subarray(0, n);
  }

  private take(n: number): Uint8Array {
    let joined: Uint8Array;
    const first = this.pending[0]!;
    if (first.length >= n) {
      joined = first;
    } else {
      joined = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [joined];
    }
    const frame = joined.subarray(0, n);
    const rest = joined.subarray(n);
    if (rest.length > 0) this.pending[0] = rest;
    else this.pending.shift();
    this.pendingBytes -= n;
    this.consumed += n;
    return frame;
  }
}

/**
 * All messages in a complete gRPC request or response body.
 * @throws GrpcFrameError (an OtlpDecodeError) when a message is cut off, over `maxMessageBytes`,
 *   or has an invalid flag.
 */
export function decodeGrpcFrames(
  buffer: Uint8Array,
  maxMessageBytes = GRPC_DEFAULT_MAX_MESSAGE_BYTES,
): GrpcMessage[] {
  const decoder = new GrpcFrameDecoder(maxMessageBytes);
  const messages = decoder.push(buffer);
  decoder.end();
  return messages;
}
