// src/otlp: the OTLP wire helpers shared by the extension, the CLI and the tests (DESIGN §6).
// Everything exported here loads with Node built-ins only (OTLP/JSON conversion included, by a
// hand-written encoder), so the extension can import it on its init path. Full protobuf decoding
// needs protobufjs and lives in ./decode.ts, which this file deliberately does not import: even a
// lazy import would put protobufjs in the extension bundle (~130 KB more to parse at cold start).

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
