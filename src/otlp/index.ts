// src/otlp: the OTLP wire helpers shared by the extension, the CLI and the tests (DESIGN §6).
// Everything exported here loads with Node built-ins only (OTLP/JSON conversion included, by a
// hand-written encoder); full protobuf decoding needs protobufjs and is behind an async function
// that imports it on first use.

export {
  decodeGrpcFrames,
  encodeGrpcFrame,
  GRPC_DEFAULT_MAX_MESSAGE_BYTES,
  GrpcFrameDecoder,
  GrpcFrameError,
  type GrpcFrameProblem,
  type GrpcMessage,
} from './grpc.js';
export { encodeExportRequest, otlpJsonToProtobuf } from './json/encode.js';
export {
  decodeExportResponse,
  decodeStatus,
  encodeExportResponse,
  encodeStatus,
  exportResponseJson,
  type PartialSuccess,
  statusJson,
} from './response.js';
export {
  type ExportRequestSummary,
  OtlpDecodeError,
  SIGNALS,
  type Signal,
  type WalkLimits,
} from './types.js';
export { batchBySize, joinRequests, type Sized } from './wire/batch.js';
export { DEFAULT_MAX_DEPTH, splitEntries, validateExportRequest } from './wire/walk.js';

import type { OtlpJsonObject } from './codec.js';
import type { Signal } from './types.js';

export type { OtlpJsonObject } from './codec.js';
/** The protobufjs-backed codec module, for callers that load it once and then call it synchronously. */
export type OtlpCodec = typeof import('./codec.js');

let codec: Promise<OtlpCodec> | undefined;

/**
 * Loads protobufjs and the OTLP descriptor on first call (dynamic import, so the extension's init
 * path never pays for them). A failed load is retried on the next call.
 */
export function loadOtlpCodec(): Promise<OtlpCodec> {
  codec ??= import('./codec.js').catch((err: unknown) => {
    codec = undefined;
    throw err;
  });
  return codec;
}

/** Decodes a protobuf request into an OTLP/JSON-shaped object (hex ids, enums as numbers). @throws OtlpDecodeError */
export async function decodeExportRequest(signal: Signal, bytes: Uint8Array): Promise<OtlpJsonObject> {
  return (await loadOtlpCodec()).decodeExportRequest(signal, bytes);
}
