// The protobufjs-backed OTLP codec: full decode for tests, `replay --dry-run` and the demo summary,
// plus protobufjs's own OTLP/JSON encoding, kept as the reference the fast hand-written encoder
// (json/encode.ts) is tested against. index.ts imports this module only on first use, so the
// extension's init and ingest paths never pay for protobufjs.

import protojson from 'protobufjs/ext/protojson.js';
import protobuf from 'protobufjs/light.js';
import { parseOtlpJson } from './json/encode.js';
import descriptor from './proto/otlp.json' with { type: 'json' };
import { OtlpDecodeError, SIGNALS, type Signal } from './types.js';
import { validateExportRequest } from './wire/walk.js';

/** An OTLP/JSON-shaped export request: lowerCamelCase keys, hex ids, enums as numbers, 64-bit ints as strings. */
export type OtlpJsonObject = Record<string, unknown>;

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
root.resolveAll();

const REQUEST_TYPE: Record<Signal, protobuf.Type> = {
  traces: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  metrics: root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
  logs: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
};

/** Every reflected message type, by full name without the leading dot (for tests and tools). */
export function lookupType(fullName: string): protobuf.Type {
  return root.lookupType(fullName);
}

function requestType(signal: Signal): protobuf.Type {
  const type = REQUEST_TYPE[signal];
  if (!type)
    throw new OtlpDecodeError(
      `unknown OTLP signal ${JSON.stringify(signal)}; expected one of ${SIGNALS.join(', ')}`,
    );
  return type;
}

/**
 * OTLP/JSON writes trace and span ids as hex where proto3 JSON would use base64 (OTLP spec,
 * "JSON Protobuf Encoding"). These are the keys that hold them, in both spellings proto3 JSON allows.
 */
const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId', 'trace_id', 'span_id', 'parent_span_id']);
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
/** Deepest JSON nesting followed, matching the walker's default bound on protobuf nesting. */
const MAX_JSON_DEPTH = 128;

function hexIdsToBase64(value: unknown, path: string, depth: number): unknown {
  if (depth > MAX_JSON_DEPTH)
    throw new OtlpDecodeError(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels at ${path}`);
  if (Array.isArray(value)) return value.map((v, i) => hexIdsToBase64(v, `${path}[${i}]`, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (ID_KEYS.has(key) && typeof v === 'string') {
      if (!HEX.test(v)) {
        throw new OtlpDecodeError(
          `${path}.${key} must be a hex string (OTLP/JSON ids are hex, not base64), got ${JSON.stringify(v.slice(0, 40))}`,
        );
      }
      out[key] = Buffer.from(v, 'hex').toString('base64');
    } else {
      out[key] = hexIdsToBase64(v, `${path}.${key}`, depth + 1);
    }
  }
  return out;
}

function base64IdsToHex(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (const v of value) base64IdsToHex(v);
  } else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const [key, v] of Object.entries(obj)) {
      if (ID_KEYS.has(key) && typeof v === 'string') obj[key] = Buffer.from(v, 'base64').toString('hex');
      else base64IdsToHex(v);
    }
  }
  return value;
}

/**
 * Reference encoder (protobufjs protojson; ~6k spans/s): encodes an OTLP/JSON-shaped request object as protobuf. Accepts lowerCamelCase and snake_case
 * field names, hex ids, enums as numbers or names, 64-bit integers as strings or numbers. Unknown
 * field names are ignored, as the OTLP spec requires of JSON receivers.
 * @throws OtlpDecodeError when the object does not have the shape of an export request.
 */
export function encodeWithProtobufjs(signal: Signal, request: unknown): Uint8Array {
  const type = requestType(signal);
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new OtlpDecodeError(
      `OTLP/JSON ${signal} request must be a JSON object, got ${describeJson(request)}`,
    );
  }
  const prepared = hexIdsToBase64(request, '$', 0);
  let message: protobuf.Message;
  try {
    message = protojson.fromJson(type, prepared, { ignoreUnknownFields: true });
  } catch (err) {
    throw new OtlpDecodeError(
      `OTLP/JSON ${signal} request has the wrong shape: ${(err as Error).message}`,
      -1,
      {
        cause: err,
      },
    );
  }
  return type.encode(message).finish();
}

/** Reference converter: parses OTLP/JSON text (or its UTF-8 bytes) and encodes it with protobufjs. @throws OtlpDecodeError */
export function jsonToProtobufWithProtobufjs(signal: Signal, json: string | Uint8Array): Uint8Array {
  return encodeWithProtobufjs(signal, parseOtlpJson(signal, json));
}

/**
 * Decodes a protobuf export request into an OTLP/JSON-shaped object: lowerCamelCase keys, hex ids,
 * enums as numbers, 64-bit integers as decimal strings, other bytes as base64, defaults omitted.
 * The request is walked first, so malformed or too deeply nested input fails with the walker's
 * OtlpDecodeError before protobufjs sees it.
 */
export function decodeExportRequest(signal: Signal, bytes: Uint8Array): OtlpJsonObject {
  const type = requestType(signal);
  validateExportRequest(signal, bytes);
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (err) {
    throw new OtlpDecodeError(`OTLP ${signal} request could not be decoded: ${(err as Error).message}`, -1, {
      cause: err,
    });
  }
  const obj = type.toObject(message, { longs: String, enums: Number, bytes: String, defaults: false });
  return base64IdsToHex(obj) as OtlpJsonObject;
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
