// Our S3 client and the S3 spill against a real S3-protocol server (moto), checked with the reference
// client (@aws-sdk/client-s3).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Client, S3Error } from '../../../src/aws/index.js';
import type { Logger, SignalExporter } from '../../../src/extension/export/index.js';
import { createFallbackDelivery, parseObjectKey } from '../../../src/extension/fallback/index.js';
import { type S3Peer, startS3 } from '../../helpers/s3.js';

let s3: S3Peer;
let client: S3Client;
const creds = async () => ({ accessKeyId: 'testing', secretAccessKey: 'testing', sessionToken: 'testing' });

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket('relay-fallback');
  client = new S3Client({ region: s3.region, endpoint: s3.endpoint, credentials: creds });
});
afterAll(async () => {
  await s3?.stop();
});

describe('S3Client against moto', () => {
  it('puts an object the reference client reads back, encrypted with AES256', async () => {
    const key = 'p/year=2026/month=11/day=21/hour=07/minute=05/traces_a b$c.binpb.gz';
    await client.putObject({
      bucket: 'relay-fallback',
      key,
      body: new Uint8Array([1, 2, 3]),
      metadata: { 'otel-items': '3' },
    });
    expect((await client.getObjectWithMetadata({ bucket: 'relay-fallback', key })).metadata).toEqual({
      'otel-items': '3',
    });
    expect([...(await s3.getObject('relay-fallback', key))]).toEqual([1, 2, 3]);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: 'relay-fallback', Key: key }));
    expect(head.ServerSideEncryption).toBe('AES256');
  });

  it('asks for SSE-KMS with the given key when configured', async () => {
    const key = 'kms/object.binpb.gz';
    await client.putObject({
      bucket: 'relay-fallback',
      key,
      body: new Uint8Array([7]),
      sse: { type: 'aws:kms', keyId: 'alias/otel-relay' },
    });
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: 'relay-fallback', Key: key }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toContain('otel-relay');
  });

  it('lists across pages, gets and deletes', async () => {
    for (let i = 0; i < 5; i++) {
      await client.putObject({ bucket: 'relay-fallback', key: `list/k${i}`, body: new Uint8Array([i]) });
    }
    const page = await client.listObjectsV2({ bucket: 'relay-fallback', prefix: 'list/', maxKeys: 2 });
    expect(page.objects.map((o) => o.key)).toEqual(['list/k0', 'list/k1']);
    expect(page.nextContinuationToken).toBeDefined();
    const all: string[] = [];
    for await (const o of client.listAll({ bucket: 'relay-fallback', prefix: 'list/' })) all.push(o.key);
    expect(all).toEqual(['list/k0', 'list/k1', 'list/k2', 'list/k3', 'list/k4']);
    expect([...(await client.getObject({ bucket: 'relay-fallback', key: 'list/k3' }))]).toEqual([3]);
    await client.deleteObject({ bucket: 'relay-fallback', key: 'list/k3' });
    expect((await s3.listObjects('relay-fallback', 'list/')).map((o) => o.key)).not.toContain('list/k3');
  });

  it('raises S3Error with the S3 code for a missing bucket', async () => {
    const err = await client
      .putObject({ bucket: 'no-such-bucket', key: 'k', body: new Uint8Array([1]) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3Error);
    expect((err as S3Error).code).toBe('NoSuchBucket');
    expect((err as S3Error).status).toBe(404);
  });
});

describe('S3 spill against moto', () => {
  it('writes a dead collector batch as a gzipped awss3exporter object holding the exact bytes', async () => {
    const lines: string[] = [];
    const log: Logger = {
      debug: () => {},
      info: () => {},
      warn: (m) => lines.push(m),
      error: (m) => lines.push(m),
    };
    const exporter: SignalExporter = {
      export: async () => ({ kind: 'retryable', reason: 'connect ECONNREFUSED' }),
      resetConnections() {},
      close() {},
    };
    const delivery = createFallbackDelivery(
      {
        exporter,
        env: {
          OTEL_RELAY_FALLBACK_S3_URI: 's3://relay-fallback/spill',
          OTEL_RELAY_S3_ENDPOINT: s3.endpoint,
          OTEL_RELAY_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'spill-it-')),
          AWS_REGION: s3.region,
        },
        clock: { now: Date.now, monotonic: () => performance.now() },
        log,
      },
      { s3Client: client },
    );
    const body = new Uint8Array(Array.from({ length: 300 }, (_, i) => i % 251));
    const res = await delivery.deliver(
      { signal: 'logs', body, items: 7, oldestAcceptedAt: Date.now() },
      { deadline: Date.now() + 5000, abort: new AbortController().signal, reason: 'invoke' },
    );
    expect(res.kind).toBe('spilled');
    const objects = await s3.listObjects('relay-fallback', 'spill/');
    expect(objects).toHaveLength(1);
    const key = objects[0]?.key ?? '';
    expect(parseObjectKey(key)).toMatchObject({ signal: 'logs', gzip: true });
    expect(res).toEqual({ kind: 'spilled', items: 7, location: `s3://relay-fallback/${key}` });
    expect([...gunzipSync(await s3.getObject('relay-fallback', key))]).toEqual([...body]);
    expect(
      lines.some((l) =>
        l.startsWith(
          `7 log records spilled to s3://relay-fallback/${key} (collector unavailable: connect ECONNREFUSED`,
        ),
      ),
    ).toBe(true);
    expect(await delivery.spool.list()).toEqual([]);
  });
});
