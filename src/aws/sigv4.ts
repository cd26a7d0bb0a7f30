// AWS Signature Version 4 with node:crypto only. The AWS SDK signer costs ~27 ms to load; this
// file costs nothing beyond node:crypto, which Node has already loaded.
import { createHash, createHmac } from 'node:crypto';

/** Long-term or temporary AWS credentials. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch ms after which temporary credentials must be fetched again. */
  expiration?: number;
}

/** What the signer needs to know about a request. */
export interface SignableRequest {
  method: string;
  /** Host header value, with the port when it is not the scheme's default. */
  host: string;
  /** The decoded path, e.g. `/bucket/year=2026/traces_x.binpb.gz`; the signer URI-encodes it. */
  path: string;
  /** Decoded query parameters, in any order. */
  query?: ReadonlyArray<readonly [string, string]>;
  /** Extra headers to send and sign (names in any case). */
  headers?: Readonly<Record<string, string>>;
  body?: Uint8Array | string;
}

export interface SigningParams {
  credentials: AwsCredentials;
  region: string;
  service: string;
  /** Signing time; from the injected clock, so signatures are reproducible in tests. */
  date: Date;
  /** S3 requires the payload hash as the `x-amz-content-sha256` header; other services do not. */
  contentSha256Header?: boolean;
}

export interface SignedRequest {
  /** Every header to send, `authorization` included (lower-case names). */
  headers: Record<string, string>;
  /** The path and query string exactly as they were signed: send this on the wire. */
  pathAndQuery: string;
  /** Exposed for tests against AWS's published intermediate values. */
  canonicalRequest: string;
  stringToSign: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 encoding as SigV4 defines it: everything but A-Z a-z 0-9 - _ . ~ is %XX (UTF-8, upper-case hex). */
export function uriEncode(value: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** `YYYYMMDDTHHMMSSZ`. */
export function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export function canonicalQueryString(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

// Header values are trimmed and inner runs of spaces collapse to one (SigV4 "Trimall").
function trimAll(value: string): string {
  return value.trim().replace(/ +/g, ' ');
}

// The signing key depends only on the secret, the day, the region and the service, so it is cached:
// a flush may sign several S3 calls within one second.
const keyCache = new Map<string, Buffer>();

function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const cacheKey = `${secret}\n${day}\n${region}\n${service}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** Signs a request with SigV4 (header form): returns the headers to send, `authorization` included. */
export function signRequest(req: SignableRequest, params: SigningParams): SignedRequest {
  const { credentials, region, service, date } = params;
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const payloadHash = sha256Hex(req.body ?? '');

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value;
  headers.host = req.host;
  headers['x-amz-date'] = stamp;
  if (params.contentSha256Header) headers['x-amz-content-sha256'] = payloadHash;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;

  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${trimAll(headers[n] ?? '')}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalUri = uriEncode(req.path || '/', true);
  const query = canonicalQueryString(req.query ?? []);

  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri,
    query,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, day, region, service))
    .update(stringToSign, 'utf8')
    .digest('hex');

  headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return {
    headers,
    pathAndQuery: query ? `${canonicalUri}?${query}` : canonicalUri,
    canonicalRequest,
    stringToSign,
  };
}

/** What a presigned (query-string) SigV4 URL is made of. */
export interface PresignableRequest {
  method: string;
  /** Host header value, with the port when the service signs it (RDS does). */
  host: string;
  path: string;
  /** The request's own query parameters. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Parameters added to the URL after signing (MSK's User-Agent). */
  unsignedQuery?: ReadonlyArray<readonly [string, string]>;
}

export interface PresignParams {
  credentials: AwsCredentials;
  region: string;
  service: string;
  date: Date;
  /** X-Amz-Expires, in seconds. */
  expiresInSeconds: number;
}

/**
 * Presigns a request in the query string (the "host" header is the only signed header and the payload
 * is empty), as the IAM auth tokens of MSK and RDS are made. Returns `path?query` with the parameters
 * sorted by name, as AWS's own URL formatter writes them, so a token is byte for byte what their
 * libraries make.
 */
export function presignRequest(req: PresignableRequest, params: PresignParams): string {
  const { credentials, region, service, date } = params;
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;
  const query: Array<readonly [string, string]> = [...req.query];
  if (credentials.sessionToken) query.push(['X-Amz-Security-Token', credentials.sessionToken]);
  query.push(
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', stamp],
    ['X-Amz-Expires', String(params.expiresInSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
  );
  const canonicalUri = uriEncode(req.path || '/', true);
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri,
    canonicalQueryString(query),
    `host:${trimAll(req.host)}\n`,
    'host',
    EMPTY_SHA256,
  ].join('\n');
  const stringToSign = [ALGORITHM, stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, day, region, service))
    .update(stringToSign, 'utf8')
    .digest('hex');
  query.push(['X-Amz-Signature', signature], ...(req.unsignedQuery ?? []));
  query.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${canonicalUri}?${query.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&')}`;
}
