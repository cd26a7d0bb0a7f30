// CONTRACT for src/otlp (the OTLP wire helpers). The otlp work replaces these bodies; the
// signatures are what the extension, the CLI and the tests code against.

/** The three OTLP signals, named as in the URL paths `/v1/<signal>`. */
export type Signal = 'traces' | 'metrics' | 'logs';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** What a wire-format walk found in a valid Export<Signal>ServiceRequest. */
export interface ExportRequestSummary {
  signal: Signal;
  /** Top-level field-1 entries (ResourceSpans / ResourceMetrics / ResourceLogs). */
  resources: number;
  /** Spans, metric data points, or log records. */
  items: number;
  bytes: number;
}

/** A request that is not a well-formed OTLP message; `offset` is where the walk stopped. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
  constructor(
    message: string,
    readonly offset = -1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface WalkLimits {
  maxDepth?: number;
}

/** Walks the protobuf wire format of an export request: tags, lengths, nesting, counts. Throws OtlpDecodeError. */
export function validateExportRequest(
  _signal: Signal,
  _body: Uint8Array,
  _limits?: WalkLimits,
): ExportRequestSummary {
  throw new Error('otlp: validateExportRequest not implemented yet');
}

/** The top-level entries of a valid request, each still encoded (tag + length + payload). Their concatenation is a valid request. */
export function splitEntries(_body: Uint8Array): Uint8Array[] {
  throw new Error('otlp: splitEntries not implemented yet');
}

/** Converts an OTLP/JSON request (hex ids, enums as numbers, 64-bit ints as strings) to protobuf. Throws OtlpDecodeError. */
export function otlpJsonToProtobuf(_signal: Signal, _json: string | Uint8Array): Uint8Array {
  throw new Error('otlp: otlpJsonToProtobuf not implemented yet');
}

/** Export<Signal>ServiceResponse, with partial_success when some items were rejected. */
export function encodeExportResponse(
  _signal: Signal,
  _partial?: { rejected: number; message: string },
): Uint8Array {
  throw new Error('otlp: encodeExportResponse not implemented yet');
}

/** Reads the partial_success of an Export<Signal>ServiceResponse (protobuf), if any. */
export function decodeExportResponse(
  _signal: Signal,
  _body: Uint8Array,
): { rejected: number; message: string } | undefined {
  throw new Error('otlp: decodeExportResponse not implemented yet');
}

/** google.rpc.Status, the body of OTLP/HTTP error responses. */
export function encodeStatus(_code: number, _message: string): Uint8Array {
  throw new Error('otlp: encodeStatus not implemented yet');
}
