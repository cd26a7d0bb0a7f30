// The OTLP v1 message layout as the wire walker needs it: for every message, each known field's
// number, wire shape and (for nested messages) which message it holds. It mirrors the .proto files
// in ../proto (opentelemetry-proto v1.9.0); test/unit/otlp/schema.test.ts checks the two agree.
// Plain tables instead of protobufjs reflection, so the walker loads in microseconds.

/** How a known field is laid out on the wire. */
export const Kind = {
  /** wire type 0: int32/int64/uint32/uint64/bool/enum/sint32 */
  Varint: 1,
  /** wire type 1: fixed64/sfixed64/double */
  I64: 2,
  /** wire type 2, not inspected: bytes */
  Bytes: 3,
  /** wire type 2, optionally UTF-8 checked: string */
  String: 4,
  /** wire type 5: fixed32 */
  I32: 5,
  /** wire type 2, walked recursively */
  Message: 6,
  /** repeated varint scalar: packed (wire type 2) or one value (wire type 0) */
  PackedVarint: 7,
  /** repeated 8-byte scalar: packed (wire type 2) or one value (wire type 1) */
  PackedI64: 8,
  /** wire type 2 bytes: a trace id, 16 bytes or empty (the OTLP spec) */
  TraceId: 9,
  /** wire type 2 bytes: a span id, 8 bytes or empty */
  SpanId: 10,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Each occurrence of the field is one item of the signal (a span, a data point, a log record). */
export const FLAG_ITEM = 1 << 4;
/** One of Metric's `data` oneof members: a second one in the same Metric is rejected. */
export const FLAG_METRIC_DATA = 1 << 5;
/** A top-level entry of a request (ResourceSpans / ResourceMetrics / ResourceLogs). */
export const FLAG_RESOURCE = 1 << 6;
const NESTED_SHIFT = 8;

export const specKind = (spec: number): number => spec & 0xf;
export const specNested = (spec: number): number => spec >>> NESTED_SHIFT;

export interface MessageSchema {
  /** Fully qualified proto name, for error messages and the schema cross-check. */
  readonly name: string;
  /** Indexed by field number; 0 means unknown (skipped). */
  readonly specs: Int32Array;
  /** Indexed by field number: the proto field name, for error messages. */
  readonly fieldNames: readonly string[];
}

type FieldDef = readonly [number, string, Kind, string?, number?];

const defs: Record<string, readonly FieldDef[]> = {};
const def = (name: string, fields: readonly FieldDef[]): string => {
  defs[name] = fields;
  return name;
};

const C = 'opentelemetry.proto.common.v1.';
const R = 'opentelemetry.proto.resource.v1.';
const T = 'opentelemetry.proto.trace.v1.';
const M = 'opentelemetry.proto.metrics.v1.';
const L = 'opentelemetry.proto.logs.v1.';
const K = Kind;

// common.proto
def(`${C}AnyValue`, [
  [1, 'string_value', K.String],
  [2, 'bool_value', K.Varint],
  [3, 'int_value', K.Varint],
  [4, 'double_value', K.I64],
  [5, 'array_value', K.Message, `${C}ArrayValue`],
  [6, 'kvlist_value', K.Message, `${C}KeyValueList`],
  [7, 'bytes_value', K.Bytes],
]);
def(`${C}ArrayValue`, [[1, 'values', K.Message, `${C}AnyValue`]]);
def(`${C}KeyValueList`, [[1, 'values', K.Message, `${C}KeyValue`]]);
def(`${C}KeyValue`, [
  [1, 'key', K.String],
  [2, 'value', K.Message, `${C}AnyValue`],
]);
def(`${C}InstrumentationScope`, [
  [1, 'name', K.String],
  [2, 'version', K.String],
  [3, 'attributes', K.Message, `${C}KeyValue`],
  [4, 'dropped_attributes_count', K.Varint],
]);
def(`${C}EntityRef`, [
  [1, 'schema_url', K.String],
  [2, 'type', K.String],
  [3, 'id_keys', K.String],
  [4, 'description_keys', K.String],
]);

// resource.proto
def(`${R}Resource`, [
  [1, 'attributes', K.Message, `${C}KeyValue`],
  [2, 'dropped_attributes_count', K.Varint],
  [3, 'entity_refs', K.Message, `${C}EntityRef`],
]);

// trace.proto
def(`${T}ResourceSpans`, [
  [1, 'resource', K.Message, `${R}Resource`],
  [2, 'scope_spans', K.Message, `${T}ScopeSpans`],
  [3, 'schema_url', K.String],
]);
def(`${T}ScopeSpans`, [
  [1, 'scope', K.Message, `${C}InstrumentationScope`],
  [2, 'spans', K.Message, `${T}Span`, FLAG_ITEM],
  [3, 'schema_url', K.String],
]);
def(`${T}Span`, [
  [1, 'trace_id', K.TraceId],
  [2, 'span_id', K.SpanId],
  [3, 'trace_state', K.String],
  [4, 'parent_span_id', K.SpanId],
  [5, 'name', K.String],
  [6, 'kind', K.Varint],
  [7, 'start_time_unix_nano', K.I64],
  [8, 'end_time_unix_nano', K.I64],
  [9, 'attributes', K.Message, `${C}KeyValue`],
  [10, 'dropped_attributes_count', K.Varint],
  [11, 'events', K.Message, `${T}Span.Event`],
  [12, 'dropped_events_count', K.Varint],
  [13, 'links', K.Message, `${T}Span.Link`],
  [14, 'dropped_links_count', K.Varint],
  [15, 'status', K.Message, `${T}Status`],
  [16, 'flags', K.I32],
]);
def(`${T}Span.Event`, [
  [1, 'time_unix_nano', K.I64],
  [2, 'name', K.String],
  [3, 'attributes', K.Message, `${C}KeyValue`],
  [4, 'dropped_attributes_count', K.Varint],
]);
def(`${T}Span.Link`, [
  [1, 'trace_id', K.TraceId],
  [2, 'span_id', K.SpanId],
  [3, 'trace_state', K.String],
  [4, 'attributes', K.Message, `${C}KeyValue`],
  [5, 'dropped_attributes_count', K.Varint],
  [6, 'flags', K.I32],
]);
def(`${T}Status`, [
  [2, 'message', K.String],
  [3, 'code', K.Varint],
]);

// metrics.proto
def(`${M}ResourceMetrics`, [
  [1, 'resource', K.Message, `${R}Resource`],
  [2, 'scope_metrics', K.Message, `${M}ScopeMetrics`],
  [3, 'schema_url', K.String],
]);
def(`${M}ScopeMetrics`, [
  [1, 'scope', K.Message, `${C}InstrumentationScope`],
  [2, 'metrics', K.Message, `${M}Metric`],
  [3, 'schema_url', K.String],
]);
def(`${M}Metric`, [
  [1, 'name', K.String],
  [2, 'description', K.String],
  [3, 'unit', K.String],
  [5, 'gauge', K.Message, `${M}Gauge`, FLAG_METRIC_DATA],
  [7, 'sum', K.Message, `${M}Sum`, FLAG_METRIC_DATA],
  [9, 'histogram', K.Message, `${M}Histogram`, FLAG_METRIC_DATA],
  [10, 'exponential_histogram', K.Message, `${M}ExponentialHistogram`, FLAG_METRIC_DATA],
  [11, 'summary', K.Message, `${M}Summary`, FLAG_METRIC_DATA],
  [12, 'metadata', K.Message, `${C}KeyValue`],
]);
def(`${M}Gauge`, [[1, 'data_points', K.Message, `${M}NumberDataPoint`, FLAG_ITEM]]);
def(`${M}Sum`, [
  [1, 'data_points', K.Message, `${M}NumberDataPoint`, FLAG_ITEM],
  [2, 'aggregation_temporality', K.Varint],
  [3, 'is_monotonic', K.Varint],
]);
def(`${M}Histogram`, [
  [1, 'data_points', K.Message, `${M}HistogramDataPoint`, FLAG_ITEM],
  [2, 'aggregation_temporality', K.Varint],
]);
def(`${M}ExponentialHistogram`, [
  [1, 'data_points', K.Message, `${M}ExponentialHistogramDataPoint`, FLAG_ITEM],
  [2, 'aggregation_temporality', K.Varint],
]);
def(`${M}Summary`, [[1, 'data_points', K.Message, `${M}SummaryDataPoint`, FLAG_ITEM]]);
def(`${M}NumberDataPoint`, [
  [2, 'start_time_unix_nano', K.I64],
  [3, 'time_unix_nano', K.I64],
  [4, 'as_double', K.I64],
  [5, 'exemplars', K.Message, `${M}Exemplar`],
  [6, 'as_int', K.I64],
  [7, 'attributes', K.Message, `${C}KeyValue`],
  [8, 'flags', K.Varint],
]);
def(`${M}HistogramDataPoint`, [
  [2, 'start_time_unix_nano', K.I64],
  [3, 'time_unix_nano', K.I64],
  [4, 'count', K.I64],
  [5, 'sum', K.I64],
  [6, 'bucket_counts', K.PackedI64],
  [7, 'explicit_bounds', K.PackedI64],
  [8, 'exemplars', K.Message, `${M}Exemplar`],
  [9, 'attributes', K.Message, `${C}KeyValue`],
  [10, 'flags', K.Varint],
  [11, 'min', K.I64],
  [12, 'max', K.I64],
]);
def(`${M}ExponentialHistogramDataPoint`, [
  [1, 'attributes', K.Message, `${C}KeyValue`],
  [2, 'start_time_unix_nano', K.I64],
  [3, 'time_unix_nano', K.I64],
  [4, 'count', K.I64],
  [5, 'sum', K.I64],
  [6, 'scale', K.Varint],
  [7, 'zero_count', K.I64],
  [8, 'positive', K.Message, `${M}ExponentialHistogramDataPoint.Buckets`],
  [9, 'negative', K.Message, `${M}ExponentialHistogramDataPoint.Buckets`],
  [10, 'flags', K.Varint],
  [11, 'exemplars', K.Message, `${M}Exemplar`],
  [12, 'min', K.I64],
  [13, 'max', K.I64],
  [14, 'zero_threshold', K.I64],
]);
def(`${M}ExponentialHistogramDataPoint.Buckets`, [
  [1, 'offset', K.Varint],
  [2, 'bucket_counts', K.PackedVarint],
]);
def(`${M}SummaryDataPoint`, [
  [2, 'start_time_unix_nano', K.I64],
  [3, 'time_unix_nano', K.I64],
  [4, 'count', K.I64],
  [5, 'sum', K.I64],
  [6, 'quantile_values', K.Message, `${M}SummaryDataPoint.ValueAtQuantile`],
  [7, 'attributes', K.Message, `${C}KeyValue`],
  [8, 'flags', K.Varint],
]);
def(`${M}SummaryDataPoint.ValueAtQuantile`, [
  [1, 'quantile', K.I64],
  [2, 'value', K.I64],
]);
def(`${M}Exemplar`, [
  [2, 'time_unix_nano', K.I64],
  [3, 'as_double', K.I64],
  [4, 'span_id', K.SpanId],
  [5, 'trace_id', K.TraceId],
  [6, 'as_int', K.I64],
  [7, 'filtered_attributes', K.Message, `${C}KeyValue`],
]);

// logs.proto
def(`${L}ResourceLogs`, [
  [1, 'resource', K.Message, `${R}Resource`],
  [2, 'scope_logs', K.Message, `${L}ScopeLogs`],
  [3, 'schema_url', K.String],
]);
def(`${L}ScopeLogs`, [
  [1, 'scope', K.Message, `${C}InstrumentationScope`],
  [2, 'log_records', K.Message, `${L}LogRecord`, FLAG_ITEM],
  [3, 'schema_url', K.String],
]);
def(`${L}LogRecord`, [
  [1, 'time_unix_nano', K.I64],
  [2, 'severity_number', K.Varint],
  [3, 'severity_text', K.String],
  [5, 'body', K.Message, `${C}AnyValue`],
  [6, 'attributes', K.Message, `${C}KeyValue`],
  [7, 'dropped_attributes_count', K.Varint],
  [8, 'flags', K.I32],
  [9, 'trace_id', K.TraceId],
  [10, 'span_id', K.SpanId],
  [11, 'observed_time_unix_nano', K.I64],
  [12, 'event_name', K.String],
]);

// collector/*/v1/*_service.proto: the requests themselves.
export const REQUEST_TYPES = {
  traces: def('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest', [
    [1, 'resource_spans', K.Message, `${T}ResourceSpans`, FLAG_RESOURCE],
  ]),
  metrics: def('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest', [
    [1, 'resource_metrics', K.Message, `${M}ResourceMetrics`, FLAG_RESOURCE],
  ]),
  logs: def('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest', [
    [1, 'resource_logs', K.Message, `${L}ResourceLogs`, FLAG_RESOURCE],
  ]),
} as const;

/** The field definitions as written above, for the schema cross-check test. */
export const FIELD_DEFS: Readonly<Record<string, readonly FieldDef[]>> = defs;

/** All message schemas, indexed by id (index 0 unused so that 0 means "no nested message"). */
export const SCHEMAS: readonly MessageSchema[] = (() => {
  const names = Object.keys(defs);
  const ids = new Map(names.map((n, i) => [n, i + 1]));
  const out: MessageSchema[] = [{ name: '', specs: new Int32Array(0), fieldNames: [] }];
  for (const name of names) {
    const fields = defs[name] ?? [];
    const max = Math.max(0, ...fields.map((f) => f[0]));
    const specs = new Int32Array(max + 1);
    const fieldNames: string[] = [];
    for (const [num, fname, kind, nested, flags = 0] of fields) {
      const nestedId = nested === undefined ? 0 : ids.get(nested);
      if (nestedId === undefined)
        throw new Error(`otlp schema: ${name}.${fname} refers to unknown ${nested}`);
      specs[num] = kind | flags | (nestedId << NESTED_SHIFT);
      fieldNames[num] = fname;
    }
    out.push({ name, specs, fieldNames });
  }
  return out;
})();

const idByName = new Map(SCHEMAS.map((s, i) => [s.name, i]));
export const schemaId = (name: string): number => {
  const id = idByName.get(name);
  if (id === undefined) throw new Error(`otlp schema: no message ${name}`);
  return id;
};
