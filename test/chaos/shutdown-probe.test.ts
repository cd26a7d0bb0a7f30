// SHUTDOWN is the last chance: /tmp dies with the environment, so a collector that came back while the
// breaker was cooling down must get the buffered and the spooled data then. A real collector process,
// SIGKILLed before the first invocation and started again (same ports) just before SHUTDOWN; no S3.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CollectorPeer, startCollector } from '../helpers/collector.js';
import { printLogsOnFailure } from '../helpers/peer-logs.js';
import { spanIdsInSpool } from './accounting.js';
import { type RelayEnv, startRelayEnv } from './relay-env.js';

let collector: CollectorPeer;
let relay: RelayEnv | undefined;

beforeAll(async () => {
  collector = await startCollector();
});
afterAll(async () => {
  await collector?.stop();
});
afterEach(async () => {
  await relay?.env.dispose();
  relay = undefined;
});
printLogsOnFailure('emulator', () => (relay ? { logs: () => relay?.env.output() ?? '' } : undefined));
printLogsOnFailure('otelcol', () => collector);

describe('chaos: SHUTDOWN with a collector that came back during the cool-down', () => {
  it('probes it whatever the breaker says and delivers the buffer and the spool there', async () => {
    collector.kill('SIGKILL');
    relay = await startRelayEnv({
      collectorUrl: collector.httpEndpoint,
      // A cool-down that outlasts the test: only SHUTDOWN's own probe can reach the collector.
      extra: { OTEL_RELAY_BREAKER_OPEN_MS: '600000', OTEL_RELAY_SPILL_MIN_BYTES: '0' },
    });
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await relay.env.invoke({ spans: 5, tag: `down-${i}` });
      expect(res.status).toBe('success');
      sent.push(...(res.response as { spanIds: string[] }).spanIds);
    }
    expect(relay.env.output()).toMatch(/collector breaker open/);
    // Everything so far waits in the spool, none of it reached anything else.
    expect((await spanIdsInSpool(relay.spoolDir)).sort()).toEqual([...sent].sort());

    await collector.restart();
    const shutdown = await relay.env.shutdown();
    expect(shutdown.extensions).toEqual([
      expect.objectContaining({ state: 'Exited', exitCode: 0, signal: null }),
    ]);
    const got = await collector.waitFor(
      (r) => sent.every((id) => r.spans().some((s) => s.spanId === id)),
      15_000,
    );
    const received = got.spans().map((s) => s.spanId);
    expect(received.filter((id) => sent.includes(id)).sort()).toEqual([...sent].sort());
    expect(await spanIdsInSpool(relay.spoolDir)).toEqual([]);
    expect(relay.env.output()).toMatch(/collector breaker closed: probe succeeded/);
    expect(relay.env.output()).toMatch(/30 items from 6 spool files replayed/);
  });
});
