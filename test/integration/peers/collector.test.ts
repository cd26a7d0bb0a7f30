import { randomBytes } from 'node:crypto';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as OTLPTraceExporterGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OTLPTraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';

const resource = resourceFromAttributes({ 'service.name': 'peers-test' });

async function exportOneSpan(exporter: SpanExporter, name: string): Promise<string> {
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const span = provider.getTracer('peers-test').startSpan(name, { attributes: { 'test.n': 7 } });
  span.end();
  await provider.forceFlush();
  await provider.shutdown();
  return span.spanContext().spanId;
}

/** A minimal OTLP/JSON traces request with one span, posted without any SDK. */
function jsonTraces(spanId: string): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'raw' } }] },
        scopeSpans: [
          {
            scope: { name: 'raw-scope' },
            spans: [
              {
                traceId: randomBytes(16).toString('hex'),
                spanId,
                name: 'raw',
                kind: 1,
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000000100000000',
              },
            ],
          },
        ],
      },
    ],
  });
}

async function postJsonTraces(endpoint: string, spanId: string): Promise<Response> {
  return fetch(`${endpoint}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: jsonTraces(spanId),
    signal: AbortSignal.timeout(10_000),
  });
}

describe('startCollector', () => {
  let collector: CollectorPeer;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector?.stop();
  });
  printLogsOnFailure('otelcol', () => collector);

  it('receives a span exported by the OTel JS SDK over OTLP/HTTP protobuf, findable by span id', async () => {
    // Act
    const spanId = await exportOneSpan(
      new OTLPTraceExporterProto({ url: `${collector.httpEndpoint}/v1/traces` }),
      'via-proto',
    );
    const r = await collector.waitFor((x) => x.spans().some((s) => s.spanId === spanId), 15_000);

    // Assess
    const span = r.spans().find((s) => s.spanId === spanId);
    expect(span?.name).toBe('via-proto');
    expect(span?.attributes['test.n']).toBe(7);
    expect(span?.resource['service.name']).toBe('peers-test');
    expect(span?.scope.name).toBe('peers-test');
  });

  it('receives a span exported over OTLP/gRPC', async () => {
    const exporter = new OTLPTraceExporterGrpc({ url: collector.grpcEndpoint });
    const spanId = await exportOneSpan(exporter, 'via-grpc');
    const r = await collector.waitFor((x) => x.spans().some((s) => s.spanId === spanId), 15_000);
    expect(r.spans().find((s) => s.spanId === spanId)?.name).toBe('via-grpc');
  });

  it('records each export request as its own entry, in order', async () => {
    // Prepare
    const ids = [0, 1, 2].map(() => randomBytes(8).toString('hex'));
    const before = (await collector.received()).traces.length;

    // Act: sequential so that arrival order is known.
    for (const id of ids) expect((await postJsonTraces(collector.httpEndpoint, id)).status).toBe(200);
    const r = await collector.waitFor(
      (x) => ids.every((id) => x.spans().some((s) => s.spanId === id)),
      15_000,
    );

    // Assess
    const requests = ids.map((id) => r.spans().find((s) => s.spanId === id)?.request);
    expect(r.traces.length).toBe(before + 3);
    expect(requests).toEqual([before, before + 1, before + 2]);
  });

  it('counts every request exactly once when hundreds arrive concurrently', async () => {
    // Prepare
    const ids = Array.from({ length: 500 }, () => randomBytes(8).toString('hex'));
    const before = (await collector.received()).traces.length;

    // Act: 50 at a time, so the exporter is appending while the helper reads.
    const reads: number[] = [];
    for (let i = 0; i < ids.length; i += 50) {
      const statuses = await Promise.all(
        ids.slice(i, i + 50).map(async (id) => (await postJsonTraces(collector.httpEndpoint, id)).status),
      );
      expect(statuses.every((st) => st === 200)).toBe(true);
      reads.push((await collector.received()).traces.length);
    }
    const r = await collector.waitFor((x) => x.traces.length === before + ids.length, 30_000);

    // Assess
    const seen = r.spans().filter((s) => ids.includes(s.spanId));
    expect(seen).toHaveLength(ids.length);
    expect(new Set(seen.map((s) => s.spanId)).size).toBe(ids.length);
    expect(new Set(seen.map((s) => s.request)).size).toBe(ids.length);
    expect(reads).toEqual([...reads].sort((a, b) => a - b));
  });

  it('receives metrics and logs from the SDK, flattened with their attributes', async () => {
    // Prepare
    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${collector.httpEndpoint}/v1/metrics` }),
      exportIntervalMillis: 3_600_000,
    });
    const meters = new MeterProvider({ resource, readers: [reader] });
    const logs = new LoggerProvider({
      resource,
      processors: [
        new SimpleLogRecordProcessor(new OTLPLogExporter({ url: `${collector.httpEndpoint}/v1/logs` })),
      ],
    });
    const marker = randomBytes(6).toString('hex');

    // Act
    meters.getMeter('peers-test').createCounter('peers.test.count').add(5, { marker });
    logs
      .getLogger('peers-test')
      .emit({ body: `hello ${marker}`, severityText: 'INFO', attributes: { marker } });
    await meters.forceFlush();
    await logs.forceFlush();
    await meters.shutdown();
    await logs.shutdown();
    const r = await collector.waitFor(
      (x) =>
        x.dataPoints().some((p) => p.attributes.marker === marker) &&
        x.logRecords().some((l) => l.attributes.marker === marker),
      15_000,
    );

    // Assess
    const point = r.dataPoints().find((p) => p.attributes.marker === marker);
    expect(point).toMatchObject({ metric: 'peers.test.count', type: 'sum', value: 5 });
    expect(r.logRecords().find((l) => l.attributes.marker === marker)).toMatchObject({
      body: `hello ${marker}`,
      severityText: 'INFO',
    });
  });

  it('rejects at the deadline naming what did arrive when the awaited data never comes', async () => {
    await expect(collector.waitFor((x) => x.spans().some((s) => s.spanId === 'never'), 300)).rejects.toThrow(
      /did not receive what the test waited for within 300 ms; it has \d+ trace requests/,
    );
  });
});

describe('startCollector lifecycle', () => {
  it('comes back on the same ports after restart and keeps what it had received', async () => {
    // Prepare
    const collector = await startCollector();
    try {
      const first = randomBytes(8).toString('hex');
      await postJsonTraces(collector.httpEndpoint, first);
      await collector.waitFor((x) => x.spans().some((s) => s.spanId === first), 15_000);
      const { httpEndpoint, grpcEndpoint } = collector;

      // Act
      collector.kill('SIGKILL');
      const whileDown = await postJsonTraces(httpEndpoint, 'ffffffffffffffff').then(
        () => 'answered',
        () => 'refused',
      );
      await collector.restart();
      const second = randomBytes(8).toString('hex');
      const res = await postJsonTraces(httpEndpoint, second);
      const r = await collector.waitFor((x) => x.spans().some((s) => s.spanId === second), 15_000);

      // Assess
      expect(whileDown).toBe('refused');
      expect(res.status).toBe(200);
      expect(collector.httpEndpoint).toBe(httpEndpoint);
      expect(collector.grpcEndpoint).toBe(grpcEndpoint);
      expect(r.spans().map((s) => s.spanId)).toEqual(expect.arrayContaining([first, second]));
    } finally {
      await collector.stop();
    }
  });

  it('applies extra YAML over the generated configuration', async () => {
    // Prepare: detailed debug output prints every span's name to the collector's log.
    const collector = await startCollector({
      extraConfig: 'exporters:\n  debug:\n    verbosity: detailed\n',
    });
    try {
      const spanId = randomBytes(8).toString('hex');

      // Act
      await postJsonTraces(collector.httpEndpoint, spanId);
      await collector.waitFor((x) => x.spans().some((s) => s.spanId === spanId), 15_000);

      // Assess: the file exporter may have written before the debug exporter's output reached us.
      await expect(collector.waitForLogs((l) => l.includes(spanId), 15_000)).resolves.toContain(spanId);
    } finally {
      await collector.stop();
    }
  });
});
