// src/otlp: the OTLP wire helpers shared by the extension, the CLI and the tests.
// Everything here runs on Node built-ins only (OTLP/JSON conversion included, by a hand-written
// encoder), so the extension can import it on its init path. The one exception is full protobuf
// decoding (./decode.ts), which loads protobufjs on first call; a bundle that never calls it drops
// it entirely (esbuild tree-shakes the unused export and its dynamic import), which
// test/unit/otlp/bundle.test.ts checks.

export { decodeExportRequest, loadOtlpCodec, type OtlpCodec, type OtlpJsonObject } from './decode.js';
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
export {
  DEFAULT_MAX_DEPTH,
  type RequestEntry,
  splitEntries,
  validateAndSplit,
  validateExportRequest,
} from './wire/walk.js';
