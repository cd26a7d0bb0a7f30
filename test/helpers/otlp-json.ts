/**
 * The OTLP/JSON shapes the collector's file exporter writes (one export request per line), read
 * independently of src/otlp so that the tests check our encoder against the collector's decoder.
 * Only the fields tests look at are typed; everything else is still there on `raw`.
 */

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

export interface ResourceJson {
  attributes?: KeyValueJson[];
}

export interface ScopeJson {
  name?: string;
  version?: string;
  attributes?: KeyValueJson[];
}

export interface SpanJson {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: KeyValueJson[];
  events?: { name: string; timeUnixNano?: string; attributes?: KeyValueJson[] }[];
  status?: { code?: number; message?: string };
}

export interface TracesRequestJson {
  resourceSpans?: { resource?: ResourceJson; scopeSpans?: { scope?: ScopeJson; spans?: SpanJson[] }[] }[];
}

export interface NumberDataPointJson {
  attributes?: KeyValueJson[];
  timeUnixNano?: string;
  asInt?: string | number;
  asDouble?: number;
}

export interface MetricJson {
  name: string;
  description?: string;
  unit?: string;
  sum?: { dataPoints?: NumberDataPointJson[]; isMonotonic?: boolean; aggregationTemporality?: number };
  gauge?: { dataPoints?: NumberDataPointJson[] };
  histogram?: {
    dataPoints?: ({ attributes?: KeyValueJson[]; count?: string | number } & Record<string, unknown>)[];
  };
  exponentialHistogram?: { dataPoints?: ({ attributes?: KeyValueJson[] } & Record<string, unknown>)[] };
  summary?: { dataPoints?: ({ attributes?: KeyValueJson[] } & Record<string, unknown>)[] };
}

export interface MetricsRequestJson {
  resourceMetrics?: {
    resource?: ResourceJson;
    scopeMetrics?: { scope?: ScopeJson; metrics?: MetricJson[] }[];
  }[];
}

export interface LogRecordJson {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValueJson;
  attributes?: KeyValueJson[];
  traceId?: string;
  spanId?: string;
}

export interface LogsRequestJson {
  resourceLogs?: {
    resource?: ResourceJson;
    scopeLogs?: { scope?: ScopeJson; logRecords?: LogRecordJson[] }[];
  }[];
}

/** A plain JS value for an OTLP AnyValue; 64-bit ints become numbers when they fit, strings otherwise. */
export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };

export function plainValue(v: AnyValueJson | undefined): PlainValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plainValue);
  if (v.kvlistValue) return plainAttributes(v.kvlistValue.values);
  return null;
}

export function plainAttributes(kvs: KeyValueJson[] | undefined): Record<string, PlainValue> {
  const out: Record<string, PlainValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = plainValue(kv.value);
  return out;
}

/** One span with where it came from, flattened out of its request. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, PlainValue>;
  resource: Record<string, PlainValue>;
  scope: { name: string; version: string };
  /** Index of the export request (line of the file) it arrived in. */
  request: number;
  raw: SpanJson;
}

export interface ReceivedDataPoint {
  metric: string;
  type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';
  attributes: Record<string, PlainValue>;
  /** asInt / asDouble for sums and gauges; undefined for the distribution types (see raw). */
  value: number | string | undefined;
  resource: Record<string, PlainValue>;
  scope: { name: string; version: string };
  request: number;
  raw: Record<string, unknown>;
}

export interface ReceivedLogRecord {
  traceId: string;
  spanId: string;
  severityText: string;
  body: PlainValue;
  attributes: Record<string, PlainValue>;
  resource: Record<string, PlainValue>;
  scope: { name: string; version: string };
  request: number;
  raw: LogRecordJson;
}

const scopeOf = (s: ScopeJson | undefined): { name: string; version: string } => ({
  name: s?.name ?? '',
  version: s?.version ?? '',
});

export function flattenSpans(requests: readonly TracesRequestJson[]): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  requests.forEach((req, request) => {
    for (const rs of req.resourceSpans ?? []) {
      const resource = plainAttributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          out.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            attributes: plainAttributes(span.attributes),
            resource,
            scope: scopeOf(ss.scope),
            request,
            raw: span,
          });
        }
      }
    }
  });
  return out;
}

const METRIC_TYPES = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const;

export function flattenDataPoints(requests: readonly MetricsRequestJson[]): ReceivedDataPoint[] {
  const out: ReceivedDataPoint[] = [];
  requests.forEach((req, request) => {
    for (const rm of req.resourceMetrics ?? []) {
      const resource = plainAttributes(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const metric of sm.metrics ?? []) {
          for (const type of METRIC_TYPES) {
            const points = (metric[type]?.dataPoints ?? []) as (Record<string, unknown> & {
              attributes?: KeyValueJson[];
            })[];
            for (const p of points) {
              const raw = p as NumberDataPointJson & Record<string, unknown>;
              const value =
                raw.asDouble !== undefined
                  ? raw.asDouble
                  : raw.asInt !== undefined
                    ? plainNumber(raw.asInt)
                    : undefined;
              out.push({
                metric: metric.name,
                type,
                attributes: plainAttributes(p.attributes),
                value,
                resource,
                scope: scopeOf(sm.scope),
                request,
                raw: p,
              });
            }
          }
        }
      }
    }
  });
  return out;
}

function plainNumber(v: string | number): number | string {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : String(v);
}

export function flattenLogRecords(requests: readonly LogsRequestJson[]): ReceivedLogRecord[] {
  const out: ReceivedLogRecord[] = [];
  requests.forEach((req, request) => {
    for (const rl of req.resourceLogs ?? []) {
      const resource = plainAttributes(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const rec of sl.logRecords ?? []) {
          out.push({
            traceId: rec.traceId ?? '',
            spanId: rec.spanId ?? '',
            severityText: rec.severityText ?? '',
            body: plainValue(rec.body),
            attributes: plainAttributes(rec.attributes),
            resource,
            scope: scopeOf(sl.scope),
            request,
            raw: rec,
          });
        }
      }
    }
  });
  return out;
}
