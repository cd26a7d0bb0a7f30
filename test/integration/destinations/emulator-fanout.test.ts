// From the emulator with the real built layer: a function's spans fan out to the collector (otlp)
// and to a real Zipkin server, each read back through its own API; with Zipkin dead the collector
// still gets every span within the same invocations and the final ledger line balances for each
// destination; and the filter processor's removals never reach either destination.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { pollUntil } from '../../helpers/peer-process.js';
import { startZipkin, type ZipkinPeer } from '../../helpers/zipkin.js';
import { collect, emptyIds, useRelaySuite } from '../extension/harness.js';
import { expectBalanced, finalLedger } from './ledger.js';

describe('destinations from the emulator with the real layer', () => {
  const suite = useRelaySuite();
  let zipkin: ZipkinPeer;
  beforeAll(async () => {
    zipkin = await startZipkin();
  }, 120_000);
  afterAll(async () => {
    await zipkin?.stop();
  });
  printLogsOnFailure('zipkin', () => zipkin);

  async function zipkinSpanIds(service: string): Promise<string[]> {
    const r = await zipkin.get(
      `/api/v2/traces?serviceName=${encodeURIComponent(service)}&limit=1000&lookback=3600000`,
    );
    if (r.status !== 200) return [];
    return (JSON.parse(r.text) as Array<Array<{ id: string }>>).flat().map((s) => s.id);
  }

  it('delivers every span to both the collector and Zipkin', async () => {
    // Prepare
    const functionName = `fan-${Date.now()}`;
    const relay = await suite.start({
      flush: 'end',
      config: { functionName },
      env: { OTEL_RELAY_TRACES_EXPORTER: 'otlp,zipkin', OTEL_RELAY_ZIPKIN_ENDPOINT: zipkin.spansEndpoint },
    });
    const sent = emptyIds();
    // Act
    for (let i = 0; i < 3; i++)
      collect(sent, (await relay.env.invoke({ tag: `${functionName}-${i}`, spans: 2 })).response);
    await relay.env.shutdown();
    // Assess
    const received = await suite.collector.waitFor(
      (r) => sent.spanIds.every((id) => r.spans().some((s) => s.spanId === id)),
      20_000,
    );
    expect(received.spans().filter((s) => sent.spanIds.includes(s.spanId))).toHaveLength(6);
    let inZipkin: string[] = [];
    await pollUntil(
      'zipkin spans',
      async () => {
        inZipkin = await zipkinSpanIds(functionName);
        return sent.spanIds.every((id) => inZipkin.includes(id));
      },
      { timeoutMs: 20_000 },
    );
    expect(inZipkin.filter((id) => sent.spanIds.includes(id)).sort()).toEqual([...sent.spanIds].sort());
  });

  it('with Zipkin dead, the collector still gets every span at each invocation end', async () => {
    // Prepare
    const functionName = `fan-dead-${Date.now()}`;
    const relay = await suite.start({
      flush: 'end',
      config: { functionName },
      env: {
        OTEL_RELAY_TRACES_EXPORTER: 'otlp,zipkin',
        OTEL_RELAY_ZIPKIN_ENDPOINT: 'http://127.0.0.1:9/api/v2/spans',
      },
    });
    // Act + Assess: each invocation's spans are at the collector when it returns.
    for (let i = 0; i < 3; i++) {
      const ids = emptyIds();
      collect(ids, (await relay.env.invoke({ tag: `${functionName}-${i}`, spans: 2 })).response);
      await suite.collector.waitFor(
        (r) => ids.spanIds.every((id) => r.spans().some((s) => s.spanId === id)),
        5_000,
      );
    }
    await relay.env.shutdown();
    // Assess: the final "shut down" line balances per destination. Zipkin took nothing: what it was
    // offered is spilled (the fallback), and none of it is lost.
    const ledger = finalLedger(relay.env.output());
    expectBalanced(ledger);
    const { otlp, zipkin: dead } = ledger.destinations ?? {};
    expect(otlp?.offered.traces).toBe(6);
    expect(otlp?.exported.traces).toBe(6);
    expect(dead?.offered.traces).toBe(6);
    expect(dead?.exported.traces).toBe(0);
    expect(dead?.spilled.traces).toBe(6);
    expect(dead?.dropped.traces).toBe(0);
  });

  it('the filter processor keeps matching spans out of every destination', async () => {
    // Prepare
    const functionName = `fan-filter-${Date.now()}`;
    const relay = await suite.start({
      flush: 'end',
      config: { functionName },
      env: {
        OTEL_RELAY_TRACES_EXPORTER: 'otlp,zipkin',
        OTEL_RELAY_ZIPKIN_ENDPOINT: zipkin.spansEndpoint,
        OTEL_RELAY_TRACES_PROCESSORS: 'filter',
        OTEL_RELAY_FILTER_SPAN_NAMES: '.*-span-1',
      },
    });
    const sent = emptyIds();
    // Act
    for (let i = 0; i < 2; i++)
      collect(sent, (await relay.env.invoke({ tag: `${functionName}-${i}`, spans: 2 })).response);
    await relay.env.shutdown();
    // Assess: span 0 of each invocation arrives, span 1 never does.
    const kept = sent.spanIds.filter((_, i) => i % 2 === 0);
    const removed = sent.spanIds.filter((_, i) => i % 2 === 1);
    const received = await suite.collector.waitFor(
      (r) => kept.every((id) => r.spans().some((s) => s.spanId === id)),
      20_000,
    );
    expect(received.spans().filter((s) => removed.includes(s.spanId))).toEqual([]);
    let inZipkin: string[] = [];
    await pollUntil(
      'zipkin spans',
      async () => {
        inZipkin = await zipkinSpanIds(functionName);
        return kept.every((id) => inZipkin.includes(id));
      },
      { timeoutMs: 20_000 },
    );
    expect(inZipkin.filter((id) => removed.includes(id))).toEqual([]);
    // The filter's removals are `filtered` at the top and never offered to a destination.
    const ledger = finalLedger(relay.env.output());
    expectBalanced(ledger);
    expect(ledger.filtered.traces).toBe(removed.length);
    for (const name of ['otlp', 'zipkin'])
      expect(ledger.destinations?.[name]?.offered.traces).toBe(kept.length);
  });
});
