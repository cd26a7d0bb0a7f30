// Decoded OTLP flattened into one record per span, data point or log record, with the resource and
// scope folded in: the shape the row- and key-oriented destinations (postgres, redis trace-keys)
// store. Decoding loads protobufjs on first use; only those destinations import this file.
import { decodeExportRequest } from '../../otlp/decode.js';

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
export type Attributes = Record<string, Value>;

interface AnyValueJson {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: AnyValueJson[] };
  kvlistValue?: { values?: KeyValueJson[] };
}
interface KeyValueJson {
  key: string;
  value?: AnyValueJson;
}
interface Scoped {
  resource?: { attributes?: KeyValueJson[] };
}
interface ScopeJson {
  name?: string;
  version?: string;
}

/** An AnyValue as plain JSON. 64-bit integers stay exact: a number when safe, else a string. */
export function plain(v: AnyValueJson | undefined): Value {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  return null;
}

export function attributes(kvs: KeyValueJson[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of kvs ?? []) out[kv.key] = plain(kv.value);
  return out;
}

interface Common {
  serviceName: string | null;
  resource: Attributes;
  scopeName: string | null;
  scopeVersion: string | null;
}

function common(r: Scoped, scope: ScopeJson | undefined): Common {
  const resource = attributes(r.resource?.attributes);
  const service = resource['service.name'];
  return {
    serviceName: typeof service === 'string' ? service : null,
    resource,
    scopeName: scope?.name || null,
    scopeVersion: scope?.version || null,
  };
}

export interface SpanRecord extends Common {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** OTLP SpanKind number (0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer). */
  kind: number;
  /** Unix nanoseconds as decimal strings (beyond 2^53). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  /** OTLP StatusCode number (0 unset, 1 ok, 2 error). */
  statusCode: number;
  statusMessage: string | null;
  attributes: Attributes;
  events: Value[];
  links: Value[];
}

interface SpanJson {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: KeyValueJson[];
  events?: Array<{ name?: string; timeUnixNano?: string; attributes?: KeyValueJson[] }>;
  links?: Array<{ traceId?: string; spanId?: string; attributes?: KeyValueJson[] }>;
  status?: { code?: number; message?: string };
}

export async function spanRecords(body: Uint8Array): Promise<SpanRecord[]> {
  const req = (await decodeExportRequest('traces', body)) as {
    resourceSpans?: Array<Scoped & { scopeSpans?: Array<{ scope?: ScopeJson; spans?: SpanJson[] }> }>;
  };
  const out: SpanRecord[] = [];
  for (const rs of req.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      const c = common(rs, ss.scope);
      for (const s of ss.spans ?? []) {
        out.push({
          ...c,
          traceId: s.traceId ?? '',
          spanId: s.spanId ?? '',
          parentSpanId: s.parentSpanId || null,
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startTimeUnixNano: s.startTimeUnixNano ?? '0',
          endTimeUnixNano: s.endTimeUnixNano ?? '0',
          statusCode: s.status?.code ?? 0,
          statusMessage: s.status?.message || null,
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({
            name: e.name ?? '',
            timeUnixNano: e.timeUnixNano ?? '0',
            attributes: attributes(e.attributes),
          })),
          links: (s.links ?? []).map((l) => ({
            traceId: l.traceId ?? '',
            spanId: l.spanId ?? '',
            attributes: attributes(l.attributes),
          })),
        });
      }
    }
  }
  return out;
}

export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

export interface DataPointRecord extends Common {
  metricName: string;
  metricType: MetricType;
  unit: string | null;
  description: string | null;
  startTimeUnixNano: string | null;
  timeUnixNano: string;
  /** Gauge and sum points; null for the distribution types. */
  value: number | null;
  /** Distribution types: count and sum; their buckets/quantiles are in `data`. */
  count: string | null;
  sum: number | null;
  /** 1 delta, 2 cumulative; null for gauges and summaries. */
  aggregationTemporality: number | null;
  isMonotonic: boolean | null;
  attributes: Attributes;
  /** The point's remaining fields (buckets, bounds, quantiles, min, max, exemplars), as JSON. */
  data: Value;
}

interface PointJson {
  attributes?: KeyValueJson[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
  asDouble?: number;
  asInt?: string | number;
  count?: string | number;
  sum?: number;
  [key: string]: unknown;
}
interface MetricJson {
  name?: string;
  unit?: string;
  description?: string;
  gauge?: { dataPoints?: PointJson[] };
  sum?: { dataPoints?: PointJson[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: PointJson[]; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints?: PointJson[]; aggregationTemporality?: number };
  summary?: { dataPoints?: PointJson[] };
}

const POINT_FIELDS = new Set([
  'attributes',
  'startTimeUnixNano',
  'timeUnixNano',
  'asDouble',
  'asInt',
  'count',
  'sum',
]);

export async function dataPointRecords(body: Uint8Array): Promise<DataPointRecord[]> {
  const req = (await decodeExportRequest('metrics', body)) as {
    resourceMetrics?: Array<Scoped & { scopeMetrics?: Array<{ scope?: ScopeJson; metrics?: MetricJson[] }> }>;
  };
  const out: DataPointRecord[] = [];
  for (const rm of req.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      const c = common(rm, sm.scope);
      for (const m of sm.metrics ?? []) {
        const kinds: Array<
          [
            MetricType,
            { dataPoints?: PointJson[]; aggregationTemporality?: number; isMonotonic?: boolean } | undefined,
          ]
        > = [
          ['gauge', m.gauge],
          ['sum', m.sum],
          ['histogram', m.histogram],
          ['exponential_histogram', m.exponentialHistogram],
          ['summary', m.summary],
        ];
        for (const [type, body] of kinds) {
          for (const p of body?.dataPoints ?? []) {
            const rest: Record<string, Value> = {};
            for (const [k, v] of Object.entries(p)) if (!POINT_FIELDS.has(k)) rest[k] = v as Value;
            const numeric = p.asDouble ?? (p.asInt !== undefined ? Number(p.asInt) : undefined);
            out.push({
              ...c,
              metricName: m.name ?? '',
              metricType: type,
              unit: m.unit || null,
              description: m.description || null,
              startTimeUnixNano: p.startTimeUnixNano ?? null,
              timeUnixNano: p.timeUnixNano ?? '0',
              value: type === 'gauge' || type === 'sum' ? (numeric ?? null) : null,
              count: p.count !== undefined ? String(p.count) : null,
              sum: p.sum ?? null,
              aggregationTemporality: body?.aggregationTemporality ?? null,
              isMonotonic: type === 'sum' ? (body?.isMonotonic ?? false) : null,
              attributes: attributes(p.attributes),
              data: rest,
            });
          }
        }
      }
    }
  }
  return out;
}

export interface LogRecordRecord extends Common {
  timeUnixNano: string | null;
  observedTimeUnixNano: string | null;
  severityNumber: number | null;
  severityText: string | null;
  body: Value;
  traceId: string | null;
  spanId: string | null;
  attributes: Attributes;
}

interface LogJson {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValueJson;
  traceId?: string;
  spanId?: string;
  attributes?: KeyValueJson[];
}

export async function logRecords(body: Uint8Array): Promise<LogRecordRecord[]> {
  const req = (await decodeExportRequest('logs', body)) as {
    resourceLogs?: Array<Scoped & { scopeLogs?: Array<{ scope?: ScopeJson; logRecords?: LogJson[] }> }>;
  };
  const out: LogRecordRecord[] = [];
  for (const rl of req.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      const c = common(rl, sl.scope);
      for (const l of sl.logRecords ?? []) {
        out.push({
          ...c,
          timeUnixNano: l.timeUnixNano && l.timeUnixNano !== '0' ? l.timeUnixNano : null,
          observedTimeUnixNano:
            l.observedTimeUnixNano && l.observedTimeUnixNano !== '0' ? l.observedTimeUnixNano : null,
          severityNumber: l.severityNumber ?? null,
          severityText: l.severityText || null,
          body: plain(l.body),
          traceId: l.traceId || null,
          spanId: l.spanId || null,
          attributes: attributes(l.attributes),
        });
      }
    }
  }
  return out;
}
