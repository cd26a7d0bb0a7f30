// The awsxray and awslogs destinations against a local endpoint that verifies each request's SigV4
// signature the way AWS does: it takes the headers the request says it signed, signs the same request
// with the AWS SDK's signer (@smithy/signature-v4) and compares. The OTLP body must arrive untouched.
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDestination as createLogs } from '../../../src/extension/destinations/awslogs/index.js';
import { createDestination as createXray } from '../../../src/extension/destinations/awsxray/index.js';
import { otlpJsonToProtobuf } from '../../../src/otlp/index.js';
import { budget, clock, memoryLog, tracesRequest } from './fixtures.js';

const credentials = {
  accessKeyId: 'AKIDRELAYTEST',
  secretAccessKey: 'secret/with+odd=chars',
  sessionToken: 'tok/en+=',
};
const region = 'eu-central-1';

class NodeSha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
}
function bytes(d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof d === 'string') return d;
  return ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);
}

interface Verified {
  path: string;
  service: string;
  headers: Record<string, string>;
  body: Buffer;
  valid: boolean;
}

/** Verifies like AWS: same canonical request from the signed headers, signature by the SDK signer. */
async function verify(req: IncomingMessage, body: Buffer): Promise<Verified> {
  const auth = String(req.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
  if (!m) return { path: req.url ?? '', service: '', headers, body, valid: false };
  const [, keyId, , reqRegion, service, signedHeaders, signature] = m as unknown as string[];
  const signed: Record<string, string> = {};
  for (const h of signedHeaders!.split(';')) signed[h] = headers[h] ?? '';
  const stamp = headers['x-amz-date']!;
  const date = new Date(
    `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    credentials,
    region: reqRegion!,
    service: service!,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const { 'x-amz-date': _d, 'x-amz-security-token': _t, ...rest } = signed;
  const sdk = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: signed.host!,
      path: req.url ?? '/',
      headers: rest,
      body,
    },
    { signingDate: date },
  );
  const sdkSig = /Signature=([0-9a-f]{64})/.exec(String(sdk.headers.authorization))?.[1];
  const sdkSigned = /SignedHeaders=([^,]+)/.exec(String(sdk.headers.authorization))?.[1];
  return {
    path: req.url ?? '',
    service: service!,
    headers,
    body,
    valid: keyId === credentials.accessKeyId && sdkSig === signature && sdkSigned === signedHeaders,
  };
}

describe('awsxray and awslogs destinations, signed with SigV4', () => {
  let server: Server;
  let endpoint: string;
  const seen: Verified[] = [];
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const v = await verify(req, Buffer.concat(chunks));
      seen.push(v);
      res.writeHead(v.valid ? 200 : 403, { 'content-type': 'application/x-protobuf' }).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server?.close();
  });
  const awsEnv = {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };

  it('awsxray posts the untouched OTLP traces with a signature for service xray the SDK agrees with', async () => {
    // Prepare
    seen.length = 0;
    const dest = createXray({
      env: { ...awsEnv, OTEL_RELAY_AWSXRAY_ENDPOINT: `${endpoint}/v1/traces` },
      clock,
      log: memoryLog(),
    });
    const req = tracesRequest('xray-fn');
    // Act
    const outcome = await dest.export('traces', req.body, budget());
    // Assess
    expect(outcome).toEqual({ kind: 'success' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ valid: true, service: 'xray', path: '/v1/traces' });
    expect(seen[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(seen[0]!.headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(Buffer.compare(seen[0]!.body, Buffer.from(req.body))).toBe(0);
  });

  it('awslogs signs the log group and stream headers for service logs', async () => {
    // Prepare
    seen.length = 0;
    const dest = createLogs({
      env: {
        ...awsEnv,
        OTEL_RELAY_AWSLOGS_ENDPOINT: `${endpoint}/v1/logs`,
        OTEL_RELAY_AWSLOGS_LOG_GROUP: '/aws/otel/app',
        OTEL_RELAY_AWSLOGS_LOG_STREAM: 'relay stream',
      },
      clock,
      log: memoryLog(),
    });
    const body = otlpJsonToProtobuf(
      'logs',
      JSON.stringify({
        resourceLogs: [
          { scopeLogs: [{ logRecords: [{ body: { stringValue: 'hello' }, severityNumber: 9 }] }] },
        ],
      }),
    );
    // Act
    const outcome = await dest.export('logs', body, budget());
    // Assess
    expect(outcome).toEqual({ kind: 'success' });
    expect(seen[0]).toMatchObject({ valid: true, service: 'logs', path: '/v1/logs' });
    expect(seen[0]!.headers).toMatchObject({
      'x-aws-log-group': '/aws/otel/app',
      'x-aws-log-stream': 'relay stream',
    });
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(seen[0]!.headers.authorization!)?.[1]?.split(';');
    expect(signedHeaders).toEqual(
      expect.arrayContaining(['x-aws-log-group', 'x-aws-log-stream', 'host', 'x-amz-date']),
    );
  });

  it('a request signed with other credentials is refused by the verifier (the check can fail)', async () => {
    seen.length = 0;
    const dest = createXray({
      env: {
        ...awsEnv,
        AWS_SECRET_ACCESS_KEY: 'not-the-secret',
        OTEL_RELAY_AWSXRAY_ENDPOINT: `${endpoint}/v1/traces`,
      },
      clock,
      log: memoryLog(),
    });
    const outcome = await dest.export('traces', tracesRequest('x').body, budget());
    expect(outcome).toMatchObject({ kind: 'failed', status: 403 });
    expect(seen[0]!.valid).toBe(false);
  });

  it('without credentials the batch is kept (retryable, not this flush) and the reason says so', async () => {
    const dest = createXray({
      env: { AWS_REGION: region, OTEL_RELAY_AWSXRAY_ENDPOINT: `${endpoint}/v1/traces` },
      clock,
      log: memoryLog(),
    });
    const outcome = await dest.export('traces', tracesRequest('x').body, budget());
    expect(outcome).toMatchObject({
      kind: 'retryable',
      notThisFlush: true,
      reason: expect.stringMatching(/no AWS credentials/),
    });
  });

  it('defaults to the regional endpoint and requires a log group for awslogs', () => {
    expect(() => createLogs({ env: awsEnv, clock, log: memoryLog() })).toThrow(
      /OTEL_RELAY_AWSLOGS_LOG_GROUP is required/,
    );
  });
});
