// Compatibility: what the extension spills to S3 is re-ingested by the OpenTelemetry Collector's own
// awss3receiver (real collector, real S3 server), span ids intact. This is the layout promise of
// awss3exporter keys (otlp_proto, gzip), readable by the collector without our `replay`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger, SignalExporter } from '../../../src/extension/export/index.js';
import { createFallbackDelivery } from '../../../src/extension/fallback/index.js';
import { startCollector } from '../../helpers/collector.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { type S3Peer, startS3 } from '../../helpers/s3.js';
import { tracesRequest } from './otlp-fixtures.js';

let s3: S3Peer;
beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket('reingest');
});
afterAll(async () => {
  await s3?.stop();
});
printLogsOnFailure('s3', () => s3);

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const deadCollector: SignalExporter = {
  export: async () => ({ kind: 'retryable', reason: 'connect ECONNREFUSED' }),
  resetConnections() {},
  close() {},
};

const minute = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

describe('S3 spill read back by the collector awss3receiver', () => {
  it('re-ingests spilled spans with their ids', async () => {
    // Prepare: two spilled batches, with and without a file prefix mismatch guard (none configured).
    const delivery = createFallbackDelivery(
      {
        exporter: deadCollector,
        env: {
          ...s3.env,
          OTEL_RELAY_FALLBACK_S3_URI: 's3://reingest/relay/fallback',
          OTEL_RELAY_S3_ENDPOINT: s3.endpoint,
          OTEL_RELAY_SPOOL_DIR: '/nonexistent/never-used',
        },
        clock: { now: Date.now, monotonic: () => performance.now() },
        log: quiet,
      },
      {},
    );
    const started = Date.now();
    const a = await tracesRequest(['r1', 'r2']);
    const b = await tracesRequest(['r3']);
    for (const [req, items] of [
      [a, 2],
      [b, 1],
    ] as const) {
      const res = await delivery.deliver(
        { signal: 'traces', body: req.body, items, oldestAcceptedAt: Date.now() },
        { deadline: Date.now() + 5000, abort: new AbortController().signal, reason: 'shutdown' },
      );
      expect(res.kind).toBe('spilled');
    }

    // Act
    const collector = await startCollector({
      env: s3.env,
      awss3: {
        endpoint: s3.endpoint,
        bucket: 'reingest',
        prefix: 'relay/fallback',
        startTime: minute(started - 60_000),
        endTime: minute(Date.now() + 120_000),
      },
    });
    try {
      // Assess
      const got = await collector.waitFor((r) => r.spans().length >= 3, 30_000);
      expect(
        got
          .spans()
          .map((s) => s.spanId)
          .sort(),
      ).toEqual([...a.spanIds, ...b.spanIds].sort());
    } finally {
      await collector.stop();
    }
  });
});
