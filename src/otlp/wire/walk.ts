// The ingest-path validator: one pass over the protobuf wire format of an Export*ServiceRequest,
// checking every tag, wire type, length and nesting level against the OTLP schema and counting
// resources and items. It allocates nothing per field and never loads protobufjs, because it runs
// on every request the function sends us, on a CPU share as small as 1/14 of a core.

import { isUtf8 } from 'node:buffer';
import {
  type ExportRequestSummary,
  OtlpDecodeError,
  SIGNALS,
  type Signal,
  type WalkLimits,
} from '../types.js';
import {
  FLAG_ITEM,
  FLAG_METRIC_DATA,
  FLAG_RESOURCE,
  Kind,
  type MessageSchema,
  REQUEST_TYPES,
  SCHEMAS,
  schemaId,
} from './schema.js';

export const DEFAULT_MAX_DEPTH = 64;
/** Deepest nesting a caller may allow: well inside Node's default stack, for us and for protobufjs. */
const MAX_ALLOWED_DEPTH = 1000;

function depthLimit(requested: number | undefined): number {
  if (requested === undefined) return DEFAULT_MAX_DEPTH;
  if (!(requested >= 0)) throw new RangeError(`WalkLimits.maxDepth must be a number >= 0, got ${requested}`);
  return Math.min(Math.floor(requested), MAX_ALLOWED_DEPTH);
}

/** One top-level entry of a request, still encoded (tag + length + payload), and its item count. */
export interface RequestEntry {
  bytes: Uint8Array;
  items: number;
}

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32'];
const EXPECTED_WIRE: Record<number, string> = {
  [Kind.Varint]: 'varint',
  [Kind.I64]: 'fixed64',
  [Kind.I32]: 'fixed32',
  [Kind.Bytes]: 'length-delimited',
  [Kind.TraceId]: 'length-delimited',
  [Kind.SpanId]: 'length-delimited',
  [Kind.String]: 'length-delimited',
  [Kind.Message]: 'length-delimited',
  [Kind.PackedVarint]: 'varint or packed',
  [Kind.PackedI64]: 'fixed64 or packed',
};

/** Internal: carries the detail and offset up the recursion, which adds the field path on its way. */
class WalkFault extends Error {
  readonly path: string[] = [];
  constructor(
    readonly detail: string,
    readonly offset: number,
  ) {
    super(detail);
  }
}

// Walk state lives in module variables rather than an object so the hot loop reads locals and
// globals only; the walk is synchronous, so nothing else can observe them mid-walk.
const EMPTY = new Uint8Array(0);
let buf: Uint8Array = EMPTY;
let items = 0;
let resources = 0;
let maxDepth = DEFAULT_MAX_DEPTH;
let checkUtf8 = true;
/** Position after the last varint read. */
let next = 0;
/** When set, each top-level entry is recorded here as it is walked (validateAndSplit). */
let entrySink: RequestEntry[] | undefined;

function fault(detail: string, offset: number): never {
  throw new WalkFault(detail, offset);
}

/** Reads a varint that must fit in 32 bits (tags, lengths); sets `next`. */
function varint32(pos: number, end: number, what: string): number {
  if (pos >= end) fault(`${what} is cut off`, pos);
  let b = buf[pos++]!;
  if (b < 0x80) {
    next = pos;
    return b;
  }
  let value = b & 0x7f;
  for (let shift = 7; shift < 28; shift += 7) {
    if (pos >= end) fault(`${what} is cut off`, pos);
    b = buf[pos++]!;
    value |= (b & 0x7f) << shift;
    if (b < 0x80) {
      next = pos;
      return value;
    }
  }
  if (pos >= end) fault(`${what} is cut off`, pos);
  b = buf[pos++]!;
  if (b > 0x0f) fault(`${what} does not fit in 32 bits`, pos - 1);
  next = pos;
  // The fifth byte carries bits 28..31: add instead of shifting so the result stays unsigned.
  return (value >>> 0) + b * 0x10000000;
}

/** Skips a varint of up to 64 bits, as protobuf allows for any varint scalar. */
function skipVarint(pos: number, end: number): number {
  const start = pos;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) fault('varint value is cut off', start);
    const b = buf[pos++]!;
    if (b < 0x80) {
      if (i === 9 && b > 1) fault('varint value overflows 64 bits', start);
      return pos;
    }
  }
  return fault('varint value is longer than 10 bytes', start);
}

// The field's description is built only when a fault is raised: building it eagerly for every
// field was the walker's largest cost.
function skipFixed(
  pos: number,
  end: number,
  size: number,
  schema: MessageSchema | string | undefined,
  field: number,
): number {
  if (end - pos < size)
    fault(`${describe(schema, field)} needs ${size} bytes but only ${end - pos} remain`, pos);
  return pos + size;
}

function lengthOf(
  pos: number,
  end: number,
  schema: MessageSchema | string | undefined,
  field: number,
): number {
  const len = varint32(pos, end, 'length');
  if (len > end - next) {
    fault(`${describe(schema, field)} declares ${len} bytes but only ${end - next} remain`, pos);
  }
  return len;
}

function skipUnknown(pos: number, end: number, wire: number, tagStart: number, field: number): number {
  switch (wire) {
    case 0:
      return skipVarint(pos, end);
    case 1:
      return skipFixed(pos, end, 8, undefined, field);
    case 2: {
      const len = lengthOf(pos, end, undefined, field);
      return next + len;
    }
    case 5:
      return skipFixed(pos, end, 4, undefined, field);
    case 3:
    case 4:
      return fault(`unknown field ${field} uses the group wire type, which OTLP never uses`, tagStart);
    default:
      return fault(`field ${field} has invalid wire type ${wire}`, tagStart);
  }
}

/** Most OTLP strings are ASCII: scan them here and leave only the rest to the native UTF-8 check. */
function isAsciiOrUtf8(start: number, end: number): boolean {
  const b = buf;
  // OR-ing bytes and testing once per 8 keeps the common all-ASCII case to a tight loop.
  let i = start;
  for (; i + 8 <= end; i += 8) {
    if ((b[i]! | b[i + 1]! | b[i + 2]! | b[i + 3]! | b[i + 4]! | b[i + 5]! | b[i + 6]! | b[i + 7]!) >= 0x80) {
      return isUtf8(b.subarray(i, end));
    }
  }
  for (; i < end; i++) {
    if (b[i]! >= 0x80) return isUtf8(b.subarray(i, end));
  }
  return true;
}

function describe(schema: MessageSchema | string | undefined, field: number): string {
  if (typeof schema === 'string') return schema;
  if (!schema) return `unknown field ${field}`;
  return `${shortName(schema.name)}.${schema.fieldNames[field] ?? field}`;
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.v1.') + 4);
}

function wrongWire(schema: MessageSchema, field: number, kind: number, wire: number, at: number): never {
  return fault(
    `${describe(schema, field)} (field ${field}) has wire type ${WIRE_NAMES[wire] ?? wire}, expected ${EXPECTED_WIRE[kind]}`,
    at,
  );
}

function walkMessage(pos: number, end: number, id: number, depth: number): void {
  const schema = SCHEMAS[id]!;
  const specs = schema.specs;
  let hasMetricData = false;
  while (pos < end) {
    const tagStart = pos;
    const tag = varint32(pos, end, 'field tag');
    pos = next;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) fault('field number 0 is not allowed', tagStart);
    const spec = field < specs.length ? specs[field]! : 0;
    if (spec === 0) {
      pos = skipUnknown(pos, end, wire, tagStart, field);
      continue;
    }
    const kind = spec & 0xf;
    switch (kind) {
      case Kind.Varint:
        if (wire !== 0) wrongWire(schema, field, kind, wire, tagStart);
        pos = skipVarint(pos, end);
        break;
      case Kind.I64:
        if (wire !== 1) wrongWire(schema, field, kind, wire, tagStart);
        pos = skipFixed(pos, end, 8, schema, field);
        break;
      case Kind.I32:
        if (wire !== 5) wrongWire(schema, field, kind, wire, tagStart);
        pos = skipFixed(pos, end, 4, schema, field);
        break;
      case Kind.Bytes: {
        if (wire !== 2) wrongWire(schema, field, kind, wire, tagStart);
        const len = lengthOf(pos, end, schema, field);
        pos = next + len;
        break;
      }
      case Kind.TraceId:
      case Kind.SpanId: {
        if (wire !== 2) wrongWire(schema, field, kind, wire, tagStart);
        const len = lengthOf(pos, end, schema, field);
        const want = kind === Kind.TraceId ? 16 : 8;
        if (len !== want && len !== 0) fault(`${describe(schema, field)} is ${len} bytes, not ${want}`, pos);
        pos = next + len;
        break;
      }
      case Kind.String: {
        if (wire !== 2) wrongWire(schema, field, kind, wire, tagStart);
        const len = lengthOf(pos, end, schema, field);
        pos = next;
        if (checkUtf8 && len > 0 && !isAsciiOrUtf8(pos, pos + len)) {
          fault(`${describe(schema, field)} is not valid UTF-8`, pos);
        }
        pos += len;
        break;
      }
      case Kind.Message: {
        if (wire !== 2) wrongWire(schema, field, kind, wire, tagStart);
        const len = lengthOf(pos, end, schema, field);
        pos = next;
        if (depth >= maxDepth) {
          fault(
            `messages are nested deeper than ${maxDepth} levels (at ${describe(schema, field)})`,
            tagStart,
          );
        }
        if (spec & FLAG_ITEM) items++;
        else if (spec & FLAG_RESOURCE) resources++;
        else if (spec & FLAG_METRIC_DATA) {
          if (hasMetricData)
            fault('a Metric carries more than one data field (gauge, sum, histogram, …)', tagStart);
          hasMetricData = true;
        }
        const itemsBefore = items;
        try {
          walkMessage(pos, pos + len, spec >>> 8, depth + 1);
        } catch (err) {
          if (err instanceof WalkFault) err.path.push(describe(schema, field));
          throw err;
        }
        pos += len;
        if (entrySink !== undefined && spec & FLAG_RESOURCE) {
          entrySink.push({ bytes: buf.subarray(tagStart, pos), items: items - itemsBefore });
        }
        break;
      }
      case Kind.PackedVarint:
        if (wire === 0) pos = skipVarint(pos, end);
        else if (wire === 2) {
          const len = lengthOf(pos, end, schema, field);
          pos = next;
          const stop = pos + len;
          while (pos < stop) pos = skipVarint(pos, stop);
        } else wrongWire(schema, field, kind, wire, tagStart);
        break;
      case Kind.PackedI64:
        if (wire === 1) pos = skipFixed(pos, end, 8, schema, field);
        else if (wire === 2) {
          const len = lengthOf(pos, end, schema, field);
          if (len % 8 !== 0)
            fault(`packed ${describe(schema, field)} has ${len} bytes, not a multiple of 8`, pos);
          pos = next + len;
        } else wrongWire(schema, field, kind, wire, tagStart);
        break;
    }
  }
}

const REQUEST_IDS: Record<Signal, number> = {
  traces: schemaId(REQUEST_TYPES.traces),
  metrics: schemaId(REQUEST_TYPES.metrics),
  logs: schemaId(REQUEST_TYPES.logs),
};

function requestId(signal: Signal): number {
  const id = REQUEST_IDS[signal];
  if (id === undefined) {
    throw new OtlpDecodeError(
      `unknown OTLP signal ${JSON.stringify(signal)}; expected one of ${SIGNALS.join(', ')}`,
    );
  }
  return id;
}

function toDecodeError(signal: Signal, err: unknown, body: Uint8Array): unknown {
  if (!(err instanceof WalkFault)) return err;
  const path = err.path.reverse().join(' > ');
  return new OtlpDecodeError(
    `OTLP ${signal} request is not valid protobuf: ${err.detail} at byte ${err.offset}${path ? ` (in ${path})` : ''}${hint(body)}`,
    err.offset,
  );
}

/** The two usual reasons a body is not protobuf at all, named so the sender can fix its setup. */
function hint(body: Uint8Array): string {
  if (body[0] === 0x1f && body[1] === 0x8b) {
    return '; the body looks gzip-compressed: send it with Content-Encoding: gzip (gRPC: grpc-encoding: gzip)';
  }
  let i = 0;
  while (
    i < body.length &&
    i < 64 &&
    (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)
  )
    i++;
  if (body[i] === 0x7b || body[i] === 0x5b) {
    return '; the body looks like JSON: send it with Content-Type: application/json';
  }
  return '';
}

/**
 * Walks the protobuf wire format of an Export<Signal>ServiceRequest: every tag, wire type, length
 * and nesting level of the known OTLP messages (unknown fields are skipped, as protobuf requires),
 * and counts resources and items (spans; gauge/sum/histogram/exponential-histogram/summary data
 * points; log records), and checks that strings are valid UTF-8 (unless `limits.checkUtf8` is false).
 * Stricter than protobuf decoders in three ways that no conforming encoder trips: a known field
 * with the wrong wire type, a group wire type, and a Metric with two data fields are rejected.
 *
 * @throws OtlpDecodeError with the byte offset and the field path where the walk stopped.
 * @example
 *   const { resources, items } = validateExportRequest('traces', body); // 400 on OtlpDecodeError
 */
export function validateExportRequest(
  signal: Signal,
  body: Uint8Array,
  limits?: WalkLimits,
): ExportRequestSummary {
  const id = requestId(signal);
  buf = body;
  items = 0;
  resources = 0;
  maxDepth = depthLimit(limits?.maxDepth);
  checkUtf8 = limits?.checkUtf8 ?? true;
  try {
    walkMessage(0, body.length, id, 0);
    return { signal, resources, items, bytes: body.length };
  } catch (err) {
    throw toDecodeError(signal, err, body);
  } finally {
    // Drop the reference so a large request body is not kept alive by this module.
    buf = EMPTY;
  }
}

/**
 * validateExportRequest and splitEntries in one walk: the summary, and every top-level entry (a
 * view into `body`, no copy) with its own item count, so a caller that batches entries needs no
 * second walk to count them.
 * @throws OtlpDecodeError like validateExportRequest.
 */
export function validateAndSplit(
  signal: Signal,
  body: Uint8Array,
  limits?: WalkLimits,
): { summary: ExportRequestSummary; entries: RequestEntry[] } {
  const entries: RequestEntry[] = [];
  entrySink = entries;
  try {
    return { summary: validateExportRequest(signal, body, limits), entries };
  } finally {
    entrySink = undefined;
  }
}

/**
 * The top-level entries (field 1: ResourceSpans / ResourceMetrics / ResourceLogs) of a request,
 * each still encoded with its tag and length, so their concatenation is a valid request holding
 * the same data. The entries are views into `body` (no copy). Top-level fields other than 1 do not
 * exist in OTLP v1 and are left out. Only the top level is checked: validate first.
 *
 * @throws OtlpDecodeError when the top-level framing is broken.
 */
export function splitEntries(body: Uint8Array): Uint8Array[] {
  const entries: Uint8Array[] = [];
  buf = body;
  try {
    const end = body.length;
    let pos = 0;
    while (pos < end) {
      const tagStart = pos;
      const tag = varint32(pos, end, 'field tag');
      pos = next;
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0) fault('field number 0 is not allowed', tagStart);
      if (field === 1) {
        if (wire !== 2) fault(`top-level field 1 has wire type ${WIRE_NAMES[wire] ?? wire}`, tagStart);
        const len = lengthOf(pos, end, 'top-level entry', 1);
        pos = next + len;
        entries.push(body.subarray(tagStart, pos));
      } else {
        pos = skipUnknown(pos, end, wire, tagStart, field);
      }
    }
    return entries;
  } catch (err) {
    if (err instanceof WalkFault) {
      throw new OtlpDecodeError(
        `OTLP request cannot be split: ${err.detail} at byte ${err.offset}`,
        err.offset,
      );
    }
    throw err;
  } finally {
    buf = EMPTY;
  }
}
