import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { exportWithPythonSdk } from '../../helpers/python-otel.js';

describe('exportWithPythonSdk', () => {
  let collector: CollectorPeer;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector?.stop();
  });
  printLogsOnFailure('otelcol', () => collector);

  for (const protocol of ['http/protobuf', 'grpc'] as const) {
    it(`delivers spans, logs and a metric to the collector over ${protocol}`, async () => {
      // Prepare
      const service = `py-${protocol.replace('/', '-')}`;
      const endpoint = protocol === 'grpc' ? collector.grpcEndpoint : collector.httpEndpoint;

      // Act
      const out = await exportWithPythonSdk({
        endpoint,
        protocol,
        spans: 3,
        logs: 2,
        metrics: true,
        service,
      });
      const r = await collector.waitFor(
        (x) =>
          out.spanIds.every((id) => x.spans().some((s) => s.spanId === id)) &&
          x.logRecords().filter((l) => l.resource['service.name'] === service).length === 2 &&
          x.dataPoints().some((p) => p.resource['service.name'] === service),
        15_000,
      );

      // Assess
      expect(out.ok).toBe(true);
      expect(out.spanIds).toHaveLength(3);
      const spans = r.spans().filter((s) => out.spanIds.includes(s.spanId));
      expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([out.traceId]));
      expect(spans.find((s) => s.name === 'python-root')?.resource['service.name']).toBe(service);
      const bodies = r
        .logRecords()
        .filter((l) => l.resource['service.name'] === service)
        .map((l) => l.body);
      expect(bodies.sort()).toEqual(out.logBodies.sort());
      expect(r.dataPoints().find((p) => p.resource['service.name'] === service)).toMatchObject({
        metric: 'python.count',
        value: 3,
      });
    });
  }

  it('reports failed exports when nothing listens', async () => {
    // Port 1 is privileged and never ours: connection refused.
    const out = await exportWithPythonSdk({
      endpoint: 'http://127.0.0.1:1',
      protocol: 'http/protobuf',
      spans: 1,
      timeoutS: 1,
    });
    expect(out.ok).toBe(false);
    expect(out.exported.traces).toEqual({ ok: 0, failed: 1 });
  });
});
