// The structured view of an export request, for destinations that translate OTLP into another
// format (zipkin, emf, prometheusremotewrite, pushgateway, console, file as JSON). Plain OTLP -> OTLP
// never comes here: it forwards the bytes untouched. Decoding loads protobufjs on first use, and only
// a destination module (itself loaded only when selected) imports this file.
import { decodeExportRequest } from '../../otlp/decode.js';
import type { Signal } from '../../otlp/types.js';

export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export interface AnyValueJson {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: AnyValueJson[] };
  kvlistValue?: { values?: KeyValueJson[] };
}
export interface KeyValueJson {
  key: string;
  value?: AnyValueJson;
}
interface WithAttributes {
  attributes?: KeyValueJson[];
}
export interface ScopeJson extends WithAttributes {
  name?: string;
  version?: string;
}
export interface SpanJson extends WithAttributes {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  events?: Array<WithAttributes & { name?: string; timeUnixNano?: string }>;
  status?: { code?: number; message?: string };
}
export interface NumberPointJson extends WithAttributes {
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  asInt?: string;
  asDouble?: number;
}
export interface HistogramPointJson extends WithAttributes {
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  count?: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
  min?: number;
  max?: number;
}
export interface SummaryPointJson extends WithAttributes {
  timeUnixNano?: string;
  count?: string;
  sum?: number;
  quantileValues?: Array<{ quantile?: number; value?: number }>;
}
export interface MetricJson {
  name?: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints?: NumberPointJson[] };
  sum?: { dataPoints?: NumberPointJson[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: HistogramPointJson[]; aggregationTemporality?: number };
  exponentialHistogram?: {
    dataPoints?: Array<WithAttributes & { timeUnixNano?: string; count?: string; sum?: number }>;
    aggregationTemporality?: number;
  };
  summary?: { dataPoints?: SummaryPointJson[] };
}
export interface LogRecordJson extends WithAttributes {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValueJson;
  traceId?: string;
  spanId?: string;
}
interface ResourceJson extends WithAttributes {}
export interface TracesJson {
  resourceSpans?: Array<{
    resource?: ResourceJson;
    scopeSpans?: Array<{ scope?: ScopeJson; spans?: SpanJson[] }>;
  }>;
}
export interface MetricsJson {
  resourceMetrics?: Array<{
    resource?: ResourceJson;
    scopeMetrics?: Array<{ scope?: ScopeJson; metrics?: MetricJson[] }>;
  }>;
}
export interface LogsJson {
  resourceLogs?: Array<{
    resource?: ResourceJson;
    scopeLogs?: Array<{ scope?: ScopeJson; logRecords?: LogRecordJson[] }>;
  }>;
}

/** OTLP AggregationTemporality: 1 delta, 2 cumulative. */
export const TEMPORALITY_DELTA = 1;

/** Decodes one encoded export request (or a concatenation of several) into its OTLP/JSON shape. */
export async function decodeTraces(body: Uint8Array): Promise<TracesJson> {
  return (await decodeExportRequest('traces', body)) as TracesJson;
}
export async function decodeMetrics(body: Uint8Array): Promise<MetricsJson> {
  return (await decodeExportRequest('metrics', body)) as MetricsJson;
}
export async function decodeLogs(body: Uint8Array): Promise<LogsJson> {
  return (await decodeExportRequest('logs', body)) as LogsJson;
}
export function decode(signal: Signal, body: Uint8Array): Promise<TracesJson | MetricsJson | LogsJson> {
  return decodeExportRequest(signal, body);
}

/** An OTLP AnyValue as a plain JS value (64-bit ints become numbers; bytes stay base64). */
export function anyValue(v: AnyValueJson | undefined): AttributeValue {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  return '';
}

export function attributes(kvs: KeyValueJson[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** An attribute value as the single string that tag/label formats want (arrays and maps as JSON). */
export function attributeText(v: AttributeValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Nanoseconds since the epoch (decimal string) to milliseconds, without losing range. */
export function nanosToMillis(nanos: string | undefined): number {
  if (!nanos) return 0;
  return Number(BigInt(nanos) / 1_000_000n);
}
export function nanosToMicros(nanos: string | undefined): number {
  if (!nanos) return 0;
  return Number(BigInt(nanos) / 1_000n);
}
