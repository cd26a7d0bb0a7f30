import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/extension/clock.js';
import { createOtlpExporter, parseRetryAfter } from '../../../src/extension/export/otlp-exporter.js';
import type { FlushBudget, Logger, SignalExporter } from '../../../src/extension/export/types.js';
import { createFallbackDelivery } from '../../../src/extension/fallback/index.js';
import { loadConfig } from '../../../src/extension/settings/index.js';
import { encodeExportResponse } from '../../../src/otlp/index.js';
import { type FakeCollector, startFakeCollector, traceRequest } from './fakes.js';

let collector: FakeCollector;
beforeEach(async () => {
  collector = await startFakeCollector();
});
afterEach(async () => {
  await collector.close();
});

const silentLog: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const budget = (ms: number, abort = new AbortController().signal): FlushBudget => ({
  deadline: Date.now() + ms,
  abort,
  reason: 'invoke',
});

function exporterFor(env: Record<string, string> = {}) {
  const { config } = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, ...env });
  return createOtlpExporter(config.exporters, systemClock);
}

describe('OTLP/HTTP exporter', () => {
  it('sends gzip protobuf with the configured headers to /v1/<signal> and reports success', async () => {
    const ex = exporterFor({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0k' });
    const out = await ex.export('traces', await traceRequest(3), budget(2000));
    expect(out).toEqual({ kind: 'success' });
    expect(collector.requests[0]).toMatchObject({ path: '/v1/traces', items: 3 });
    expect(collector.requests[0]!.headers['content-encoding']).toBe('gzip');
    expect(collector.requests[0]!.headers.authorization).toBe('Bearer t0k');
    ex.close();
  });

  it('reports partial success with the collector’s count and message', async () => {
    collector.respond = () => ({
      status: 200,
      headers: { 'content-type': 'application/x-protobuf' },
      body: encodeExportResponse('traces', { rejected: 2, message: 'too old' }),
    });
    const ex = exporterFor();
    expect(await ex.export('traces', await traceRequest(3), budget(2000))).toEqual({
      kind: 'partial',
      rejected: 2,
      message: 'too old',
    });
    ex.close();
  });

  it('classifies 429/503 as retryable with Retry-After and 400 as failed', async () => {
    const ex = exporterFor();
    collector.respond = () => ({ status: 503, headers: { 'retry-after': '2' } });
    expect(await ex.export('traces', await traceRequest(1), budget(2000))).toMatchObject({
      kind: 'retryable',
      status: 503,
      retryAfterMs: 2000,
    });
    collector.respond = () => ({ status: 400, body: Buffer.from('bad data') });
    expect(await ex.export('traces', await traceRequest(1), budget(2000))).toMatchObject({
      kind: 'failed',
      status: 400,
      reason: expect.stringContaining('bad data'),
    });
    ex.close();
  });

  it('gives up at the budget deadline and when the budget is aborted, without waiting for the collector', async () => {
    collector.delayMs = 5_000;
    const ex = exporterFor();
    const timed = await ex.export('traces', await traceRequest(1), budget(100));
    expect(timed).toMatchObject({ kind: 'retryable', reason: expect.stringMatching(/no answer within/) });
    const ctrl = new AbortController();
    const pending = ex.export('traces', await traceRequest(1), budget(5_000, ctrl.signal));
    setTimeout(() => ctrl.abort(), 20);
    expect(await pending).toMatchObject({ kind: 'retryable', reason: expect.stringMatching(/aborted/) });
    expect(await ex.export('traces', await traceRequest(1), budget(-1))).toMatchObject({
      kind: 'retryable',
      reason: 'flush budget exhausted before sending',
    });
    ex.close();
  });

  it('reports a refused connection as retryable, but not within this flush, over HTTP and gRPC', async () => {
    const url = collector.url;
    await collector.close();
    for (const protocol of ['http/protobuf', 'grpc']) {
      const { config } = loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      });
      const ex = createOtlpExporter(config.exporters, systemClock);
      // Nothing listens: retrying within milliseconds finds the same, so the flush moves on to the fallback.
      expect(await ex.export('metrics', await traceRequest(1), budget(2000)), protocol).toEqual({
        kind: 'retryable',
        reason: expect.stringMatching(/ECONNREFUSED/),
        notThisFlush: true,
      });
      ex.close();
    }
    collector = await startFakeCollector();
  });

  it('retries a refused connection in a later flush, not in this one, and counts it toward the breaker', async () => {
    const url = collector.url;
    await collector.close();
    const spoolDir = mkdtempSync(join(tmpdir(), 'refused-spool-'));
    const { config } = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: url });
    const inner = createOtlpExporter(config.exporters, systemClock);
    let attempts = 0;
    const exporter: SignalExporter = {
      export: (signal, body, b) => {
        attempts++;
        return inner.export(signal, body, b);
      },
      resetConnections: () => inner.resetConnections(),
      close: () => inner.close(),
    };
    const delivery = createFallbackDelivery(
      { exporter, env: { OTEL_RELAY_SPOOL_DIR: spoolDir }, clock: systemClock, log: silentLog },
      {},
    );
    const body = await traceRequest(2);
    for (let i = 0; i < 3; i++) {
      const res = await delivery.deliver(
        { signal: 'traces', body, items: 2, oldestAcceptedAt: Date.now() },
        budget(2000),
      );
      expect(res).toMatchObject({ kind: 'spilled', items: 2 });
    }
    expect(attempts).toBe(3);
    expect(delivery.collectorBreaker.state).toBe('open');
    inner.close();
    rmSync(spoolDir, { recursive: true, force: true });
    collector = await startFakeCollector();
  });
});

describe('TLS files', () => {
  it('reports an unreadable CA file as retryable (the batch is kept, not dropped) for HTTP and gRPC', async () => {
    for (const protocol of ['http/protobuf', 'grpc']) {
      const { config } = loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:9',
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/relay-ca.pem',
      });
      const ex = createOtlpExporter(config.exporters, systemClock);
      const out = await ex.export('traces', await traceRequest(1), budget(2000));
      expect(out.kind).toBe('retryable');
      expect(out.kind === 'retryable' && out.reason).toMatch(/TLS file unreadable.*relay-ca\.pem/);
      ex.close();
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});
