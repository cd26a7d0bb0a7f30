// Every span, log record and metric point the function sends reaches the real collector exactly once,
// over many invocations, under each flush strategy and with each client protocol.
import { describe, expect, it } from 'vitest';
import { collect, emptyIds, expectExactlyOnce, requestsWithSpans, useRelaySuite } from './harness.js';

describe('relay delivery in the emulator', () => {
  const suite = useRelaySuite();

  const cases = [
    { flush: 'end', protocol: 'proto' },
    { flush: 'periodic:400', protocol: 'proto' },
    { flush: 'continuous', protocol: 'proto' },
    { flush: 'adaptive', protocol: 'proto' },
    { flush: 'adaptive', protocol: 'json' },
    { flush: 'periodic:400', protocol: 'grpc' },
  ] as const;
  for (const c of cases) {
    it(`delivers every span, log record and point exactly once under ${c.flush} with OTLP ${c.protocol}`, async () => {
      // Prepare
      const relay = await suite.start({ flush: c.flush, protocol: c.protocol });
      const sent = emptyIds();
      // Act
      for (let i = 0; i < 12; i++) {
        const r = await relay.env.invoke({
          tag: `${c.flush}-${c.protocol}-${i}-${Date.now()}`,
          spans: 3,
          logs: 2,
          points: 2,
        });
        expect(r.status).toBe('success');
        collect(sent, r.response);
      }
      const shutdown = await relay.env.shutdown();
      // Assess
      expect(sent.spanIds).toHaveLength(36);
      await expectExactlyOnce(suite.collector, sent);
      expect(shutdown.extensions).toEqual([
        expect.objectContaining({ name: 'otel-relay', state: 'Exited', exitCode: 0 }),
      ]);
    });
  }

  it('exports to the collector over OTLP/gRPC, and over OTLP/HTTP without compression', async () => {
    const variants: Record<string, string>[] = [
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: suite.collector.grpcEndpoint },
      { OTEL_EXPORTER_OTLP_COMPRESSION: 'none' },
    ];
    for (const env of variants) {
      const relay = await suite.start({ flush: 'end', env });
      const sent = emptyIds();
      for (let i = 0; i < 4; i++) {
        collect(
          sent,
          (await relay.env.invoke({ tag: `exp-${i}-${Date.now()}`, spans: 2, logs: 1, points: 1 })).response,
        );
      }
      await relay.env.shutdown();
      await expectExactlyOnce(suite.collector, sent);
      await relay.env.dispose();
    }
  });

  it('batches across invocations under periodic and adaptive: far fewer collector requests than invocations', async () => {
    // Long intervals, so the count does not depend on how fast this machine runs the invocations.
    for (const flush of ['periodic:5000', 'adaptive']) {
      const relay = await suite.start({
        flush,
        env: { OTEL_RELAY_BATCH_AGE_MS: '5000', OTEL_RELAY_MAX_AGE_MS: '120000' },
      });
      const sent = emptyIds();
      const invocations = 30;
      for (let i = 0; i < invocations; i++) {
        const r = await relay.env.invoke({ tag: `batch-${flush}-${i}-${Date.now()}`, spans: 1 });
        collect(sent, r.response);
      }
      await relay.env.shutdown();
      const received = await expectExactlyOnce(suite.collector, sent);
      const requests = requestsWithSpans(received, sent.spanIds);
      expect(requests).toBeLessThanOrEqual(invocations / 3);
      await relay.env.dispose();
    }
  });

  it('keeps data across a freeze and delivers it at SHUTDOWN when no flush was due', async () => {
    const relay = await suite.start({ flush: 'periodic:600000' });
    const first = await relay.env.invoke({ tag: `freeze-${Date.now()}`, spans: 2, logs: 1 });
    const sent = emptyIds();
    collect(sent, first.response);
    // Several freeze/thaw cycles with the data still only in the extension's memory.
    for (let i = 0; i < 3; i++)
      collect(sent, (await relay.env.invoke({ tag: `freeze-${i}-${Date.now()}`, spans: 1 })).response);
    const before = await suite.collector.received();
    expect(before.spans().filter((s) => sent.spanIds.includes(s.spanId))).toEqual([]);
    await relay.env.shutdown();
    await expectExactlyOnce(suite.collector, sent);
  });

  it('waits for platform.runtimeDone when the function sends no done signal', async () => {
    const relay = await suite.start({ flush: 'end', env: { FIXTURE_DONE: '0' } });
    const sent = emptyIds();
    for (let i = 0; i < 4; i++) {
      const r = await relay.env.invoke({ tag: `nodone-${i}-${Date.now()}`, spans: 2 });
      collect(sent, r.response);
    }
    // Under `end`, each invocation's spans left before its `next`: all are at the collector before SHUTDOWN.
    await expectExactlyOnce(suite.collector, sent);
    await relay.env.shutdown();
  });
});
