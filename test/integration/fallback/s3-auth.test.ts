// Our SigV4 signatures checked by a real server: moto verifies signatures once its first N requests
// (INITIAL_NO_AUTH_ACTION_COUNT) are used up, against IAM users created in those N requests.
// (moto's verifier disagrees with AWS and with @aws-sdk/client-s3 alike on keys holding = $ : +, so
// the keys here avoid them; the awss3exporter-layout keys are checked in s3.test.ts without auth.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsJsonCall, getSecretValue, S3Client, S3Error, signRequest } from '../../../src/aws/index.js';
import { type S3Peer, startS3 } from '../../helpers/s3.js';

let s3: S3Peer;
let accessKeyId = '';
let secretAccessKey = '';

async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const url = new URL(endpoint);
  const body = new URLSearchParams({ ...params, Version: '2010-05-08' }).toString();
  const signed = signRequest(
    {
      method: 'POST',
      host: url.host,
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    },
    {
      credentials: { accessKeyId: 'bootstrap', secretAccessKey: 'bootstrap' },
      region: 'us-east-1',
      service: 'iam',
      date: new Date(),
    },
  );
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: signed.headers,
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`IAM ${params.Action} answered ${res.status}: ${text}`);
  return text;
}

beforeAll(async () => {
  // This file runs in its own process (pool: forks), so the variable reaches only this moto.
  process.env.INITIAL_NO_AUTH_ACTION_COUNT = '4';
  s3 = await startS3();
  await iam(s3.endpoint, { Action: 'CreateUser', UserName: 'relay' });
  const key = await iam(s3.endpoint, { Action: 'CreateAccessKey', UserName: 'relay' });
  accessKeyId = /<AccessKeyId>([^<]+)</.exec(key)?.[1] ?? '';
  secretAccessKey = /<SecretAccessKey>([^<]+)</.exec(key)?.[1] ?? '';
  await iam(s3.endpoint, {
    Action: 'PutUserPolicy',
    UserName: 'relay',
    PolicyName: 'all',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:*', 'secretsmanager:*'], Resource: '*' }],
    }),
  });
  const res = await fetch(`${s3.endpoint}/signed`, { method: 'PUT', signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await s3?.stop();
});

describe('SigV4 against a signature-checking server', () => {
  it('is accepted for PutObject, ListObjectsV2, GetObject and DeleteObject', async () => {
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      credentials: async () => ({ accessKeyId, secretAccessKey }),
    });
    const key = 'fallback/2026/11/21/traces_0192f0c1-abcd.binpb.gz';
    await client.putObject({
      bucket: 'signed',
      key,
      body: new Uint8Array([9, 8, 7]),
      contentEncoding: 'gzip',
      metadata: { 'otel-items': '3' },
    });
    const page = await client.listObjectsV2({ bucket: 'signed', prefix: 'fallback/' });
    expect(page.objects.map((o) => o.key)).toEqual([key]);
    expect([...(await client.getObject({ bucket: 'signed', key }))]).toEqual([9, 8, 7]);
    await client.deleteObject({ bucket: 'signed', key });
    expect((await client.listObjectsV2({ bucket: 'signed' })).objects).toEqual([]);
  });

  it('is refused with SignatureDoesNotMatch when the secret is wrong', async () => {
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      credentials: async () => ({ accessKeyId, secretAccessKey: `${secretAccessKey}x` }),
    });
    const err = await client
      .putObject({ bucket: 'signed', key: 'nope', body: new Uint8Array([1]) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3Error);
    expect((err as S3Error).status).toBe(403);
    expect((err as S3Error).code).toBe('SignatureDoesNotMatch');
  });

  it('is accepted for the Secrets Manager JSON protocol', async () => {
    const options = {
      region: 'us-east-1',
      endpoint: s3.endpoint,
      credentials: async () => ({ accessKeyId, secretAccessKey }),
    };
    await awsJsonCall(
      'secretsmanager',
      'secretsmanager.CreateSecret',
      { Name: 'h', SecretString: 'k=v' },
      options,
    );
    expect(await getSecretValue('h', options)).toBe('k=v');
  });
});
