// Isolation: the mount namespace every environment gets by default (/opt at its real path, a private
// /tmp, sandbox.localdomain in /etc/hosts) and network 'isolated' (its own loopback and ports, the
// host reached over a link-local pair).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LambdaEnvironment } from '../../../src/local/index.js';
import { startCollector } from '../../helpers/collector.js';
import { freePort } from '../../helpers/ports.js';
import { collect, emptyIds, expectExactlyOnce, type RelayEnv, startRelayEnv } from '../extension/harness.js';
import { fn, probeLayer, startEnv, tempDir, writeExecutable } from './helpers.js';

const COST = { codeDir: fn('cost'), handler: 'index.handler' } as const;

interface Inside {
  sandbox: string;
  opt: string | null;
  optContent: string | null;
  tmpdir: string;
  exists: boolean | null;
  wrappedBy: string | null;
  emulatorHost: string | null;
}

async function inside(env: LambdaEnvironment, event: Record<string, unknown> = {}): Promise<Inside> {
  const r = await env.invoke({ action: 'inside', ...event });
  expect(r.status, env.output()).toBe('success');
  return r.response as Inside;
}

function layer(files: Record<string, string>): string {
  const dir = tempDir('layer-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    if (text.startsWith('#!')) writeExecutable(join(dir, name), text);
    else writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** An HTTP peer on the host, listening on each of the given addresses. */
async function hostPeer(addresses: string[]): Promise<{ port: number; close: () => Promise<void> }> {
  const servers: http.Server[] = [];
  let port = 0;
  for (const address of addresses) {
    const server = http.createServer((req, res) => res.end(`peer saw ${req.socket.remoteAddress}`));
    await new Promise<void>((r) => server.listen(port, address, r));
    port = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  return {
    port,
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}

describe('mount namespace (the default)', () => {
  it('puts the layers at /opt, later layers winning, and runs /opt/extensions and an /opt wrapper', async () => {
    const first = layer({ 'hello.txt': 'first', 'only-first.txt': 'kept' });
    const wrapper = layer({
      'hello.txt': 'second',
      'wrapper.sh': '#!/bin/sh\nexport WRAPPED_BY=/opt/wrapper.sh\nexec "$@"\n',
    });
    const probes = probeLayer({ 'probe-a': { probe: 1 } });
    const env = await startEnv({
      ...COST,
      layers: [first, wrapper, probes],
      env: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/wrapper.sh' },
    });
    expect(env.isolation).toBe('mount');
    const seen = await inside(env, { optFile: '/opt/hello.txt' });
    expect(seen).toMatchObject({ opt: '/opt/hello.txt', optContent: 'second', wrappedBy: '/opt/wrapper.sh' });
    expect((await inside(env, { optFile: '/opt/only-first.txt' })).optContent).toBe('kept');
    // The extension was found in /opt/extensions and registered (Init waited for it).
    expect(env.processes().map((p) => p.name)).toContain('probe-a');
  });

  it('resolves sandbox.localdomain inside, and gives the environment a private /tmp kept across resets', async () => {
    const hostOnly = join(tempDir('host-only-'), 'marker');
    writeFileSync(hostOnly, 'the host /tmp');
    const env = await startEnv(COST);
    const seen = await inside(env, { path: hostOnly });
    expect(seen).toMatchObject({ sandbox: '127.0.0.1', tmpdir: '/tmp', exists: false });
    expect(seen.emulatorHost).toBe('127.0.0.1');
    const w = await env.invoke({ action: 'write-tmp', file: 'note.txt', content: 'kept' });
    expect(w.status).toBe('success');
    expect(readFileSync(join(env.tmpDir, 'note.txt'), 'utf8')).toBe('kept');
    // A crash resets the environment; its /tmp stays, as in Lambda.
    const crash = await env.invoke({ action: 'exit' });
    expect(crash.status).toBe('failure');
    const after = await inside(env, { path: '/tmp/note.txt' });
    expect(after.exists).toBe(true);
    expect(existsSync(join(env.tmpDir, 'note.txt'))).toBe(true);
  });
});

describe("network 'isolated'", () => {
  it('lets two environments bind the same port at once, each reaching a host peer at its own host address', async () => {
    const a = await startEnv({ ...COST, network: 'isolated' });
    const b = await startEnv({ ...COST, network: 'isolated' });
    expect([a.isolation, b.isolation]).toEqual(['mount+network', 'mount+network']);
    for (const env of [a, b]) {
      expect(env.emulatorHost).toMatch(/^169\.254\.\d+\.\d+$/);
      expect(env.sandboxAddress).toMatch(/^169\.254\.\d+\.\d+$/);
    }
    expect(a.emulatorHost).not.toBe(b.emulatorHost);
    // The same port, bound on each environment's loopback and on its sandbox address, at the same time.
    for (const env of [a, b]) {
      for (const host of ['127.0.0.1', 'sandbox.localdomain']) {
        const r = await env.invoke({ action: 'listen', port: 47_123, host });
        expect(r.status, env.output()).toBe('success');
      }
    }
    const seenA = await inside(a);
    expect(seenA).toMatchObject({ sandbox: a.sandboxAddress, emulatorHost: a.emulatorHost });
    const peer = await hostPeer([a.emulatorHost, b.emulatorHost]);
    try {
      for (const env of [a, b]) {
        const r = await env.invoke({ action: 'get', host: env.emulatorHost, port: peer.port });
        expect(r.status, env.output()).toBe('success');
        expect(r.response).toEqual({ body: `peer saw ${env.sandboxAddress}` });
      }
    } finally {
      await peer.close();
    }
  });

  it('runs the relay layer unchanged: telemetry reaches it at sandbox.localdomain, and it exports to a host peer', async () => {
    const collector = await startCollector();
    // The collector listens on loopback; a relay on the environment's host address forwards to it.
    const relayPort = await freePort();
    const forward = net.createServer((s) => {
      const upstream = net.connect(Number(new URL(collector.httpEndpoint).port), '127.0.0.1');
      s.pipe(upstream).pipe(s);
      s.on('error', () => upstream.destroy());
      upstream.on('error', () => s.destroy());
    });
    let relay: RelayEnv | undefined;
    try {
      relay = await startRelayEnv(collector, {
        flush: 'end',
        config: { network: 'isolated' },
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://$OTEL_RELAY_EMULATOR_HOST:${relayPort}` },
      });
      const env = relay.env;
      await new Promise<void>((r) => forward.listen(relayPort, env.emulatorHost, r));
      expect(env.isolation).toBe('mount+network');
      expect(env.variables('extension').OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
        `http://${env.emulatorHost}:${relayPort}`,
      );
      const subscription = await env.waitForRecord((t) => t.type === 'platform.telemetrySubscription');
      expect(subscription.record).toMatchObject({ name: 'otel-relay' });
      const sent = emptyIds();
      for (let i = 0; i < 3; i++) {
        const r = await env.invoke({ tag: `isolated-${i}-${Date.now()}`, spans: 2, logs: 1, points: 1 });
        expect(r.status, env.output()).toBe('success');
        collect(sent, r.response);
      }
      const shutdown = await env.shutdown();
      expect(shutdown.extensions).toEqual([expect.objectContaining({ name: 'otel-relay', state: 'Exited' })]);
      await expectExactlyOnce(collector, sent);
      // The platform's deliveries to the relay's Telemetry API listener all went through.
      expect(env.output()).not.toMatch(/telemetry delivery to otel-relay failed/);
    } finally {
      await relay?.env.dispose();
      forward.close();
      await collector.stop();
    }
  });

  it('removes its link and releases its addresses when disposed', async () => {
    const env = await startEnv({ ...COST, network: 'isolated' });
    const host = env.emulatorHost;
    expect(readFileSync('/proc/net/fib_trie', 'utf8')).toContain(host);
    await env.dispose();
    expect(readFileSync('/proc/net/fib_trie', 'utf8')).not.toContain(host);
  });
});
