// A tiny HTTP client on node:http/https: undici costs ~65 ms to load. Every call has a
// deadline and can be aborted, and a request on a keep-alive socket that the peer closed while the
// environment was frozen (ECONNRESET/EPIPE on a reused socket) is retried once on a fresh connection.
import http from 'node:http';
import type https from 'node:https';

export interface HttpDeadline {
  /** Time left for this call, request and response included. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Uint8Array;
}

/**
 * Where a request goes. A `{host, path}` target is sent with its path exactly as given: a URL would
 * collapse `.`/`..` segments, so a request signed for one path would be sent to another.
 */
export type HttpTarget = URL | { protocol: 'http:' | 'https:'; host: string; path: string };

/** Response bodies larger than this are refused unless the caller allows more (the export cap). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface HttpInit {
  method: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Largest response body accepted (default MAX_RESPONSE_BYTES); past it the call fails. */
  maxResponseBytes?: number;
}

export type HttpFailureKind = 'timeout' | 'aborted' | 'network';

/** The request did not get a response: nothing is known about whether the server acted on it. */
export class HttpRequestError extends Error {
  override readonly name = 'HttpRequestError';
  constructor(
    message: string,
    readonly kind: HttpFailureKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
// node:https (and TLS) load only when an https endpoint is used: loopback tests and the emulator
// never pay for it.
let httpsModule: Promise<{ mod: typeof https; agent: https.Agent }> | undefined;
function loadHttps() {
  // getBuiltinModule rather than import(): the layer runs its bundle through vm.Script (for the code
  // cache), where a dynamic import() has no loader.
  httpsModule ??= Promise.resolve(process.getBuiltinModule('node:https')).then((mod) => ({
    mod,
    agent: new mod.Agent({ keepAlive: true, maxSockets: 8 }),
  }));
  return httpsModule;
}

const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

export async function httpRequest(
  target: HttpTarget,
  init: HttpInit,
  deadline: HttpDeadline,
): Promise<HttpResponse> {
  const url = requestTarget(target);
  const transport = url.protocol === 'https:' ? await loadHttps() : { mod: http, agent: httpAgent };
  try {
    return await once(transport, url, init, deadline, true);
  } catch (err) {
    if (err instanceof StaleSocketError) return once(transport, url, init, deadline, false);
    throw err;
  }
}

class StaleSocketError extends Error {}

interface RequestTarget {
  protocol: string;
  hostname: string;
  port: string;
  /** host[:port], for messages. */
  host: string;
  path: string;
}

function requestTarget(target: HttpTarget): RequestTarget {
  // Only the origin goes through URL parsing; the path is kept byte for byte.
  const origin = target instanceof URL ? target : new URL(`${target.protocol}//${target.host}/`);
  const path = target instanceof URL ? `${target.pathname}${target.search}` : target.path;
  const hostname = origin.hostname.replace(/^\[(.*)\]$/, '$1');
  return { protocol: origin.protocol, hostname, port: origin.port, host: origin.host, path };
}

function once(
  transport: { mod: typeof http | typeof https; agent: http.Agent },
  url: RequestTarget,
  init: HttpInit,
  deadline: HttpDeadline,
  pooled: boolean,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (deadline.signal?.aborted) {
      reject(new HttpRequestError(`${init.method} ${url.host}: aborted before sending`, 'aborted'));
      return;
    }
    if (deadline.timeoutMs <= 0) {
      reject(new HttpRequestError(`${init.method} ${url.host}: no time left to send`, 'timeout'));
      return;
    }
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body) headers['content-length'] = init.body.byteLength;
    const req = transport.mod.request({
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port || undefined,
      path: url.path,
      method: init.method,
      headers,
      // A fresh connection is one the pool does not hand back later.
      agent: pooled ? transport.agent : false,
    });
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      deadline.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const timer = setTimeout(() => {
      finish(() =>
        reject(
          new HttpRequestError(
            `${init.method} ${url.host}: no response within ${deadline.timeoutMs} ms`,
            'timeout',
          ),
        ),
      );
      req.destroy();
    }, deadline.timeoutMs);
    const onAbort = () => {
      finish(() => reject(new HttpRequestError(`${init.method} ${url.host}: aborted`, 'aborted')));
      req.destroy();
    };
    deadline.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => {
      finish(() => {
        if (pooled && req.reusedSocket && err.code && STALE_SOCKET_CODES.has(err.code)) {
          reject(new StaleSocketError(err.message));
        } else {
          reject(
            new HttpRequestError(`${init.method} ${url.host}: ${err.code ?? err.message}`, 'network', {
              cause: err,
            }),
          );
        }
      });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const max = init.maxResponseBytes ?? MAX_RESPONSE_BYTES;
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= max) return void chunks.push(c);
        finish(() =>
          reject(
            new HttpRequestError(
              `${init.method} ${url.host}: response body larger than ${max} bytes; refused`,
              'network',
            ),
          ),
        );
        req.destroy();
      });
      res.on('error', (err) =>
        finish(() =>
          reject(
            new HttpRequestError(`${init.method} ${url.host}: response interrupted`, 'network', {
              cause: err,
            }),
          ),
        ),
      );
      res.on('end', () =>
        finish(() =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        ),
      );
    });
    req.end(init.body);
  });
}
