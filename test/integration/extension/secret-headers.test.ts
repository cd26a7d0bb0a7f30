// OTEL_RELAY_HEADERS_SECRET_ARN end to end: the built layer in the emulator reads the secret from a
// real Secrets Manager API (moto), and its exports carry the secret's headers to the real collector;
// the chaos tests' loopback proxy, passing through, shows what headers arrived. Without the
// secret nothing is sent: the data waits in the /tmp spool and reaches the collector once it exists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsJsonCall } from '../../../src/aws/index.js';
import { type FaultProxy, startFaultProxy } from '../../chaos/fault-proxy.js';
import { type MotoServer, startMotoServer } from '../../helpers/moto.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { collect, emptyIds, expectExactlyOnce, useRelaySuite } from './harness.js';

const TOKEN = 'Bearer it-token-5e5e';

describe('OTLP headers from Secrets Manager', () => {
  const suite = useRelaySuite();
  let moto: MotoServer;
  // In front of the real collector, passing everything through and recording the request headers.
  let proxy: FaultProxy;
  beforeAll(async () => {
    moto = await startMotoServer();
    proxy = await startFaultProxy(suite.collector.httpEndpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
  });
  printLogsOnFailure('moto', () => moto);

  /** The relay in the emulator, exporting through the proxy with headers from `secretId`. */
  const startRelay = (secretId: string, env: Record<string, string>) =>
    suite.start({
      flush: 'end',
      env: {
        ...moto.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: proxy.url,
        OTEL_RELAY_HEADERS_SECRET_ARN: secretId,
        ...env,
      },
    });

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
    const relay = await startRelay(String(created.ARN), {
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=static,x-static=1',
      OTEL_RELAY_LOG_LEVEL: 'debug',
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
    const relay = await startRelay(name, {
      OTEL_RELAY_BREAKER_OPEN_MS: '100',
      OTEL_RELAY_SELF_TELEMETRY: 'false',
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

  it('reads the secret again when the collector answers 401 (a rotated token), and loses nothing meanwhile', async () => {
    // Prepare
    const name = `otlp-headers-rotated-${Date.now()}`;
    await createSecret(name, 'authorization=Bearer%20it-token-old');
    const before = proxy.requests.length;
    const relay = await startRelay(name, {
      OTEL_RELAY_BREAKER_OPEN_MS: '100',
      OTEL_RELAY_SELF_TELEMETRY: 'false',
    });
    const sent = emptyIds();
    try {
      // Act: the collector refuses the old token
      proxy.setMode({ kind: 'status', status: 401, body: 'unauthenticated' });
      for (let i = 0; i < 2; i++) {
        const r = await relay.env.invoke({ tag: `rotated-${i}-${Date.now()}`, spans: 2 });
        collect(sent, r.response);
      }
      // Act: the token is rotated; after the re-read's back-off (1 s) the collector takes the new one
      await awsJsonCall(
        'secretsmanager',
        'secretsmanager.PutSecretValue',
        { SecretId: name, SecretString: `authorization=${encodeURIComponent(TOKEN)}` },
        {
          region: moto.region,
          endpoint: moto.endpoint,
          credentials: async () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' }),
        },
      );
      proxy.setMode({ kind: 'pass' });
      await new Promise((r) => setTimeout(r, 1_200));
      for (let i = 0; i < 2; i++) {
        const r = await relay.env.invoke({ tag: `rotated-after-${i}-${Date.now()}`, spans: 1 });
        collect(sent, r.response);
      }
      await relay.env.shutdown();
    } finally {
      proxy.setMode({ kind: 'pass' });
    }
    // Assess: nothing dropped as "rejected", everything delivered once with the new token
    await expectExactlyOnce(suite.collector, sent);
    const out = relay.env.output();
    expect(out.match(/collector refused the OTLP headers from secret/g)).toHaveLength(1);
    expect(out).not.toMatch(/items dropped|rejected-by-collector/);
    const mine = proxy.requests.slice(before);
    expect(mine.filter((r) => r.mode === 'status').length).toBeGreaterThan(0);
    for (const r of mine.filter((x) => x.mode === 'pass')) expect(r.headers.authorization).toBe(TOKEN);
    expect(out).not.toContain('it-token');
  });
});
