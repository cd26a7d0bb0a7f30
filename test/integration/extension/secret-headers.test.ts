// OTEL_RELAY_HEADERS_SECRET_ARN end to end: the built layer in the emulator reads the secret from a
// real Secrets Manager API (moto), and its exports carry the secret's headers to the real collector;
// a recording loopback proxy in front of the collector shows what headers arrived. Without the
// secret nothing is sent: the data waits in the /tmp spool and reaches the collector once it exists.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsJsonCall } from '../../../src/aws/index.js';
import { type MotoServer, startMotoServer } from '../../helpers/moto.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { collect, emptyIds, expectExactlyOnce, useRelaySuite } from './harness.js';

const TOKEN = 'Bearer it-token-5e5e';

interface RecordingProxy {
  endpoint: string;
  requests: { path: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Forwards every request to `target` unchanged and records its path and headers. */
async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const requests: RecordingProxy['requests'] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: upstream.host },
        timeout: 10_000,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('timeout', () => out.destroy(new Error('collector did not answer in 10 s')));
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('OTLP headers from Secrets Manager', () => {
  const suite = useRelaySuite();
  let moto: MotoServer;
  let proxy: RecordingProxy;
  beforeAll(async () => {
    moto = await startMotoServer();
    proxy = await startRecordingProxy(suite.collector.httpEndpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
  });
  printLogsOnFailure('moto', () => moto);

  const createSecret = (name: string, value: string) =>
    awsJsonCall(
      'secretsmanager',
      'secretsmanager.CreateSecret',
      { Name: name, SecretString: value },
      {
        region: moto.region,
        endpoint: moto.endpoint,
        credentials: async () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' }),
      },
    );

  it('sends the secret headers merged over the static ones (the secret wins) and never logs them', async () => {
    // Prepare
    const name = `otlp-headers-${Date.now()}`;
    const created = await createSecret(
      name,
      `authorization=${encodeURIComponent(TOKEN)},x-tenant=from-secret`,
    );
    const before = proxy.requests.length;
    const relay = await suite.start({
      flush: 'end',
      env: {
        ...moto.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: proxy.endpoint,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=static,x-static=1',
        OTEL_RELAY_HEADERS_SECRET_ARN: String(created.ARN),
        OTEL_RELAY_LOG_LEVEL: 'debug',
      },
    });
    // Act
    const sent = emptyIds();
    for (let i = 0; i < 3; i++) {
      const r = await relay.env.invoke({ tag: `secret-${i}-${Date.now()}`, spans: 2, logs: 1, points: 1 });
      collect(sent, r.response);
    }
    await relay.env.shutdown();
    // Assess
    await expectExactlyOnce(suite.collector, sent);
    const mine = proxy.requests.slice(before);
    expect(mine.length).toBeGreaterThan(0);
    for (const r of mine) {
      expect(r.headers.authorization).toBe(TOKEN);
      expect(r.headers['x-tenant']).toBe('from-secret');
      expect(r.headers['x-static']).toBe('1');
    }
    expect(relay.env.output()).toContain(`OTLP headers read from secret ${String(created.ARN)}`);
    expect(relay.env.output()).not.toContain('it-token');
  });

  it('keeps the data in the spool while the secret is missing, says so once, and delivers it once the secret exists', async () => {
    // Prepare
    const name = `otlp-headers-late-${Date.now()}`;
    const before = proxy.requests.length;
    const relay = await suite.start({
      flush: 'end',
      env: {
        ...moto.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: proxy.endpoint,
        OTEL_RELAY_HEADERS_SECRET_ARN: name,
        OTEL_RELAY_BREAKER_OPEN_MS: '100',
        OTEL_RELAY_SELF_TELEMETRY: 'false',
      },
    });
    const sent = emptyIds();
    // Act: three invocations without the secret
    for (let i = 0; i < 3; i++) {
      const r = await relay.env.invoke({ tag: `late-${i}-${Date.now()}`, spans: 2, logs: 1 });
      collect(sent, r.response);
    }
    // Assess: nothing went out, nothing was dropped, one line said why
    expect(proxy.requests.length).toBe(before);
    const out = relay.env.output();
    expect(out.match(/could not read OTLP headers from secret/g)).toHaveLength(1);
    expect(out).toMatch(/spooled to /);
    expect(out).not.toMatch(/dropped/);
    // Act: the secret appears; after the read's back-off (1 s) the next invocations deliver
    await createSecret(name, `{"authorization": "${TOKEN}"}`);
    await new Promise((r) => setTimeout(r, 1_200));
    for (let i = 0; i < 3; i++) {
      const r = await relay.env.invoke({ tag: `late-after-${i}-${Date.now()}`, spans: 1 });
      collect(sent, r.response);
    }
    await relay.env.shutdown();
    // Assess: everything arrived exactly once (the spooled batches replayed), with the header
    await expectExactlyOnce(suite.collector, sent);
    const mine = proxy.requests.slice(before);
    expect(mine.length).toBeGreaterThan(0);
    for (const r of mine) expect(r.headers.authorization).toBe(TOKEN);
    expect(relay.env.output()).toMatch(/OTLP headers read from secret .*; exporting again/);
    expect(relay.env.output()).not.toContain('it-token');
  });
});
