// The small OTLP responses, hand-encoded so the receivers can answer without loading protobufjs:
// Export*ServiceResponse (with partial_success) and google.rpc.Status (the OTLP/HTTP error body and
// the gRPC status details), in protobuf and in OTLP/JSON for JSON clients.

import type { Signal } from './types.js';
import { ProtoWriter, readFields, utf8 } from './wire/bytes.js';

/** What a receiver or a collector reports as not accepted. */
export interface PartialSuccess {
  rejected: number;
  message: string;
}

/** The JSON name of the rejected count in Export<Signal>PartialSuccess. */
const REJECTED_JSON: Record<Signal, string> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

/**
 * Export<Signal>ServiceResponse. Without `partial` (everything accepted) it is the empty message,
 * zero bytes, as the OTLP spec asks; with it, partial_success { rejected_<items>, error_message }.
 */
export function encodeExportResponse(_signal: Signal, partial?: PartialSuccess): Uint8Array {
  if (!partial) return new Uint8Array(0);
  const inner = new ProtoWriter();
  if (partial.rejected !== 0) inner.tag(1, 0).varint(partial.rejected);
  if (partial.message !== '') inner.string(2, partial.message);
  return new ProtoWriter().lengthDelimited(1, inner.finish()).finish();
}

/**
 * Reads the partial_success of an Export<Signal>ServiceResponse (protobuf). Returns undefined when
 * the response has none, or has one with nothing in it (0 rejected, no message): the export was a
 * full success. Throws OtlpDecodeError on a malformed response.
 */
export function decodeExportResponse(signal: Signal, body: Uint8Array): PartialSuccess | undefined {
  let found: PartialSuccess | undefined;
  const what = `OTLP ${signal} export response`;
  for (const f of readFields(body, what)) {
    if (f.field !== 1 || f.wire !== 2) continue;
    const partial = found ?? { rejected: 0, message: '' };
    for (const g of readFields(f.payload, `${what} partial_success`)) {
      if (g.field === 1 && g.wire === 0) partial.rejected = g.value;
      else if (g.field === 2 && g.wire === 2) partial.message = utf8(g.payload);
    }
    found = partial;
  }
  if (!found || (found.rejected === 0 && found.message === '')) return undefined;
  return found;
}

/** google.rpc.Status { code, message }, the body of OTLP/HTTP error responses. `details` is left empty. */
export function encodeStatus(code: number, message: string): Uint8Array {
  const w = new ProtoWriter();
  if (code !== 0) w.tag(1, 0).varint(code);
  if (message !== '') w.string(2, message);
  return w.finish();
}

/** Reads google.rpc.Status { code, message } (details are skipped). Throws OtlpDecodeError. */
export function decodeStatus(body: Uint8Array): { code: number; message: string } {
  const status = { code: 0, message: '' };
  for (const f of readFields(body, 'google.rpc.Status')) {
    if (f.field === 1 && f.wire === 0) status.code = f.value;
    else if (f.field === 2 && f.wire === 2) status.message = utf8(f.payload);
  }
  return status;
}

/** Export<Signal>ServiceResponse in OTLP/JSON (`{}` when everything was accepted). 64-bit counts are strings, as proto3 JSON writes them. */
export function exportResponseJson(signal: Signal, partial?: PartialSuccess): string {
  if (!partial) return '{}';
  const body: Record<string, string> = {};
  if (partial.rejected !== 0) body[REJECTED_JSON[signal]] = String(partial.rejected);
  if (partial.message !== '') body.errorMessage = partial.message;
  return JSON.stringify({ partialSuccess: body });
}

/** google.rpc.Status in JSON, for OTLP/HTTP JSON clients. */
export function statusJson(code: number, message: string): string {
  return JSON.stringify({ code, message });
}
