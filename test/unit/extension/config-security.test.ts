// Config values that would leak secrets into logs or break every export (security review 5, 6).
import { describe, expect, it } from 'vitest';
import { loadConfig, loadFallbackConfig, parseOtlpHeaders } from '../../../src/extension/settings/index.js';

describe('endpoint values in config problems', () => {
  it('names the variable but leaves out userinfo and query of an invalid OTLP endpoint', () => {
    const { problems } = loadConfig({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://user:s3cr3t-pass@collector:4318/v1?api_key=TOPSECRET',
    });
    const line = problems.find((p) => p.includes('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'));
    expect(line).toBeDefined();
    expect(line).toContain('collector:4318');
    expect(line).not.toContain('s3cr3t-pass');
    expect(line).not.toContain('user:');
    expect(line).not.toContain('TOPSECRET');
  });

  it('leaves out userinfo and query of an invalid S3 endpoint', () => {
    const { problems } = loadFallbackConfig({
      OTEL_RELAY_FALLBACK_S3_URI: 's3://my-bucket/otel',
      OTEL_RELAY_S3_ENDPOINT: 'minio://AKIA:wJalrXUtnFEMI@host:9000/?X-Amz-Signature=abc123',
    });
    const line = problems.find((p) => p.includes('OTEL_RELAY_S3_ENDPOINT'));
    expect(line).toBeDefined();
    expect(line).not.toContain('wJalrXUtnFEMI');
    expect(line).not.toContain('abc123');
  });
});

describe('S3 prefixes with dot segments', () => {
  it('turns S3 spill off with a problem when the prefix has a ".." segment', () => {
    const { config, problems } = loadFallbackConfig({ OTEL_RELAY_FALLBACK_S3_URI: 's3://my-bucket/a/../b' });
    expect(config.s3).toBeUndefined();
    expect(problems.join('\n')).toContain('OTEL_RELAY_FALLBACK_S3_URI');
  });

  it('drops a file prefix that makes a dot segment, with a problem', () => {
    const { config, problems } = loadFallbackConfig({
      OTEL_RELAY_FALLBACK_S3_URI: 's3://my-bucket/otel',
      OTEL_RELAY_FALLBACK_S3_FILE_PREFIX: '../x',
    });
    expect(config.s3?.filePrefix).toBe('');
    expect(problems.join('\n')).toContain('OTEL_RELAY_FALLBACK_S3_FILE_PREFIX');
  });
});

describe('OTLP headers at config load', () => {
  it('ignores a header whose decoded name is not an HTTP token, with a problem', () => {
    const { headers, problems } = parseOtlpHeaders('bad%20name=1,good=2');
    expect(headers).toEqual({ good: '2' });
    expect(problems).toHaveLength(1);
  });

  it('ignores a header value with a line break without quoting it', () => {
    const { headers, problems } = parseOtlpHeaders('x-token=abc%0D%0Aevil:1');
    expect(headers).toEqual({});
    expect(problems.join('\n')).not.toContain('abc');
  });

  it('drops connection-specific headers for gRPC, where HTTP/2 forbids them, and keeps them for HTTP', () => {
    const grpc = loadConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_HEADERS: 'connection=close,x-api-key=k',
    });
    for (const e of Object.values(grpc.config.exporters)) expect(e.headers).toEqual({ 'x-api-key': 'k' });
    expect(grpc.problems.filter((p) => p.includes('connection'))).toHaveLength(1);
    const httpC = loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'connection=close' });
    expect(httpC.config.exporters.traces.headers).toEqual({ connection: 'close' });
  });
});
