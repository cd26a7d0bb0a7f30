import { describe, expect, it } from 'vitest';
import { loadConfig, parseFlushStrategy } from '../../../src/extension/settings/index.js';

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const { config, problems } = loadConfig({});
    expect(problems).toEqual([]);
    expect(config.flush).toEqual({ kind: 'adaptive' });
    expect(config.httpPort).toBe(4318);
    expect(config.grpcPort).toBe(4317);
    expect(config.exporters.traces.url.href).toBe('http://localhost:4318/v1/traces');
    expect(config.exporters.logs.compression).toBe('gzip');
    expect(config.exporters.metrics.protocol).toBe('http/protobuf');
    expect(config.managedInstances).toBe(false);
  });

  it('reads the TLS files per signal first, and refuses a client key without its certificate', () => {
    const { config, problems } = loadConfig({
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/opt/ca.pem',
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: '/opt/traces-ca.pem',
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/opt/client.pem',
      OTEL_EXPORTER_OTLP_CLIENT_KEY: '/opt/client.key',
      OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: '/opt/logs.key',
    });
    expect(config.exporters.traces.tls).toEqual({
      certificate: '/opt/traces-ca.pem',
      clientCertificate: '/opt/client.pem',
      clientKey: '/opt/client.key',
    });
    expect(config.exporters.metrics.tls?.certificate).toBe('/opt/ca.pem');
    expect(config.exporters.logs.tls?.clientKey).toBe('/opt/logs.key');
    expect(problems).toEqual([]);
    const half = loadConfig({ OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: '/opt/m.key' });
    expect(half.config.exporters.metrics.tls).toBeUndefined();
    expect(half.problems).toEqual([
      'config: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY is set but OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE is not; metrics are sent without a client certificate',
    ]);
  });

  it('appends the signal path to the general endpoint and uses per-signal endpoints as they are', () => {
    const { config } = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318/base',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs.example/custom/path',
    });
    expect(config.exporters.traces.url.href).toBe('https://collector.example:4318/base/v1/traces');
    expect(config.exporters.logs.url.href).toBe('http://logs.example/custom/path');
  });

  it('reads gRPC protocol, merged headers, compression and timeout with per-signal precedence', () => {
    const { config, problems } = loadConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9999',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc,x-team=a',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=b',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '2500',
    });
    expect(problems).toEqual([]);
    expect(config.exporters.traces.protocol).toBe('grpc');
    expect(config.exporters.traces.url.origin).toBe('http://127.0.0.1:9999');
    expect(config.exporters.traces.headers).toEqual({ authorization: 'Bearer abc', 'x-team': 'b' });
    expect(config.exporters.logs.headers).toEqual({ authorization: 'Bearer abc', 'x-team': 'a' });
    expect(config.exporters.logs.compression).toBe('none');
    expect(config.exporters.metrics.timeoutMs).toBe(2500);
    expect(config.exporters.traces.timeoutMs).toBe(10_000);
  });

  it('names each invalid value with what is used instead, and never the header values', () => {
    const { config, problems } = loadConfig({
      OTEL_RELAY_FLUSH: 'sometimes',
      OTEL_RELAY_HTTP_PORT: '99999',
      OTEL_RELAY_BUFFER_MAX_BYTES: 'lots',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://nope',
      OTEL_EXPORTER_OTLP_HEADERS: 'secret-token-without-key',
      OTEL_RELAY_LOG_LEVEL: 'chatty',
    });
    expect(config.flush).toEqual({ kind: 'adaptive' });
    expect(config.httpPort).toBe(4318);
    expect(problems).toContain(
      'config: OTEL_RELAY_FLUSH=sometimes is not a strategy (end | periodic:<ms> | continuous | adaptive); using adaptive',
    );
    expect(problems.some((p) => p.startsWith('config: OTEL_RELAY_HTTP_PORT=99999'))).toBe(true);
    expect(problems.some((p) => p.startsWith('config: OTEL_RELAY_BUFFER_MAX_BYTES=lots'))).toBe(true);
    expect(problems.some((p) => p.includes('ftp://nope'))).toBe(true);
    expect(problems.some((p) => p.includes('OTEL_RELAY_LOG_LEVEL=chatty'))).toBe(true);
    expect(problems.join('\n')).not.toContain('secret-token');
    // One line per problem per variable: the endpoint problem is reported for each signal it affects.
    expect(problems.length).toBeGreaterThanOrEqual(6);
  });

  it('turns a receiver off with "off" and detects Managed Instances from the initialization type', () => {
    const { config } = loadConfig({
      OTEL_RELAY_GRPC_PORT: 'off',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances',
      OTEL_RELAY_BATCH_MAX_BYTES: '64KiB',
    });
    expect(config.grpcPort).toBeNull();
    expect(config.managedInstances).toBe(true);
    expect(config.batchMaxBytes).toBe(65536);
  });
});

describe('OTEL_EXPORTER_OTLP_INSECURE', () => {
  it('gives a gRPC endpoint without a scheme TLS unless INSECURE is true, per signal first', () => {
    const { config, problems } = loadConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector.internal:4317',
      OTEL_EXPORTER_OTLP_LOGS_INSECURE: 'true',
    });
    expect(problems).toEqual([]);
    expect(config.exporters.traces.url.origin).toBe('https://collector.internal:4317');
    expect(config.exporters.logs.url.origin).toBe('http://collector.internal:4317');
  });

  it('leaves an endpoint with a scheme as it is, and names an invalid value', () => {
    const { config, problems } = loadConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4317',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4317',
      OTEL_EXPORTER_OTLP_INSECURE: 'maybe',
    });
    expect(config.exporters.traces.url.origin).toBe('http://127.0.0.1:4317');
    expect(config.exporters.metrics.url.origin).toBe('https://collector:4317');
    expect(problems).toEqual([
      'config: OTEL_EXPORTER_OTLP_INSECURE=maybe is not true or false; using false (TLS)',
    ]);
  });
});

describe('OTEL_RELAY_TELEMETRY_PORT', () => {
  it('says in a problem line that the Telemetry API listener cannot be off, and uses any free port', () => {
    const { config, problems } = loadConfig({ OTEL_RELAY_TELEMETRY_PORT: 'off' });
    expect(config.telemetryPort).toBe(0);
    expect(problems).toEqual([
      expect.stringMatching(
        /TELEMETRY_PORT=off is not a port .*the Telemetry API listener cannot be turned off.*; using 0$/,
      ),
    ]);
  });
});

describe('parseFlushStrategy', () => {
  it('parses every strategy and rejects the rest', () => {
    expect(parseFlushStrategy('end')).toEqual({ kind: 'end' });
    expect(parseFlushStrategy('periodic:250')).toEqual({ kind: 'periodic', intervalMs: 250 });
    expect(parseFlushStrategy('periodic:2s')).toEqual({ kind: 'periodic', intervalMs: 2000 });
    expect(parseFlushStrategy('Continuous')).toEqual({ kind: 'continuous' });
    expect(parseFlushStrategy('periodic:')).toBeUndefined();
    expect(parseFlushStrategy('periodic:0')).toBeUndefined();
    expect(parseFlushStrategy('never')).toBeUndefined();
  });
});
