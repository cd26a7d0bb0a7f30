// The protobufjs side of src/otlp: full decoding of export requests, for tests, the CLI's
// `replay --dry-run` and the demo summary. Kept out of index.ts so the extension bundle never
// contains protobufjs; protobufjs itself loads on first call.

import type { OtlpJsonObject } from './codec.js';
import type { Signal } from './types.js';

export type { OtlpJsonObject } from './codec.js';
/** The protobufjs-backed codec module, for callers that load it once and then call it synchronously. */
export type OtlpCodec = typeof import('./codec.js');

let codec: Promise<OtlpCodec> | undefined;

/** Loads protobufjs and the OTLP descriptor on first call. A failed load is retried on the next call. */
export function loadOtlpCodec(): Promise<OtlpCodec> {
  codec ??= import('./codec.js').catch((err: unknown) => {
    codec = undefined;
    throw err;
  });
  return codec;
}

/**
 * Decodes a protobuf export request into an OTLP/JSON-shaped object: lowerCamelCase keys, hex ids,
 * enums as numbers, 64-bit integers as strings. The request is walked first.
 * @throws OtlpDecodeError on malformed input.
 * @example
 *   const { resourceSpans } = await decodeExportRequest('traces', body);
 */
export async function decodeExportRequest(signal: Signal, bytes: Uint8Array): Promise<OtlpJsonObject> {
  return (await loadOtlpCodec()).decodeExportRequest(signal, bytes);
}
