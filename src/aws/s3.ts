// The four S3 calls the relay needs, signed with our own SigV4. Small on purpose: the extension
// must not load the AWS SDK, and the CLI's `replay` reuses the same client.
import { type CredentialProvider, defaultCredentialProvider } from './credentials.js';
import { type HttpResponse, httpRequest } from './http.js';
import { signRequest } from './sigv4.js';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

/** Time allowed for one S3 call: an absolute deadline (clock ms) and/or an abort signal. */
export interface CallBudget {
  deadline?: number;
  signal?: AbortSignal;
}

export type ServerSideEncryption = { type: 'AES256' } | { type: 'aws:kms'; keyId?: string };

export interface S3ClientOptions {
  region: string;
  /** An S3-compatible endpoint (`http://127.0.0.1:4566`); requests then use path-style addressing. */
  endpoint?: string;
  credentials?: CredentialProvider;
  clock?: Clock;
}

export interface S3ObjectSummary {
  key: string;
  size: number;
  lastModified: string;
}

export interface ListObjectsV2Page {
  objects: S3ObjectSummary[];
  nextContinuationToken?: string;
}

/** S3 answered with an error status. `code` is S3's error code (`AccessDenied`, `NoSuchKey`, ...). */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEFAULT_CALL_MS = 10_000;
/** GetObject bodies: the largest batch the relay writes (its buffer's upper bound). */
const MAX_OBJECT_BYTES = 1024 * 1024 * 1024;
/** Any other S3 answer (a ListObjectsV2 page of 1000 long keys, an error document). */
const MAX_S3_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A key with a `.` or `..` segment: signed as written, but a URL or proxy might resolve it elsewhere. */
function hasDotSegment(key: string): boolean {
  return key.split('/').some((s) => s === '.' || s === '..');
}

export class S3Client {
  readonly region: string;
  private readonly endpoint: URL | undefined;
  private readonly credentials: CredentialProvider;
  private readonly clock: Clock;

  constructor(options: S3ClientOptions) {
    this.region = options.region;
    this.endpoint = options.endpoint ? new URL(options.endpoint) : undefined;
    this.credentials = options.credentials ?? defaultCredentialProvider();
    this.clock = options.clock ?? { now: Date.now };
  }

  /** PutObject with server-side encryption (AES256 unless told otherwise). */
  async putObject(
    input: {
      bucket: string;
      key: string;
      body: Uint8Array;
      contentType?: string;
      contentEncoding?: string;
      sse?: ServerSideEncryption;
      /** User metadata, sent as `x-amz-meta-<name>` (names lower-case ASCII). */
      metadata?: Record<string, string>;
    },
    budget: CallBudget = {},
  ): Promise<{ etag?: string }> {
    const headers: Record<string, string> = {
      'content-type': input.contentType ?? 'application/octet-stream',
    };
    if (input.contentEncoding) headers['content-encoding'] = input.contentEncoding;
    const sse = input.sse ?? { type: 'AES256' };
    headers['x-amz-server-side-encryption'] = sse.type;
    if (sse.type === 'aws:kms' && sse.keyId)
      headers['x-amz-server-side-encryption-aws-kms-key-id'] = sse.keyId;
    for (const [name, value] of Object.entries(input.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
    const res = await this.send('PUT', input.bucket, input.key, [], headers, input.body, budget);
    const etag = res.headers.etag;
    return typeof etag === 'string' ? { etag } : {};
  }

  async getObject(input: { bucket: string; key: string }, budget: CallBudget = {}): Promise<Uint8Array> {
    return (await this.getObjectWithMetadata(input, budget)).body;
  }

  /** GetObject, with the object's user metadata (`x-amz-meta-*`, names without the prefix). */
  async getObjectWithMetadata(
    input: { bucket: string; key: string },
    budget: CallBudget = {},
  ): Promise<{ body: Uint8Array; metadata: Record<string, string> }> {
    const res = await this.send('GET', input.bucket, input.key, [], {}, undefined, budget, MAX_OBJECT_BYTES);
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name.slice(11)] = value;
    }
    return { body: res.body, metadata };
  }

  async deleteObject(input: { bucket: string; key: string }, budget: CallBudget = {}): Promise<void> {
    await this.send('DELETE', input.bucket, input.key, [], {}, undefined, budget);
  }

  async listObjectsV2(
    input: {
      bucket: string;
      prefix?: string;
      startAfter?: string;
      continuationToken?: string;
      maxKeys?: number;
    },
    budget: CallBudget = {},
  ): Promise<ListObjectsV2Page> {
    const query: [string, string][] = [['list-type', '2']];
    if (input.prefix) query.push(['prefix', input.prefix]);
    if (input.startAfter) query.push(['start-after', input.startAfter]);
    if (input.continuationToken) query.push(['continuation-token', input.continuationToken]);
    if (input.maxKeys) query.push(['max-keys', String(input.maxKeys)]);
    const res = await this.send('GET', input.bucket, '', query, {}, undefined, budget);
    return parseListObjectsV2(Buffer.from(res.body).toString('utf8'));
  }

  /** Every object under a prefix, page by page. */
  async *listAll(
    input: { bucket: string; prefix?: string; startAfter?: string },
    budget: CallBudget = {},
  ): AsyncGenerator<S3ObjectSummary> {
    let token: string | undefined;
    do {
      const page = await this.listObjectsV2({ ...input, continuationToken: token }, budget);
      yield* page.objects;
      token = page.nextContinuationToken;
    } while (token);
  }

  /** `s3://bucket/key`, for log lines. */
  static uri(bucket: string, key: string): string {
    return `s3://${bucket}/${key}`;
  }

  private async send(
    method: string,
    bucket: string,
    key: string,
    query: [string, string][],
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    budget: CallBudget,
    maxResponseBytes = MAX_S3_RESPONSE_BYTES,
  ): Promise<HttpResponse> {
    if (hasDotSegment(key)) {
      throw new S3Error(
        `S3 ${method} ${S3Client.uri(bucket, key)} refused: the key has a "." or ".." segment`,
        0,
        'InvalidObjectKey',
      );
    }
    const deadline = budget.deadline ?? this.clock.now() + DEFAULT_CALL_MS;
    const credentials = await this.credentials({
      timeoutMs: deadline - this.clock.now(),
      signal: budget.signal,
    });
    // Path-style for custom endpoints and for bucket names with dots (TLS wildcards do not match them).
    const pathStyle = this.endpoint !== undefined || bucket.includes('.');
    const base = this.endpoint ?? new URL(`https://s3.${this.region}.amazonaws.com`);
    const host = pathStyle ? base.host : `${bucket}.${base.host}`;
    const path = pathStyle ? `/${bucket}/${key}` : `/${key}`;
    const signed = signRequest(
      { method, host, path, query, headers, body },
      {
        credentials,
        region: this.region,
        service: 's3',
        date: new Date(this.clock.now()),
        contentSha256Header: true,
      },
    );
    const res = await httpRequest(
      { protocol: base.protocol === 'http:' ? 'http:' : 'https:', host, path: signed.pathAndQuery },
      { method, headers: signed.headers, body, maxResponseBytes },
      { timeoutMs: deadline - this.clock.now(), signal: budget.signal },
    );
    if (res.status >= 300) {
      const text = Buffer.from(res.body).toString('utf8');
      const code = xmlTag(text, 'Code') ?? `HTTP${res.status}`;
      const message = xmlTag(text, 'Message') ?? '';
      throw new S3Error(
        `S3 ${method} ${S3Client.uri(bucket, key)} failed: HTTP ${res.status} ${code}${message ? ` (${message})` : ''}`,
        res.status,
        code,
      );
    }
    return res;
  }
}

function xmlDecode(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(
      e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10),
    );
  });
}

function xmlTag(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m?.[1] === undefined ? undefined : xmlDecode(m[1]);
}

export function parseListObjectsV2(xml: string): ListObjectsV2Page {
  const objects: S3ObjectSummary[] = [];
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const block = m[1] ?? '';
    const key = xmlTag(block, 'Key');
    if (key === undefined) continue;
    objects.push({
      key,
      size: Number(xmlTag(block, 'Size') ?? 0),
      lastModified: xmlTag(block, 'LastModified') ?? '',
    });
  }
  const truncated = xmlTag(xml, 'IsTruncated') === 'true';
  const token = xmlTag(xml, 'NextContinuationToken');
  return truncated && token ? { objects, nextContinuationToken: token } : { objects };
}
