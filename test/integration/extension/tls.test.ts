// TLS to the collector: the real collector's OTLP receivers serve TLS with a certificate made here
// (openssl CLI, a throw-away CA) and require a client certificate; the built layer in the emulator
// trusts that CA through OTEL_EXPORTER_OTLP_CERTIFICATE and presents OTEL_EXPORTER_OTLP_CLIENT_*.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, emptyIds, expectExactlyOnce, useRelaySuite } from './harness.js';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files in `dir`. */
function makeCertificates(dir: string) {
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20_000 });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...key,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=relay-test-ca',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl('req', ...key, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=relay-test-${who}`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.pem`,
      '-days',
      '1',
      '-extfile',
      `${who}.ext`,
    );
  }
  const p = (f: string) => join(dir, f);
  return {
    ca: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
  };
}

describe('TLS to the collector', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-tls-'));
  const certs = makeCertificates(dir);
  // Both receivers: TLS with the test CA's server certificate, and a client certificate required.
  const tls = `
        tls:
          cert_file: ${JSON.stringify(certs.serverCert)}
          key_file: ${JSON.stringify(certs.serverKey)}
          client_ca_file: ${JSON.stringify(certs.ca)}`;
  const suite = useRelaySuite({
    collector: { extraConfig: `receivers:\n  otlp:\n    protocols:\n      http:${tls}\n      grpc:${tls}\n` },
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const https = (endpoint: string) => endpoint.replace(/^http:/, 'https:');
  const clientTls = {
    OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca,
    OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.clientCert,
    OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.clientKey,
  };

  for (const protocol of ['http/protobuf', 'grpc'] as const) {
    it(`delivers over ${protocol} with mutual TLS, trusting the CA from OTEL_EXPORTER_OTLP_CERTIFICATE`, async () => {
      // Prepare
      const endpoint = protocol === 'grpc' ? suite.collector.grpcEndpoint : suite.collector.httpEndpoint;
      const relay = await suite.start({
        flush: 'end',
        env: {
          ...clientTls,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_ENDPOINT: https(endpoint),
        },
      });
      // Act
      const sent = emptyIds();
      for (let i = 0; i < 3; i++) {
        const r = await relay.env.invoke({
          tag: `tls-${protocol}-${i}-${Date.now()}`,
          spans: 2,
          logs: 1,
          points: 1,
        });
        collect(sent, r.response);
      }
      await relay.env.shutdown();
      // Assess
      await expectExactlyOnce(suite.collector, sent);
      expect(relay.env.output()).not.toMatch(/spooled to|spilled to/);
      expect(relay.env.output()).toContain('"dropped":{"traces":0,"metrics":0,"logs":0}');
    });
  }

  it('sends nothing to a collector that requires a client certificate when none is configured, and keeps the data', async () => {
    // Prepare
    const relay = await suite.start({
      flush: 'end',
      env: {
        OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca,
        OTEL_EXPORTER_OTLP_ENDPOINT: https(suite.collector.httpEndpoint),
        OTEL_RELAY_SELF_TELEMETRY: 'false',
      },
    });
    const tag = `tls-nocert-${Date.now()}`;
    // Act
    await relay.env.invoke({ tag, spans: 2 });
    await relay.env.shutdown();
    // Assess
    const received = await suite.collector.received();
    expect(received.spans().filter((s) => s.name.startsWith(tag))).toEqual([]);
    expect(relay.env.output()).toMatch(/2 spans spooled to /);
  });
});
