// OTLP/JSON to protobuf without protobufjs. Measured on a 100-span SDK request, protobufjs's
// reflection (protojson.fromJson + encode) converted ~6k spans/s; this schema-driven encoder goes
// straight from the parsed JSON to bytes and is many times faster (see test/bench/ingest.bench.mjs),
// which matters because the OpenTelemetry JS SDK's default HTTP exporter sends JSON.
// The field tables come from the checked-in descriptor (../proto/otlp-descriptor.ts, generated with
// otlp.json from the .proto files), built on first use.

import { OTLP_DESCRIPTOR_JSON } from '../proto/otlp-descriptor.js';
import { OtlpDecodeError, SIGNALS, type Signal } from '../types.js';
import { DEFAULT_MAX_DEPTH } from '../wire/walk.js';

// ---- field tables ---------------------------------------------------------------------------

/** Field value types, after resolving enums, messages and OTLP's hex ids. */
const T = {
  Double: 0,
  Float: 1,
  Int32: 2,
  Uint32: 3,
  Sint32: 4,
  Int64: 5,
  Uint64: 6,
  Sint64: 7,
  Fixed32: 8,
  Sfixed32: 9,
  Fixed64: 10,
  Sfixed64: 11,
  Bool: 12,
  String: 13,
  Bytes: 14,
  HexId: 15,
  Enum: 16,
  Message: 17,
} as const;
type T = (typeof T)[keyof typeof T];

const SCALARS: Record<string, T> = {
  double: T.Double,
  float: T.Float,
  int32: T.Int32,
  uint32: T.Uint32,
  sint32: T.Sint32,
  int64: T.Int64,
  uint64: T.Uint64,
  sint64: T.Sint64,
  fixed32: T.Fixed32,
  sfixed32: T.Sfixed32,
  fixed64: T.Fixed64,
  sfixed64: T.Sfixed64,
  bool: T.Bool,
  string: T.String,
  bytes: T.Bytes,
};

/** OTLP/JSON writes these bytes fields as hex, not base64 (OTLP spec, JSON Protobuf Encoding). */
const HEX_ID_FIELDS = new Set(['trace_id', 'span_id', 'parent_span_id']);

interface FieldInfo {
  readonly id: number;
  readonly name: string;
  readonly type: T;
  readonly repeated: boolean;
  /** Written even when it holds the default value: oneof members and proto3 `optional`. */
  readonly presence: boolean;
  /** Precomputed tag (field number and wire type), written as a varint. */
  readonly tag: number;
  message?: MessageInfo;
  enumValues?: Record<string, number>;
}

interface MessageInfo {
  readonly name: string;
  /** By lowerCamelCase JSON name and by original proto name. */
  readonly fields: Map<string, FieldInfo>;
}

interface DescriptorNode {
  nested?: Record<string, DescriptorNode>;
  fields?: Record<
    string,
    { type: string; id: number; rule?: string; protoName?: string; options?: Record<string, unknown> }
  >;
  oneofs?: Record<string, { oneof: string[] }>;
  values?: Record<string, number>;
}

const wireOf = (type: T, repeated: boolean): number => {
  if (repeated && type !== T.String && type !== T.Bytes && type !== T.HexId && type !== T.Message) return 2;
  switch (type) {
    case T.Double:
    case T.Fixed64:
    case T.Sfixed64:
      return 1;
    case T.Float:
    case T.Fixed32:
    case T.Sfixed32:
      return 5;
    case T.String:
    case T.Bytes:
    case T.HexId:
    case T.Message:
      return 2;
    default:
      return 0;
  }
};

let tables: Record<Signal, MessageInfo> | undefined;

function buildTables(): Record<Signal, MessageInfo> {
  const nodes = new Map<string, DescriptorNode>();
  const collect = (node: DescriptorNode, prefix: string): void => {
    for (const [name, child] of Object.entries(node.nested ?? {})) {
      const full = prefix ? `${prefix}.${name}` : name;
      nodes.set(full, child);
      collect(child, full);
    }
  };
  collect(JSON.parse(OTLP_DESCRIPTOR_JSON) as DescriptorNode, '');

  // protobuf name resolution: the reference relative to the message's scope, then outward.
  const resolve = (scope: string, ref: string): string => {
    if (nodes.has(ref) && ref.includes('.') && !nodes.has(`${scope}.${ref}`)) return ref;
    let s = scope;
    for (;;) {
      const candidate = s ? `${s}.${ref}` : ref;
      if (nodes.has(candidate)) return candidate;
      if (!s) throw new Error(`otlp descriptor: cannot resolve ${ref} from ${scope}`);
      s = s.slice(0, Math.max(0, s.lastIndexOf('.')));
    }
  };

  const messages = new Map<string, MessageInfo>();
  const messageInfo = (full: string): MessageInfo => {
    const existing = messages.get(full);
    if (existing) return existing;
    const node = nodes.get(full)!;
    const info: MessageInfo = { name: full, fields: new Map() };
    messages.set(full, info);
    const inOneof = new Set(Object.values(node.oneofs ?? {}).flatMap((o) => o.oneof));
    for (const [jsonName, f] of Object.entries(node.fields ?? {})) {
      const protoName = f.protoName ?? jsonName;
      const repeated = f.rule === 'repeated';
      let type = SCALARS[f.type];
      let nestedMessage: string | undefined;
      let enumValues: Record<string, number> | undefined;
      if (type === undefined) {
        const target = resolve(full, f.type);
        const targetNode = nodes.get(target)!;
        if (targetNode.values) {
          type = T.Enum;
          enumValues = targetNode.values;
        } else {
          type = T.Message;
          nestedMessage = target;
        }
      } else if (type === T.Bytes && HEX_ID_FIELDS.has(protoName)) {
        type = T.HexId;
      }
      const tagValue = f.id * 8 + wireOf(type, repeated);
      const field: FieldInfo = {
        id: f.id,
        name: protoName,
        type,
        repeated,
        presence: inOneof.has(jsonName),
        tag: tagValue,
        enumValues,
      };
      info.fields.set(jsonName, field);
      info.fields.set(protoName, field);
      // Registered before its fields are filled, so recursive types (AnyValue) terminate.
      if (nestedMessage) field.message = messageInfo(nestedMessage);
    }
    return info;
  };

  return {
    traces: messageInfo('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    metrics: messageInfo('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
    logs: messageInfo('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
  };
}

// ---- writer ----------------------------------------------------------------------------------

let out: Buffer = Buffer.allocUnsafe(64 * 1024);
let view = new DataView(out.buffer, out.byteOffset, out.byteLength);
let pos = 0;

function ensure(n: number): void {
  if (pos + n <= out.length) return;
  let size = out.length * 2;
  while (size < pos + n) size *= 2;
  const bigger = Buffer.allocUnsafe(size);
  out.copy(bigger, 0, 0, pos);
  out = bigger;
  view = new DataView(out.buffer, out.byteOffset, out.byteLength);
}

function writeVarint(value: number): void {
  ensure(10);
  let v = value;
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v = v >= 0x100000000 ? Math.floor(v / 0x80) : v >>> 7;
  }
  out[pos++] = v;
}

function writeTag(tag: number): void {
  if (tag < 0x80) {
    ensure(1);
    out[pos++] = tag;
  } else writeVarint(tag);
}

function writeVarintBig(value: bigint): void {
  ensure(10);
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[pos++] = Number(v);
}

function writeBytes(bytes: Uint8Array): void {
  ensure(bytes.length);
  out.set(bytes, pos);
  pos += bytes.length;
}

const varintSize = (n: number): number =>
  n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;

// ---- conversion ------------------------------------------------------------------------------

/** Internal: collects the JSON path on its way up, like the walker's fault. */
class JsonFault extends Error {
  readonly path: string[] = [];
}

const fail = (message: string): never => {
  throw new JsonFault(message);
};

const kindOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;

const INT_STRING = /^-?\d+$/;
const TWO_32 = 0x100000000;

function toInteger(value: unknown, field: FieldInfo): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) fail(`${field.name} must be an integer, got ${value}`);
    return value;
  }
  if (typeof value === 'string') {
    if (!INT_STRING.test(value)) {
      // proto3 JSON also allows exponent notation for integers, e.g. "1e3".
      const n = Number(value);
      if (value.trim() === '' || !Number.isInteger(n))
        fail(`${field.name} must be an integer, got ${JSON.stringify(value)}`);
      return n;
    }
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : BigInt(value);
  }
  return fail(`${field.name} must be an integer (number or decimal string), got ${kindOf(value)}`);
}

function checkRange(n: number | bigint, range: Range, field: FieldInfo): void {
  // Numbers compare as numbers: a BigInt per value would dominate the encoder's time.
  const inRange =
    typeof n === 'number' ? n >= range.minN && n <= range.maxN : n >= range.min && n <= range.max;
  if (!inRange) fail(`${field.name} value ${n} is out of range for its type`);
}

interface Range {
  min: bigint;
  max: bigint;
  minN: number;
  maxN: number;
}
const range = (min: bigint, max: bigint): Range => ({ min, max, minN: Number(min), maxN: Number(max) });

const INT32 = range(-(2n ** 31n), 2n ** 31n - 1n);
const UINT32 = range(0n, 2n ** 32n - 1n);
const INT64 = range(-(2n ** 63n), 2n ** 63n - 1n);
const UINT64 = range(0n, 2n ** 64n - 1n);

function toDouble(value: unknown, field: FieldInfo): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    const n = Number(value);
    if (value.trim() !== '' && !Number.isNaN(n)) return n;
  }
  return fail(`${field.name} must be a number, got ${kindOf(value)}`);
}

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** True when the value is the proto3 default of a field without presence: nothing to write. */
function isDefault(field: FieldInfo, value: unknown): boolean {
  switch (field.type) {
    case T.String:
    case T.Bytes:
    case T.HexId:
      return value === '';
    case T.Bool:
      return value === false;
    default:
      return value === 0 || value === '0';
  }
}

function writeScalar(field: FieldInfo, value: unknown): void {
  switch (field.type) {
    case T.String: {
      if (typeof value !== 'string') fail(`${field.name} must be a string, got ${kindOf(value)}`);
      const s = value as string;
      if (s.length < 0x80 && writeShortAscii(s)) return;
      const max = s.length * 3;
      ensure(5 + max);
      const lenAt = pos;
      const lenSize = varintSize(max);
      const written = out.write(s, lenAt + lenSize, 'utf8');
      // The length prefix was sized for the worst case; close the gap when it was smaller.
      const size = varintSize(written);
      if (size !== lenSize) out.copyWithin(lenAt + size, lenAt + lenSize, lenAt + lenSize + written);
      writeVarintAt(lenAt, written);
      pos = lenAt + size + written;
      return;
    }
    case T.HexId: {
      // Buffer's hex decoder stops at the first non-hex character, so a short count means bad input.
      const s = typeof value === 'string' ? value : '';
      const size = s.length >>> 1;
      const start = pos;
      if (typeof value === 'string' && (s.length & 1) === 0) {
        writeVarint(size);
        ensure(size);
        if (out.write(s, pos, 'hex') === size) {
          pos += size;
          return;
        }
      }
      pos = start;
      fail(
        `${field.name} must be a hex string (OTLP/JSON ids are hex, not base64), got ${JSON.stringify(value)?.slice(0, 40)}`,
      );
      return;
    }
    case T.Bytes: {
      if (typeof value !== 'string' || !BASE64.test(value))
        fail(`${field.name} must be a base64 string, got ${kindOf(value)}`);
      const bytes = Buffer.from(value as string, 'base64');
      writeVarint(bytes.length);
      writeBytes(bytes);
      return;
    }
    case T.Bool:
      if (typeof value !== 'boolean') fail(`${field.name} must be true or false, got ${kindOf(value)}`);
      writeVarint(value ? 1 : 0);
      return;
    case T.Double:
    case T.Float: {
      const d = toDouble(value, field);
      if (field.type === T.Double) {
        ensure(8);
        view.setFloat64(pos, d, true);
        pos += 8;
      } else {
        ensure(4);
        view.setFloat32(pos, d, true);
        pos += 4;
      }
      return;
    }
    case T.Enum: {
      let n: number;
      if (typeof value === 'string' && !INT_STRING.test(value)) {
        n = field.enumValues?.[value] ?? fail(`${field.name} has unknown enum name ${JSON.stringify(value)}`);
      } else {
        const v = toInteger(value, field);
        checkRange(v, INT32, field);
        n = Number(v);
      }
      writeSignedVarint32(n);
      return;
    }
    case T.Int32:
    case T.Sint32:
    case T.Sfixed32: {
      const v = toInteger(value, field);
      checkRange(v, INT32, field);
      const n = Number(v);
      if (field.type === T.Int32) writeSignedVarint32(n);
      else if (field.type === T.Sint32) writeVarint(((n << 1) ^ (n >> 31)) >>> 0);
      else {
        ensure(4);
        view.setInt32(pos, n, true);
        pos += 4;
      }
      return;
    }
    case T.Uint32:
    case T.Fixed32: {
      const v = toInteger(value, field);
      checkRange(v, UINT32, field);
      if (field.type === T.Uint32) writeVarint(Number(v));
      else {
        ensure(4);
        view.setUint32(pos, Number(v), true);
        pos += 4;
      }
      return;
    }
    default: {
      // 64-bit integers: numbers when safe, BigInt otherwise.
      const v = toInteger(value, field);
      const unsigned = field.type === T.Uint64 || field.type === T.Fixed64;
      checkRange(v, unsigned ? UINT64 : INT64, field);
      if (field.type === T.Fixed64 || field.type === T.Sfixed64) {
        ensure(8);
        if (typeof v === 'number' && v >= 0) {
          view.setUint32(pos, v % TWO_32, true);
          view.setUint32(pos + 4, Math.floor(v / TWO_32), true);
        } else {
          view.setBigUint64(pos, BigInt.asUintN(64, BigInt(v)), true);
        }
        pos += 8;
      } else if (field.type === T.Sint64) {
        const b = BigInt(v);
        writeVarintBig((b << 1n) ^ (b >> 63n));
      } else if (typeof v === 'number' && v >= 0) {
        writeVarint(v);
      } else {
        writeVarintBig(BigInt(v));
      }
    }
  }
}

/** Most OTLP strings are short ASCII: copying them by hand beats a native Buffer.write call. */
function writeShortAscii(s: string): boolean {
  ensure(s.length + 1);
  const start = pos;
  out[pos++] = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      pos = start;
      return false;
    }
    out[pos++] = c;
  }
  return true;
}

function writeSignedVarint32(n: number): void {
  if (n >= 0) writeVarint(n);
  else writeVarintBig(BigInt(n));
}

function writeVarintAt(at: number, value: number): void {
  let v = value;
  let p = at;
  while (v >= 0x80) {
    out[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[p] = v;
}

/** Writes a nested message: one byte reserved for its length, widened afterwards if needed. */
function writeMessageBody(info: MessageInfo, value: unknown, depth: number): void {
  ensure(1);
  const lenAt = pos;
  pos += 1;
  writeMessage(info, value, depth);
  const len = pos - lenAt - 1;
  const size = varintSize(len);
  if (size > 1) {
    ensure(size - 1);
    out.copyWithin(lenAt + size, lenAt + 1, pos);
    pos += size - 1;
  }
  writeVarintAt(lenAt, len);
}

function writeMessage(info: MessageInfo, value: unknown, depth: number): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(`${shortName(info.name)} must be a JSON object, got ${kindOf(value)}`);
  }
  if (depth > DEFAULT_MAX_DEPTH) fail(`messages are nested deeper than ${DEFAULT_MAX_DEPTH} levels`);
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    const field = info.fields.get(key);
    const v = obj[key];
    // Unknown names are ignored, as the OTLP spec requires of JSON receivers; null means absent.
    if (field === undefined || v === null || v === undefined) continue;
    try {
      if (field.repeated) {
        if (!Array.isArray(v)) fail(`${field.name} must be an array, got ${kindOf(v)}`);
        const items = v as unknown[];
        if (items.length === 0) continue;
        if (field.type === T.Message) {
          const nested = field.message!;
          for (let i = 0; i < items.length; i++) {
            writeTag(field.tag);
            try {
              writeMessageBody(nested, items[i], depth + 1);
            } catch (err) {
              if (err instanceof JsonFault) err.path.push(`[${i}]`);
              throw err;
            }
          }
        } else if (field.type === T.String || field.type === T.Bytes || field.type === T.HexId) {
          for (const item of items) {
            writeTag(field.tag);
            writeScalar(field, item);
          }
        } else {
          // Packed, as proto3 writes repeated numbers.
          writeTag(field.tag);
          ensure(1);
          const lenAt = pos;
          pos += 1;
          for (const item of items) writeScalar(field, item);
          const len = pos - lenAt - 1;
          const size = varintSize(len);
          if (size > 1) {
            ensure(size - 1);
            out.copyWithin(lenAt + size, lenAt + 1, pos);
            pos += size - 1;
          }
          writeVarintAt(lenAt, len);
        }
      } else if (field.type === T.Message) {
        writeTag(field.tag);
        writeMessageBody(field.message!, v, depth + 1);
      } else {
        if (!field.presence && isDefault(field, v)) continue;
        writeTag(field.tag);
        writeScalar(field, v);
      }
    } catch (err) {
      if (err instanceof JsonFault) err.path.push(`.${key}`);
      throw err;
    }
  }
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/**
 * Encodes an OTLP/JSON-shaped request object (already parsed) as protobuf, without protobufjs.
 * Accepts lowerCamelCase and snake_case names, hex ids, enums as numbers or names, 64-bit integers
 * as numbers or strings; ignores unknown names. @throws OtlpDecodeError naming the JSON path.
 */
export function encodeExportRequest(signal: Signal, request: unknown): Uint8Array {
  tables ??= buildTables();
  const info = tables[signal];
  if (!info)
    throw new OtlpDecodeError(
      `unknown OTLP signal ${JSON.stringify(signal)}; expected one of ${SIGNALS.join(', ')}`,
    );
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw new OtlpDecodeError(`OTLP/JSON ${signal} request must be a JSON object, got ${kindOf(request)}`);
  }
  pos = 0;
  try {
    writeMessage(info, request, 0);
    const result = new Uint8Array(pos);
    result.set(out.subarray(0, pos));
    return result;
  } catch (err) {
    if (!(err instanceof JsonFault)) throw err;
    const path = `$${err.path.reverse().join('')}`;
    throw new OtlpDecodeError(
      `OTLP/JSON ${signal} request has the wrong shape at ${path}: ${err.message}`,
      -1,
      { cause: err },
    );
  } finally {
    // Do not keep a large scratch buffer alive after one big request.
    if (out.length > 1024 * 1024) {
      out = Buffer.allocUnsafe(64 * 1024);
      view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    }
  }
}

/** Parses OTLP/JSON text or its UTF-8 bytes. @throws OtlpDecodeError when it is not valid JSON. */
export function parseOtlpJson(signal: Signal, json: string | Uint8Array): unknown {
  const text =
    typeof json === 'string'
      ? json
      : Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(
      `OTLP/JSON ${signal} request is not valid JSON: ${(err as Error).message}`,
      -1,
      { cause: err },
    );
  }
}

/**
 * Parses OTLP/JSON text or its UTF-8 bytes and encodes it as protobuf (no protobufjs).
 * @throws OtlpDecodeError on invalid JSON or a shape that is not an export request.
 */
export function otlpJsonToProtobuf(signal: Signal, json: string | Uint8Array): Uint8Array {
  return encodeExportRequest(signal, parseOtlpJson(signal, json));
}
