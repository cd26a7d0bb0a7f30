// OTLP spans -> Zipkin v2 JSON (the model of POST /api/v2/spans), following the OpenTelemetry
// specification's "Trace SDK to Zipkin" mapping: hex ids, µs timestamps and durations, kind,
// localEndpoint.serviceName from service.name, attributes as string tags, OTel status as
// otel.status_code / error, events as annotations, scope as otel.scope.name / otel.scope.version.
import {
  type Attributes,
  attributes,
  attributeText,
  nanosToMicros,
  type SpanJson,
  type TracesJson,
} from '../model.js';

export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  timestamp: number;
  duration: number;
  localEndpoint: { serviceName: string };
  remoteEndpoint?: { serviceName: string };
  tags?: Record<string, string>;
  annotations?: Array<{ timestamp: number; value: string }>;
}

/** OTLP SpanKind numbers to Zipkin kinds; INTERNAL (1) and UNSPECIFIED (0) have no kind in Zipkin. */
const KINDS: Record<number, ZipkinSpan['kind']> = { 2: 'SERVER', 3: 'CLIENT', 4: 'PRODUCER', 5: 'CONSUMER' };
const STATUS_OK = 1;
const STATUS_ERROR = 2;
const ALL_ZERO = /^0*$/;

/** Every span of the request as Zipkin spans, in request order. */
export function toZipkinSpans(request: TracesJson): ZipkinSpan[] {
  const out: ZipkinSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    const serviceName = attributeText(resource['service.name'] ?? 'unknown_service');
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) out.push(toZipkinSpan(span, serviceName, resource, ss.scope));
    }
  }
  return out;
}

function toZipkinSpan(
  span: SpanJson,
  serviceName: string,
  resource: Attributes,
  scope: { name?: string; version?: string } | undefined,
): ZipkinSpan {
  const start = nanosToMicros(span.startTimeUnixNano);
  const end = nanosToMicros(span.endTimeUnixNano);
  const tags: Record<string, string> = {};
  // Resource attributes first, so a span attribute of the same key wins.
  for (const [k, v] of Object.entries(resource)) if (k !== 'service.name') tags[k] = attributeText(v);
  const attrs = attributes(span.attributes);
  for (const [k, v] of Object.entries(attrs)) tags[k] = attributeText(v);
  if (scope?.name) tags['otel.scope.name'] = scope.name;
  if (scope?.version) tags['otel.scope.version'] = scope.version;
  const code = span.status?.code ?? 0;
  if (code === STATUS_OK) tags['otel.status_code'] = 'OK';
  if (code === STATUS_ERROR) {
    tags['otel.status_code'] = 'ERROR';
    tags.error = span.status?.message || 'true';
  }
  const z: ZipkinSpan = {
    traceId: span.traceId ?? '',
    id: span.spanId ?? '',
    timestamp: start,
    // Zipkin rejects a zero duration as "unset"; a span that ended in the microsecond it began lasts 1 µs.
    duration: Math.max(1, end - start),
    localEndpoint: { serviceName },
  };
  if (span.parentSpanId && !ALL_ZERO.test(span.parentSpanId)) z.parentId = span.parentSpanId;
  if (span.name) z.name = span.name;
  const kind = KINDS[span.kind ?? 0];
  if (kind) z.kind = kind;
  const peer = attrs['peer.service'];
  if ((kind === 'CLIENT' || kind === 'PRODUCER') && peer !== undefined)
    z.remoteEndpoint = { serviceName: attributeText(peer) };
  if (Object.keys(tags).length > 0) z.tags = tags;
  const annotations = (span.events ?? []).map((e) => {
    const ea = attributes(e.attributes);
    // The spec's form: the event name, followed by its attributes as JSON when it has any.
    const value = Object.keys(ea).length > 0 ? `"${e.name ?? ''}":${JSON.stringify(ea)}` : (e.name ?? '');
    return { timestamp: nanosToMicros(e.timeUnixNano), value };
  });
  if (annotations.length > 0) z.annotations = annotations;
  return z;
}
