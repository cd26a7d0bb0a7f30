// src/otlp: the OTLP wire helpers shared by the extension, the CLI and the tests (DESIGN §6).
// Everything exported here loads with Node built-ins only; the protobufjs-backed parts (OTLP/JSON
// conversion, full decode/encode) are behind async functions that import them on first use.

export {
  decodeGrpcFrames,
  encodeGrpcFrame,
  GRPC_DEFAULT_MAX_MESSAGE_BYTES,
  GrpcFrameDecoder,
  GrpcFrameError,
  type GrpcFrameProblem,
  type GrpcMessage,
} from './grpc.js';
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

/**
 * Converts an OTLP/JSON request (hex ids, enums as numbers or names, 64-bit ints as strings or
 * numbers, lowerCamelCase or snake_case names; unknown names ignored) to protobuf. The result is
 * not walked: validate it like any protobuf request to count it.
 * @throws OtlpDecodeError on invalid JSON or a shape that is not an export request.
 * @example
 *   const body = await otlpJsonToProtobuf('traces', req.body); // then validateExportRequest
 */
export async function otlpJsonToProtobuf(signal: Signal, json: string | Uint8Array): Promise<Uint8Array> {
  return (await loadOtlpCodec()).otlpJsonToProtobuf(signal, json);
}

/** Decodes a protobuf request into an OTLP/JSON-shaped object (hex ids, enums as numbers). @throws OtlpDecodeError */
export async function decodeExportRequest(signal: Signal, bytes: Uint8Array): Promise<OtlpJsonObject> {
  return (await loadOtlpCodec()).decodeExportRequest(signal, bytes);
}

/** Encodes an OTLP/JSON-shaped request object as protobuf. @throws OtlpDecodeError */
export async function encodeExportRequest(signal: Signal, request: unknown): Promise<Uint8Array> {
  return (await loadOtlpCodec()).encodeExportRequest(signal, request);
}
