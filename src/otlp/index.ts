// src/otlp: the OTLP wire helpers shared by the extension, the CLI and the tests (DESIGN §6).
// Everything exported here loads with Node built-ins only; the protobufjs-backed parts (OTLP/JSON
// conversion, full decode/encode) are behind async functions that import them on first use.

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

import type { Signal } from './types.js';

/** Converts an OTLP/JSON request (hex ids, enums as numbers, 64-bit ints as strings) to protobuf. Throws OtlpDecodeError. */
export function otlpJsonToProtobuf(_signal: Signal, _json: string | Uint8Array): Uint8Array {
  throw new Error('otlp: otlpJsonToProtobuf not implemented yet');
}
