// Layer-only mode: a function with no OpenTelemetry SDK still gets an invocation span per request, an
// init span, FaaS metrics and its log lines as OTLP logs, made by the relay from the Telemetry API.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvocationResult } from '../../../src/local/index.js';
import type { CollectorPeer } from '../../helpers/collector.js';
import { repoRoot, useRelaySuite } from './harness.js';

describe('layer-only mode in the emulator', () => {
  const suite = useRelaySuite();

  it('produces one span and its log line per invocation, an init span and FaaS metrics, from platform events only', async () => {
    // Prepare
    const functionName = `plain-${Date.now()}`;
    const relay = await suite.start({
      flush: 'end',
      env: { OTEL_RELAY_PLATFORM_TELEMETRY: 'true', OTEL_RELAY_SELF_TELEMETRY: 'false' },
      config: { codeDir: resolve(repoRoot, 'test/fixtures/extension/plain'), functionName },
    });
    // Act
    const results: InvocationResult[] = [];
    for (let i = 0; i < 5; i++)
      results.push(await relay.env.invoke({ tag: `${functionName}-${i}`, fail: i === 3 }));
    await relay.env.shutdown();
    // Assess
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success', 'error', 'success']);
    const mine = (r: Awaited<ReturnType<CollectorPeer['received']>>) =>
      r.spans().filter((s) => s.resource['service.name'] === functionName);
    const invocationCount = (r: Awaited<ReturnType<CollectorPeer['received']>>) =>
      r
        .dataPoints()
        .filter((p) => p.metric === 'faas.invocations' && p.resource['service.name'] === functionName)
        .reduce((n, p) => n + Number(p.value), 0);
    const logCount = (r: Awaited<ReturnType<CollectorPeer['received']>>) =>
      r.logRecords().filter((l) => String(l.body).startsWith(`plain-log ${functionName}`)).length;
    // Signals are separate export requests: wait for all three to have arrived.
    const received = await suite.collector.waitFor(
      (r) => mine(r).length >= 6 && invocationCount(r) >= 5 && logCount(r) >= 5,
      20_000,
    );
    const spans = mine(received);
    const invocationSpans = spans.filter((s) => s.name === functionName);
    expect(invocationSpans.map((s) => s.attributes['faas.invocation_id']).sort()).toEqual(
      results.map((r) => r.requestId).sort(),
    );
    expect(spans.filter((s) => s.name === `${functionName} init`)).toHaveLength(1);
    const failed = invocationSpans.find((s) => s.attributes['faas.invocation_id'] === results[3]!.requestId);
    expect(failed?.raw).toMatchObject({ status: { code: 2 } });
    const logs = received.logRecords().filter((l) => String(l.body).startsWith(`plain-log ${functionName}`));
    expect(logs.map((l) => String(l.body)).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => `plain-log ${functionName}-${i}`),
    );
    // Each log record is in the trace of its invocation span.
    for (const l of logs)
      expect(invocationSpans.some((s) => s.traceId === l.traceId && s.spanId === l.spanId)).toBe(true);
    // The last report comes around SHUTDOWN; the relay waits briefly for it.
    expect(invocationCount(received)).toBe(5);
  });
});
