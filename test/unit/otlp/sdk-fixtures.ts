// Real OpenTelemetry JS SDK data and its real OTLP serializers (@opentelemetry/otlp-transformer),
// so the tests check our wire helpers against what clients actually send.
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AggregationType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

const resource = resourceFromAttributes({
  'service.name': 'fixture-fn',
  'cloud.provider': 'aws',
  'faas.name': 'fixture-fn',
});

/** Typical attributes: mostly strings, some numbers, a bool and an array. */
export function attributes(i: number, count = 10): Attributes {
  const attrs: Attributes = {};
  for (let a = 0; a < count; a++) {
    const key = `attr.${a}`;
    if (a % 5 === 1) attrs[key] = i * 1000 + a;
    else if (a % 5 === 2) attrs[key] = (i + a) / 7;
    else if (a % 5 === 3) attrs[key] = a % 2 === 0;
    else if (a % 5 === 4) attrs[key] = [`v${i}`, `w${a}`];
    else attrs[key] = `value-${i}-${a}-${'x'.repeat(a)}`;
  }
  return attrs;
}

/** Finished spans from a real tracer: parent/child, events, links, status, kinds. */
export function makeSpans(count: number, attrsPerSpan = 10): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracerA = provider.getTracer('fixture-a', '1.2.3');
  const tracerB = provider.getTracer('fixture-b');
  const root = tracerA.startSpan('invoke', {
    kind: SpanKind.SERVER,
    attributes: attributes(0, attrsPerSpan),
  });
  const rootCtx = root.spanContext();
  for (let i = 1; i < count; i++) {
    const tracer = i % 3 === 0 ? tracerB : tracerA;
    const span = tracer.startSpan(`op-${i}`, {
      kind: (i % 5) as SpanKind,
      attributes: attributes(i, attrsPerSpan),
      links: i % 4 === 0 ? [{ context: rootCtx, attributes: { 'link.i': i } }] : [],
      startTime: [1_700_000_000 + i, 123_456_789],
    });
    if (i % 2 === 0) span.addEvent('checkpoint', { 'event.i': i, 'event.s': 'ok' });
    if (i % 7 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `failed ${i}` });
    span.end([1_700_000_001 + i, 987_654_321]);
  }
  root.setStatus({ code: SpanStatusCode.OK });
  root.end();
  return exporter.getFinishedSpans();
}

export const traceProtobuf = (spans: ReadableSpan[]): Uint8Array =>
  ProtobufTraceSerializer.serializeRequest(spans)!;
export const traceJson = (spans: ReadableSpan[]): Uint8Array => JsonTraceSerializer.serializeRequest(spans)!;

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Counter (sum), up-down counter, gauge, explicit and exponential histograms from a real meter. */
export async function makeMetrics(points = 5): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource,
    readers: [reader],
    views: [{ instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('fixture-meter', '0.1.0');
  const counter = meter.createCounter('invocations');
  const updown = meter.createUpDownCounter('in.flight');
  const gauge = meter.createGauge('memory.used');
  const hist = meter.createHistogram('latency');
  const exp = meter.createHistogram('latency.exp');
  for (let i = 0; i < points; i++) {
    const attrs = { 'route.id': `r${i}` };
    counter.add(i + 1, attrs);
    updown.add(i % 2 === 0 ? 1 : -1, attrs);
    gauge.record(100 + i, attrs);
    hist.record(i * 3.5, attrs);
    exp.record(0.5 + i * 10, attrs);
  }
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(`metric collection failed: ${errors.join('; ')}`);
  await provider.shutdown();
  return resourceMetrics;
}

export const metricsProtobuf = (rm: ResourceMetrics): Uint8Array =>
  ProtobufMetricsSerializer.serializeRequest(rm)!;
export const metricsJson = (rm: ResourceMetrics): Uint8Array => JsonMetricsSerializer.serializeRequest(rm)!;

/** Log records from a real logger: severities, bodies of several types, trace context. */
export function makeLogs(count: number): ReturnType<InMemoryLogRecordExporter['getFinishedLogRecords']> {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor(exporter)] });
  const logger = provider.getLogger('fixture-logger', '2.0.0');
  for (let i = 0; i < count; i++) {
    logger.emit({
      severityNumber: i % 2 === 0 ? SeverityNumber.INFO : SeverityNumber.ERROR,
      severityText: i % 2 === 0 ? 'INFO' : 'ERROR',
      body: i % 3 === 0 ? `line ${i}` : { msg: `structured ${i}`, n: i, nested: { ok: true } },
      attributes: attributes(i, 4),
      timestamp: [1_700_000_000 + i, 5],
      eventName: i % 4 === 0 ? 'fixture.event' : undefined,
    });
  }
  return exporter.getFinishedLogRecords();
}

type Logs = ReturnType<typeof makeLogs>;
export const logsProtobuf = (logs: Logs): Uint8Array => ProtobufLogsSerializer.serializeRequest(logs)!;
export const logsJson = (logs: Logs): Uint8Array => JsonLogsSerializer.serializeRequest(logs)!;

/** Encodes a tag and a length-delimited payload by hand, for malformed-input tests. */
export function ld(field: number, payload: Uint8Array | number[]): Uint8Array {
  const body = payload instanceof Uint8Array ? payload : Uint8Array.from(payload);
  return Buffer.concat([Uint8Array.from([...varint(field * 8 + 2), ...varint(body.length)]), body]);
}

export function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** Drops proto3 default values (0, '0', '', false, [], {}), which one encoder may write and another omit. */
export function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const clean = withoutDefaults(v);
    const empty =
      clean === 0 ||
      clean === '0' ||
      clean === '' ||
      clean === false ||
      (Array.isArray(clean) && clean.length === 0) ||
      (clean !== null &&
        typeof clean === 'object' &&
        !Array.isArray(clean) &&
        Object.keys(clean).length === 0);
    if (!empty) out[k] = clean;
  }
  return out;
}
