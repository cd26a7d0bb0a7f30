// The relay layer under AWS's own Runtime Interface Emulator: the second check (after the local
// emulator's conformance tests) that what the layer expects of the Extensions and Runtime APIs is what
// AWS implements. The RIE has no Telemetry API (its /telemetry answers without ever delivering), so
// the relay must work from the Extensions API alone: register, INVOKE, SHUTDOWN, export.
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { freePort } from '../../helpers/ports.js';
import { type RiePeer, startRie } from '../../helpers/rie.js';

const root = resolve(import.meta.dirname, '../../..');

describe('the relay layer under the Runtime Interface Emulator', () => {
  let collector: CollectorPeer;
  let rie: RiePeer;

  beforeAll(async () => {
    collector = await startCollector();
    rie = await startRie({
      layer: join(root, 'dist/layer'),
      codeDir: join(root, 'test/fixtures/extension/function'),
      handler: 'index.handler',
      env: {
        OTEL_RELAY_HTTP_PORT: String(await freePort()),
        OTEL_RELAY_GRPC_PORT: String(await freePort()),
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint,
        OTEL_RELAY_LOG_LEVEL: 'debug',
      },
    });
  });

  afterAll(async () => {
    await rie?.stop();
    await collector?.stop();
  });

  it('registers, gets INVOKE for each invoke and SHUTDOWN at the end, and exports every span', async () => {
    // Act: two invokes (the first runs Init, which waits for the relay's registration).
    const sent: string[] = [];
    for (const tag of ['rie-1', 'rie-2']) {
      const r = await rie.invoke({ tag, spans: 3 });
      expect(r.status, r.body).toBe(200);
      const body = JSON.parse(r.body) as { spanIds: string[] };
      expect(body.spanIds).toHaveLength(3);
      sent.push(...body.spanIds);
    }

    // Assess: the RIE saw the relay register under its file name, and the relay saw both invokes.
    const logs = rie.logs();
    expect(logs).toMatch(/External agent otel-relay .*registered/i);
    const invocations = logs.split('\n').filter((l) => l.includes('"msg":"invocation"'));
    expect(invocations).toHaveLength(2);

    // Act: SIGTERM; the RIE resets the sandbox, which sends SHUTDOWN, and the relay flushes before exiting.
    await rie.stop(15_000);

    // Assess: the relay received SHUTDOWN (the RIE's reason for a SIGTERM is SandboxTerminated, where
    // Lambda says spindown), and every span reached the collector exactly once.
    expect(rie.logs()).toMatch(/"msg":"otel-relay shut down","reason":"sandboxterminated"/);
    const received = await collector.waitFor((r) => r.spans().length >= sent.length, 15_000);
    const ids = received.spans().map((s) => s.spanId);
    expect(ids.sort()).toEqual([...sent].sort());
  });
});
