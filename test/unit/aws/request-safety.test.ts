// Security review 2, 7, 8: requests go to exactly the path that was signed, response bodies are
// capped, dot-segment keys are refused, and the container credentials token only goes to the agent,
// loopback or https. Real loopback servers record what actually arrived.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { allowedCredentialsEndpoint, fetchContainerCredentials } from '../../../src/aws/credentials.js';
import { HttpRequestError, httpRequest, S3Client } from '../../../src/aws/index.js';
import { listS3 } from '../../../src/cli/replay/sources.js';
import { parseS3Uri } from '../../../src/extension/fallback/index.js';

let server: Server | undefined;
const seen: string[] = [];
afterEach(async () => {
  const s = server;
  server = undefined;
  if (s) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  seen.length = 0;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    handler?.(req, res);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const creds = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

describe('request paths', () => {
  it('sends a {host, path} target with its dot segments untouched', async () => {
    const host = await listen((_req, res) => res.end('ok'));
    await httpRequest(
      { protocol: 'http:', host, path: '/b/a/../c/./d' },
      { method: 'GET' },
      { timeoutMs: 2000 },
    );
    expect(seen).toEqual(['/b/a/../c/./d']);
  });

  it('refuses an S3 key with a ".." segment before sending anything', async () => {
    const host = await listen((_req, res) => res.end('ok'));
    const s3 = new S3Client({ region: 'us-east-1', endpoint: `http://${host}`, credentials: creds });
    await expect(s3.getObject({ bucket: 'bucket', key: 'otel/../secret' })).rejects.toThrow(/segment/);
    await expect(
      s3.putObject({ bucket: 'bucket', key: 'otel/./x', body: new Uint8Array(1) }),
    ).rejects.toThrow(/segment/);
    expect(seen).toEqual([]);
  });

  it('refuses an S3 URI whose prefix has a "." or ".." segment', () => {
    expect(() => parseS3Uri('s3://bucket/otel/../other')).toThrow(/segment/);
    expect(() => parseS3Uri('s3://bucket/./otel')).toThrow(/segment/);
    expect(parseS3Uri('s3://bucket/otel..v2/x.y')).toEqual({ bucket: 'bucket', prefix: 'otel..v2/x.y' });
  });
});

describe('response size', () => {
  it('fails a call whose response body passes the cap instead of buffering it', async () => {
    const host = await listen((_req, res) => {
      res.write(Buffer.alloc(600 * 1024));
      res.end(Buffer.alloc(600 * 1024));
    });
    const err = await httpRequest(
      new URL(`http://${host}/big`),
      { method: 'GET' },
      { timeoutMs: 5000 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpRequestError);
    expect((err as Error).message).toMatch(/larger than 1048576 bytes/);
  });

  it('accepts a larger body when the caller raises the cap', async () => {
    const host = await listen((_req, res) => res.end(Buffer.alloc(2 * 1024 * 1024)));
    const res = await httpRequest(
      new URL(`http://${host}/big`),
      { method: 'GET', maxResponseBytes: 4 * 1024 * 1024 },
      { timeoutMs: 5000 },
    );
    expect(res.body.length).toBe(2 * 1024 * 1024);
  });
});

describe('container credentials endpoint', () => {
  it('does not send the token to a plain-http endpoint that is not loopback or an agent', async () => {
    // 127.0.0.2 would be loopback; 10.x is not, and nothing is listening there to receive the token.
    await expect(fetchContainerCredentials('http://10.255.255.1:8080/creds', 'TOKEN')).rejects.toThrow(
      /not loopback/,
    );
  });

  it('allows loopback, the ECS and EKS agent addresses and https, as the AWS SDK does', () => {
    for (const ok of [
      'http://127.0.0.1:9000/c',
      'http://127.3.2.1/c',
      'http://localhost:1/c',
      'http://[::1]:80/c',
      'http://169.254.170.2/v2/credentials/x',
      'http://169.254.170.23/v1/credentials',
      'http://[fd00:ec2::23]/v1/credentials',
      'https://creds.example.com/c',
    ])
      expect(allowedCredentialsEndpoint(new URL(ok)), ok).toBe(true);
    for (const bad of [
      'http://example.com/c',
      'http://169.254.169.254/c',
      'http://10.0.0.1/c',
      'file:///etc/passwd',
    ])
      expect(allowedCredentialsEndpoint(new URL(bad)), bad).toBe(false);
  });

  it('still fetches from a loopback endpoint', async () => {
    const host = await listen((_req, res) =>
      res.end(JSON.stringify({ AccessKeyId: 'A', SecretAccessKey: 'S', Token: 'T' })),
    );
    const c = await fetchContainerCredentials(`http://${host}/creds`, 'TOKEN');
    expect(c).toMatchObject({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' });
  });
});

describe('replay listing', () => {
  it('refuses listed keys with a dot segment and never fetches them', async () => {
    const keys = [
      'otel/year=2026/month=11/day=21/hour=07/minute=42/traces_0192.binpb.gz',
      'otel/year=2026/month=11/day=21/hour=07/../../../../secret/traces_0193.binpb.gz',
    ];
    const host = await listen((_req, res) => {
      res.setHeader('content-type', 'application/xml');
      res.end(
        `<ListBucketResult>${keys.map((k) => `<Contents><Key>${k}</Key><Size>10</Size></Contents>`).join('')}<IsTruncated>false</IsTruncated></ListBucketResult>`,
      );
    });
    const s3 = new S3Client({ region: 'us-east-1', endpoint: `http://${host}`, credentials: creds });
    const listing = await listS3(s3, { bucket: 'bucket', prefix: 'otel' }, {}, new Set(['traces'] as const));
    expect(listing.items.map((i) => i.id)).toEqual([`s3://bucket/${keys[0]}`]);
    expect(listing.refused).toEqual([`s3://bucket/${keys[1]}`]);
    expect(seen.filter((u) => !u.includes('list-type'))).toEqual([]);
  });
});
