// Each processor once from the emulator with the real built layer, in its own environment, read back
// from the real collector (the filter processor's end-to-end test is in emulator-fanout.test.ts, where
// it runs in front of two destinations). What a processor removes is `filtered` in the final ledger,
// which still balances.
import { describe, expect, it } from 'vitest';
import { collect, emptyIds, type RelayEnv, useRelaySuite } from '../extension/harness.js';
import { finalLedger } from './ledger.js';

/** Invokes the fixture `n` times with `spans` spans each; returns the span ids and request ids. */
async function invoke(relay: RelayEnv, tag: string, n: number, spans: number) {
  const sent = emptyIds();
  const requestIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await relay.env.invoke({ tag: `${tag}-${i}`, spans });
    expect(r.status).toBe('success');
    collect(sent, r.response);
    requestIds.push(r.requestId);
  }
  return { spanIds: sent.spanIds, requestIds };
}

/** One OTLP/JSON traces request with a span per trace id, all named after `tag`. */
function tracesJson(tag: string, traceIds: string[]): string {
  const t = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: tag } }] },
        scopeSpans: [
          {
            scope: { name: 'e2e' },
            spans: traceIds.map((traceId, i) => ({
              traceId,
              spanId: `${traceId.slice(0, 8)}${String(i).padStart(8, '0')}`,
              name: `${tag}-${i}`,
              kind: 1,
              startTimeUnixNano: String(t),
              endTimeUnixNano: String(t + 1_000_000n),
            })),
          },
        ],
      },
    ],
  });
}

describe('processors from the emulator with the real layer', () => {
  const suite = useRelaySuite();

  it('redact (hash): the matched attribute reaches the collector only as a salted sha256, equal values alike', async () => {
    // Prepare
    const relay = await suite.start({
      flush: 'end',
      env: {
        OTEL_RELAY_TRACES_PROCESSORS: 'redact',
        OTEL_RELAY_REDACT_KEYS: 'faas\\.invocation_.*',
        OTEL_RELAY_REDACT_MODE: 'hash',
        OTEL_RELAY_REDACT_SALT: 'e2e-salt',
      },
    });
    // Act
    const { spanIds, requestIds } = await invoke(relay, `redact-${Date.now()}`, 2, 2);
    await relay.env.shutdown();
    // Assess
    const received = await suite.collector.waitFor(
      (r) => spanIds.every((id) => r.spans().some((s) => s.spanId === id)),
      20_000,
    );
    const spans = received.spans().filter((s) => spanIds.includes(s.spanId));
    expect(spans).toHaveLength(4);
    const values = spans.map((s) => String(s.attributes['faas.invocation_id']));
    for (const v of values) expect(v).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The two spans of one invocation carry the same request id, so the same hash; the invocations differ.
    const byInvocation = spanIds.map((id) => values[spans.findIndex((s) => s.spanId === id)]);
    expect(byInvocation[0]).toBe(byInvocation[1]);
    expect(byInvocation[2]).toBe(byInvocation[3]);
    expect(byInvocation[0]).not.toBe(byInvocation[2]);
    // No request id is anywhere in what the collector received for these spans.
    const text = JSON.stringify(spans);
    for (const id of requestIds) expect(text).not.toContain(id);
    const ledger = finalLedger(relay.env.output());
    expect(ledger.filtered.traces).toBe(0);
    expect(ledger.exported.traces).toBe(4);
  });

  it('sample: two environments keep the same traces, exactly those whose trace id randomness passes the ratio', async () => {
    // Prepare: at ratio 0.5 a trace is kept when the last 56 bits of its id are at least 2^55, the
    // consistent probability sampling rule; half the ids are above the threshold, half below.
    const tag = `sample-${Date.now()}`;
    const prefix = (i: number) => `${String(i).padStart(2, '0')}${'ab'.repeat(8)}`.slice(0, 18);
    const keep = [0, 1, 2, 3].map((i) => `${prefix(i)}${'8'}${'0'.repeat(12)}${i}`);
    const drop = [4, 5, 6, 7].map((i) => `${prefix(i)}${'7'}${'f'.repeat(12)}${i}`);
    const body = Buffer.from(tracesJson(tag, [...keep, ...drop])).toString('base64');
    const env = { OTEL_RELAY_TRACES_PROCESSORS: 'sample', OTEL_RELAY_SAMPLE_RATIO: '0.5' };
    const ledgers = [];
    // Act
    for (const environment of ['a', 'b']) {
      const relay = await suite.start({ flush: 'end', env });
      const r = await relay.env.invoke({
        tag: `${tag}-${environment}`,
        spans: 0,
        raw: [{ path: '/v1/traces', contentType: 'application/json', bodyBase64: body }],
      });
      expect((r.response as { raw: Array<{ status: number }> }).raw[0]!.status).toBe(200);
      await relay.env.shutdown();
      ledgers.push(finalLedger(relay.env.output()));
    }
    // Assess: each environment exported exactly the 4 kept traces, and the collector has those.
    const received = await suite.collector.waitFor(
      (r) => r.spans().filter((s) => s.name.startsWith(tag)).length >= 2 * keep.length,
      20_000,
    );
    const mine = received.spans().filter((s) => s.name.startsWith(tag));
    expect(mine.map((s) => s.traceId).sort()).toEqual([...keep, ...keep].sort());
    for (const l of ledgers) {
      expect(l.received.traces).toBe(8);
      expect(l.exported.traces).toBe(4);
      expect(l.filtered.traces).toBe(4);
    }
  });

  it('ratelimit: at 1 item/s a batch of 10 spans lets the first through and counts 9 as filtered', async () => {
    // Prepare: the bucket never holds more than one second of the rate (1 token), so one batch passes
    // exactly one item whatever the timing.
    const relay = await suite.start({
      flush: 'end',
      env: { OTEL_RELAY_TRACES_PROCESSORS: 'ratelimit', OTEL_RELAY_RATELIMIT_ITEMS_PER_SECOND: '1' },
    });
    // Act
    const { spanIds } = await invoke(relay, `ratelimit-${Date.now()}`, 1, 10);
    await relay.env.shutdown();
    // Assess
    const ledger = finalLedger(relay.env.output());
    expect(ledger.received.traces).toBe(10);
    expect(ledger.exported.traces).toBe(1);
    expect(ledger.filtered.traces).toBe(9);
    expect(ledger.dropped.traces).toBe(0);
    await suite.collector.waitFor((r) => r.spans().some((s) => s.spanId === spanIds[0]), 20_000);
    const arrived = (await suite.collector.received()).spans().filter((s) => spanIds.includes(s.spanId));
    expect(arrived.map((s) => s.spanId)).toEqual([spanIds[0]]);
  });

  it('attributes: adds a resource attribute and renames a span attribute on the way to the collector', async () => {
    // Prepare
    const relay = await suite.start({
      flush: 'end',
      env: {
        OTEL_RELAY_TRACES_PROCESSORS: 'attributes',
        OTEL_RELAY_ATTRIBUTES_ADD: 'deployment.environment.name=e2e%2Fstage',
        OTEL_RELAY_ATTRIBUTES_RENAME: 'faas.invocation_id=faas.invocation',
      },
    });
    // Act
    const { spanIds, requestIds } = await invoke(relay, `attributes-${Date.now()}`, 2, 1);
    await relay.env.shutdown();
    // Assess
    const received = await suite.collector.waitFor(
      (r) => spanIds.every((id) => r.spans().some((s) => s.spanId === id)),
      20_000,
    );
    const spans = spanIds.map((id) => received.spans().find((s) => s.spanId === id)!);
    for (const [i, s] of spans.entries()) {
      expect(s.resource['deployment.environment.name']).toBe('e2e/stage');
      expect(s.attributes['faas.invocation']).toBe(requestIds[i]);
      expect(s.attributes).not.toHaveProperty('faas.invocation_id');
    }
  });
});
