// The replay command's argument handling (its sending is tested against real peers in
// test/integration/fallback/replay.test.ts).
import { describe, expect, it } from 'vitest';
import { parseTime, run } from '../../../src/cli/commands/replay.js';
import { resolveTarget, signalUrl } from '../../../src/cli/replay/send.js';
import { UsageError } from '../../../src/cli/usage.js';

describe('replay arguments', () => {
  const now = Date.parse('2026-11-21T08:00:00Z');

  it('reads ages and ISO times', () => {
    expect(parseTime('30m', now, '--since')).toBe(now - 30 * 60_000);
    expect(parseTime('2d', now, '--since')).toBe(now - 2 * 86_400_000);
    expect(parseTime('2026-11-20T00:00:00Z', now, '--since')).toBe(Date.parse('2026-11-20T00:00:00Z'));
  });

  it('says what is wrong with a bad time', () => {
    expect(() => parseTime('yesterday', now, '--since')).toThrow(UsageError);
    expect(() => parseTime('yesterday', now, '--since')).toThrow(/--since yesterday/);
  });

  it('refuses a run without a source, with an unknown signal, or with a bad header', async () => {
    await expect(run([])).rejects.toThrow(/exactly one of --from/);
    await expect(run(['--spool', '/x', '--signal', 'spans'])).rejects.toThrow(/--signal spans/);
    await expect(run(['--spool', '/x', '--header', 'novalue'])).rejects.toThrow(/K=V/);
    await expect(run(['--spool', '/x', '--bogus'])).rejects.toThrow(UsageError);
  });

  it('appends /v1/<signal> to the collector endpoint', () => {
    expect(signalUrl('http://c:4318/', 'logs').href).toBe('http://c:4318/v1/logs');
  });

  it('sends over gRPC to a grpc:// address, plaintext, and to grpcs:// over TLS', () => {
    expect(resolveTarget('grpc://c:4317', undefined, {})).toEqual({
      protocol: 'grpc',
      endpoint: 'http://c:4317',
    });
    expect(resolveTarget('grpcs://c:4317', 'grpc', {})).toEqual({
      protocol: 'grpc',
      endpoint: 'https://c:4317',
    });
  });

  it('sends over gRPC to an http(s) URL with --protocol grpc or OTEL_EXPORTER_OTLP_PROTOCOL=grpc', () => {
    expect(resolveTarget('https://c:4317', 'grpc', {})).toEqual({
      protocol: 'grpc',
      endpoint: 'https://c:4317',
    });
    expect(resolveTarget('http://c:4317/', undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual({
      protocol: 'grpc',
      endpoint: 'http://c:4317',
    });
    expect(resolveTarget(undefined, 'grpc', {})).toEqual({
      protocol: 'grpc',
      endpoint: 'http://localhost:4317',
    });
  });

  it('sends OTLP/HTTP by default, to OTEL_EXPORTER_OTLP_ENDPOINT or localhost:4318', () => {
    expect(resolveTarget(undefined, undefined, {})).toEqual({
      protocol: 'http/protobuf',
      endpoint: 'http://localhost:4318',
    });
    expect(resolveTarget(undefined, undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c/otlp' })).toEqual({
      protocol: 'http/protobuf',
      endpoint: 'https://c/otlp',
    });
    expect(resolveTarget('http://c:4318', 'http/protobuf', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual({
      protocol: 'http/protobuf',
      endpoint: 'http://c:4318',
    });
  });

  it('refuses an unknown protocol, a gRPC address with http/protobuf, a gRPC path, and a non-URL', () => {
    expect(() => resolveTarget('http://c', 'http/json', {})).toThrow(/--protocol http\/json is not one of/);
    expect(() => resolveTarget('grpc://c:4317', 'http/protobuf', {})).toThrow(/gRPC address/);
    expect(() => resolveTarget('grpc://c:4317/v1/traces', undefined, {})).toThrow(/host:port only/);
    expect(() => resolveTarget('ftp://c', undefined, {})).toThrow(UsageError);
    expect(() => resolveTarget('not a url', undefined, {})).toThrow(/--to not a url is not a URL/);
  });
});
