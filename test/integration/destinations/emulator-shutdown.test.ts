// SHUTDOWN from the emulator with the real layer: after the last flush each destination closes what
// it holds; the Pushgateway groups this environment pushed are deleted when configured (and kept when
// not); a Pushgateway that never answers the DELETE is cut off at the deadline and the relay still
// exits on its own; and the final ledger line balances for each destination.
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { type PushgatewayPeer, startPushgateway } from '../../helpers/pushgateway.js';
import { collect, emptyIds, useRelaySuite } from '../extension/harness.js';
import { expectBalanced, finalLedger } from './ledger.js';

describe('destinations at SHUTDOWN from the emulator with the real layer', () => {
  const suite = useRelaySuite();
  let pgw: PushgatewayPeer;
  beforeAll(async () => {
    pgw = await startPushgateway();
  }, 120_000);
  afterAll(async () => {
    await pgw?.stop();
  });
  printLogsOnFailure('pushgateway', () => pgw);

  const jobGroups = async (job: string) => (await pgw.groups()).filter((g) => g.labels.job === job);

  async function run(functionName: string, deleteOnShutdown: boolean, endpoint = pgw.url) {
    const relay = await suite.start({
      flush: 'end',
      config: { functionName },
      env: {
        OTEL_RELAY_METRICS_EXPORTER: 'otlp,pushgateway',
        OTEL_RELAY_PUSHGATEWAY_ENDPOINT: endpoint,
        OTEL_RELAY_PUSHGATEWAY_DELETE_ON_SHUTDOWN: String(deleteOnShutdown),
      },
    });
    const sent = emptyIds();
    for (let i = 0; i < 2; i++) {
      const r = await relay.env.invoke({ tag: `${functionName}-${i}`, spans: 1, points: 2 });
      expect(r.status).toBe('success');
      collect(sent, r.response);
    }
    const before = await jobGroups(functionName);
    const shutdown = await relay.env.shutdown();
    return { relay, sent, before, shutdown, after: await jobGroups(functionName) };
  }

  it('deletes the groups it pushed after the last flush, and the ledger balances per destination', async () => {
    // Prepare + Act
    const functionName = `pgw-del-${Date.now()}`;
    const { relay, sent, before, after } = await run(functionName, true);
    // Assess
    expect(sent.points).toHaveLength(4);
    expect(before).toHaveLength(1);
    expect(after).toEqual([]);
    const ledger = finalLedger(relay.env.output());
    expectBalanced(ledger);
    expect(ledger.destinations?.pushgateway?.offered.metrics).toBeGreaterThan(0);
    expect(ledger.destinations?.pushgateway?.exported.metrics).toBe(
      ledger.destinations?.pushgateway?.offered.metrics,
    );
    expect(relay.env.output()).not.toMatch(/did not shut down|failed to shut down|stays on the Pushgateway/);
  });

  it('keeps the groups when deletion is not configured', async () => {
    // Prepare + Act
    const functionName = `pgw-keep-${Date.now()}`;
    const { before, after } = await run(functionName, false);
    // Assess
    expect(before).toHaveLength(1);
    expect(after.map((g) => g.labels)).toEqual(before.map((g) => g.labels));
  });

  it('a Pushgateway that never answers the DELETE is cut off at the deadline: the relay exits on time with its ledger', async () => {
    // Prepare: a loopback proxy in front of the real Pushgateway that holds every DELETE unanswered.
    const held: ServerResponse[] = [];
    const proxy = createServer((req, res) => {
      if (req.method === 'DELETE') {
        held.push(res);
        return;
      }
      const target = new URL(req.url ?? '/', pgw.url);
      const out = request(target, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(out);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    try {
      // Act
      const functionName = `pgw-hung-${Date.now()}`;
      const { relay, before, after, shutdown } = await run(functionName, true, `http://127.0.0.1:${port}`);
      // Assess: the DELETE reached the proxy, the extension exited by itself (not killed at the
      // deadline), said why the group stays, and still wrote a balanced ledger.
      expect(held.length).toBeGreaterThan(0);
      expect(shutdown.extensions.map((e) => e.state)).toEqual(['Exited']);
      const output = relay.env.output();
      expect(output).toMatch(/pushgateway did not shut down before the SHUTDOWN deadline/);
      expectBalanced(finalLedger(output));
      expect(before).toHaveLength(1);
      expect(after.map((g) => g.labels)).toEqual(before.map((g) => g.labels));
    } finally {
      for (const res of held) res.destroy();
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});
