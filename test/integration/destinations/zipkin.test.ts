// The zipkin destination against the real Zipkin server: every span it sends is read back through
// Zipkin's query API with the mapping the OpenTelemetry specification asks for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDestination } from '../../../src/extension/destinations/zipkin/index.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { pollUntil } from '../../helpers/peer-process.js';
import { startZipkin, type ZipkinPeer } from '../../helpers/zipkin.js';
import { budget, clock, memoryLog, tracesRequest } from './fixtures.js';

describe('zipkin destination with the real Zipkin server', () => {
  let zipkin: ZipkinPeer;
  beforeAll(async () => {
    zipkin = await startZipkin();
  }, 120_000);
  afterAll(async () => {
    await zipkin?.stop();
  });
  printLogsOnFailure('zipkin', () => zipkin);

  it('delivers every span, readable by trace id with ids, kind, service, tags, error and annotations', async () => {
    // Prepare
    const dest = createDestination({
      env: { OTEL_RELAY_ZIPKIN_ENDPOINT: zipkin.spansEndpoint },
      clock,
      log: memoryLog(),
    });
    const req = tracesRequest('checkout-fn', undefined, 3);
    // Act
    const outcome = await dest.export('traces', req.body, budget());
    // Assess
    expect(outcome).toEqual({ kind: 'success' });
    let stored: Array<Record<string, unknown>> = [];
    await pollUntil(
      'zipkin trace',
      async () => {
        stored = await zipkin.trace(req.traceId);
        return stored.length === 4;
      },
      { timeoutMs: 10_000 },
    );
    const root = stored.find((s) => s.id === req.rootId)!;
    expect(root).toMatchObject({
      traceId: req.traceId,
      name: 'get /orders',
      kind: 'SERVER',
      duration: 50_000,
      localEndpoint: { serviceName: 'checkout-fn' },
      tags: {
        'http.route': '/orders',
        'http.response.status_code': '500',
        'otel.status_code': 'ERROR',
        error: 'boom',
        'otel.scope.name': 'test-scope',
        'faas.name': 'checkout-fn',
      },
    });
    expect(root.annotations).toEqual([expect.objectContaining({ value: '"cache miss":{"k":"v"}' })]);
    expect(root.timestamp).toBe(Number(BigInt(req.spans[0]!.startTimeUnixNano) / 1000n));
    const children = stored.filter((s) => s.parentId === req.rootId);
    expect(children).toHaveLength(3);
    expect(children.filter((s) => s.kind === 'CLIENT')).toEqual([
      expect.objectContaining({ remoteEndpoint: { serviceName: 'db' } }),
    ]);
  });

  it('classifies a dead endpoint as retryable right away and a refused body as failed', async () => {
    // Prepare
    const dead = createDestination({
      env: { OTEL_RELAY_ZIPKIN_ENDPOINT: 'http://127.0.0.1:9/api/v2/spans' },
      clock,
      log: memoryLog(),
    });
    const wrongPath = createDestination({
      env: { OTEL_RELAY_ZIPKIN_ENDPOINT: `${zipkin.url}/api/v2/nothing` },
      clock,
      log: memoryLog(),
    });
    const req = tracesRequest('dead-fn');
    // Act
    const deadOutcome = await dead.export('traces', req.body, budget());
    const wrongOutcome = await wrongPath.export('traces', req.body, budget());
    // Assess
    expect(deadOutcome).toMatchObject({ kind: 'retryable', notThisFlush: true });
    expect(wrongOutcome).toMatchObject({ kind: 'failed', status: 404 });
  });

  it('refuses to start without its endpoint, naming the variable', () => {
    expect(() => createDestination({ env: {}, clock, log: memoryLog() })).toThrow(
      /OTEL_RELAY_ZIPKIN_ENDPOINT is required/,
    );
  });
});
