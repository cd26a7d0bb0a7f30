import { describe, expect, it } from 'vitest';
import { objectKey, parseObjectKey, parseS3Uri, uuidv7 } from '../../../src/extension/fallback/index.js';
import { loadFallbackConfig } from '../../../src/extension/settings/index.js';

const at = Date.UTC(2026, 10, 21, 7, 5, 9, 123);

describe('awss3exporter key layout', () => {
  it('builds <prefix>/year=/month=/day=/hour=/minute=/<file prefix><signal>_<id>.binpb.gz in UTC', () => {
    const key = objectKey({ bucket: 'b', prefix: 'otel/fallback' }, 'traces', at, 'fn-');
    expect(key).toMatch(
      /^otel\/fallback\/year=2026\/month=11\/day=21\/hour=07\/minute=05\/fn-traces_[0-9a-f-]{36}\.binpb\.gz$/,
    );
  });

  it('starts with the prefix the awss3receiver lists for that minute and signal', () => {
    // The receiver lists "<s3_prefix>/<minute partition>/<file_prefix><signal>_".
    const key = objectKey({ bucket: 'b', prefix: 'p' }, 'logs', at);
    expect(key.startsWith('p/year=2026/month=11/day=21/hour=07/minute=05/logs_')).toBe(true);
    expect(objectKey({ bucket: 'b', prefix: '' }, 'metrics', at).startsWith('year=2026/')).toBe(true);
  });

  it('parses its own keys back to signal and minute', () => {
    const parsed = parseObjectKey(objectKey({ bucket: 'b', prefix: 'x' }, 'metrics', at));
    expect(parsed).toEqual({
      signal: 'metrics',
      minute: Date.UTC(2026, 10, 21, 7, 5),
      format: 'protobuf',
      gzip: true,
    });
    expect(parseObjectKey('p/year=2026/month=01/day=02/hour=03/minute=04/traces_abc.json')).toMatchObject({
      format: 'json',
      gzip: false,
    });
    expect(parseObjectKey('x/notes.txt')).toBeUndefined();
  });

  it('makes time-ordered UUIDv7 ids', () => {
    const a = uuidv7(at);
    const b = uuidv7(at + 1);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(Number.parseInt(a.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });
});

describe('parseS3Uri', () => {
  it('splits bucket and prefix and trims slashes', () => {
    expect(parseS3Uri('s3://my-bucket/a/b/')).toEqual({ bucket: 'my-bucket', prefix: 'a/b' });
    expect(parseS3Uri('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
  });
  it('rejects what is not an S3 URI', () => {
    expect(() => parseS3Uri('https://x/y')).toThrow(/s3:\/\/bucket/);
    expect(() => parseS3Uri('s3://A_B')).toThrow();
  });
});

describe('loadFallbackConfig', () => {
  it('enables S3 from OTEL_RELAY_FALLBACK_S3_URI with AES256 and the region from AWS_REGION', () => {
    const { config, problems } = loadFallbackConfig({
      OTEL_RELAY_FALLBACK_S3_URI: 's3://bkt/pre',
      OTEL_RELAY_S3_ENDPOINT: 'http://127.0.0.1:9',
      OTEL_RELAY_SPOOL_DIR: '/x/spool',
      AWS_REGION: 'eu-west-1',
    });
    expect(problems).toEqual([]);
    expect(config.s3).toMatchObject({
      bucket: 'bkt',
      prefix: 'pre',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9',
      sse: { type: 'AES256' },
    });
    expect(config.spoolDir).toBe('/x/spool');
  });

  it('uses aws:kms when a key id is given', () => {
    const { config } = loadFallbackConfig({
      OTEL_RELAY_FALLBACK_S3_URI: 's3://bkt',
      OTEL_RELAY_FALLBACK_S3_KMS_KEY_ID: 'alias/relay',
    });
    expect(config.s3?.sse).toEqual({ type: 'aws:kms', keyId: 'alias/relay' });
  });

  it('names a KMS key id that SSE=AES256 leaves unused, in one problem line', () => {
    const { config, problems } = loadFallbackConfig({
      OTEL_RELAY_FALLBACK_S3_URI: 's3://bkt',
      OTEL_RELAY_FALLBACK_S3_SSE: 'AES256',
      OTEL_RELAY_FALLBACK_S3_KMS_KEY_ID: 'alias/relay',
    });
    expect(config.s3?.sse).toEqual({ type: 'AES256' });
    expect(problems).toEqual([
      expect.stringMatching(/KMS_KEY_ID is set but .*SSE=AES256; the key is ignored/),
    ]);
  });

  it('turns S3 off with one problem line when the URI is bad, and keeps the spool', () => {
    const { config, problems } = loadFallbackConfig({ OTEL_RELAY_FALLBACK_S3_URI: 'bucket-only' });
    expect(config.s3).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/S3 spill is off/);
    expect(config.spoolDir).toMatch(/otel-relay-spool$/);
  });

  it('reads sizes with KiB/MiB suffixes', () => {
    expect(loadFallbackConfig({ OTEL_RELAY_SPOOL_MAX_BYTES: '16MiB' }).config.spoolMaxBytes).toBe(
      16 * 1024 * 1024,
    );
    expect(loadFallbackConfig({ OTEL_RELAY_SPILL_MIN_BYTES: '64k' }).config.spillMinBytes).toBe(64 * 1024);
  });

  it('names a bad number and uses the default', () => {
    const { config, problems } = loadFallbackConfig({ OTEL_RELAY_SPOOL_MAX_BYTES: 'lots' });
    expect(config.spoolMaxBytes).toBe(64 * 1024 * 1024);
    expect(problems[0]).toMatch(/OTEL_RELAY_SPOOL_MAX_BYTES=lots/);
  });
});
