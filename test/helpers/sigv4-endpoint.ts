// A local HTTP endpoint that verifies each request's SigV4 signature the way AWS does: it takes the
// headers the request says it signed, signs the same request with the AWS SDK's signer
// (@smithy/signature-v4) and compares. It answers 200 to a valid signature and 403 otherwise, and
// keeps every request (path, service, headers, body, verdict) for the test to read.
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface VerifiedRequest {
  path: string;
  service: string;
  region: string;
  headers: Record<string, string>;
  body: Buffer;
  valid: boolean;
}

export interface SigV4Endpoint {
  /** http://<host>:<port>, without a path. */
  url: string;
  /** Every request received, in order. */
  seen: VerifiedRequest[];
  close(): Promise<void>;
}

/** The Sha256 constructor smithy expects, on node:crypto (the SDK's Node hash does the same). */
class NodeSha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
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

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

async function verify(
  credentials: SigV4Credentials,
  req: IncomingMessage,
  body: Buffer,
): Promise<VerifiedRequest> {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
  const m = AUTHORIZATION.exec(headers.authorization ?? '');
  const path = req.url ?? '/';
  if (!m) return { path, service: '', region: '', headers, body, valid: false };
  const [, keyId, , region, service, signedHeaders, signature] = m as unknown as string[];
  const signed: Record<string, string> = {};
  for (const h of signedHeaders!.split(';')) signed[h] = headers[h] ?? '';
  const stamp = headers['x-amz-date'] ?? '';
  const date = new Date(
    `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    credentials,
    region: region!,
    service: service!,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  // The signer adds the date and token headers itself.
  const { 'x-amz-date': _d, 'x-amz-security-token': _t, ...rest } = signed;
  const sdk = await signer.sign(
    { method: req.method ?? 'POST', protocol: 'http:', hostname: signed.host!, path, headers: rest, body },
    { signingDate: date },
  );
  const sdkSig = /Signature=([0-9a-f]{64})/.exec(String(sdk.headers.authorization))?.[1];
  const sdkSigned = /SignedHeaders=([^,]+)/.exec(String(sdk.headers.authorization))?.[1];
  return {
    path,
    service: service!,
    region: region!,
    headers,
    body,
    valid: keyId === credentials.accessKeyId && sdkSig === signature && sdkSigned === signedHeaders,
  };
}

/** Starts the endpoint on a free loopback port (host is 127.0.0.1 unless given). */
export async function startSigV4Endpoint(
  credentials: SigV4Credentials,
  host = '127.0.0.1',
): Promise<SigV4Endpoint> {
  const seen: VerifiedRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const v = await verify(credentials, req, Buffer.concat(chunks));
    seen.push(v);
    res.writeHead(v.valid ? 200 : 403, { 'content-type': 'application/x-protobuf' }).end();
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
