// OTLP exporters over node:http/https (protobuf, gzip by default) and node:http2 (gRPC). Each call
// is ONE attempt (retry policy lives in retry.ts), bounded by the budget.

import { readFileSync } from 'node:fs';
import http from 'node:http';
// https (TLS), http2 and zlib are loaded by the first export that needs them, not at startup.
import type http2 from 'node:http2';
import type https from 'node:https';
import type net from 'node:net';
import { decodeExportResponse, type Signal } from '../../otlp/index.js';
import { errorText } from '../log.js';
import type { SignalEndpoint, TlsFiles } from '../settings/types.js';
import type { Clock, ExportOutcome, FlushBudget, SignalExporter } from './types.js';

const USER_AGENT = 'lambda-otel-relay/0.1';
const MAX_RESPONSE_BYTES = 1024 * 1024;

export const GRPC_EXPORT_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/** The connect error code of a LookupFor that found the endpoint is this relay itself. */
export const SELF_LOOP_CODE = 'ERELAYLOOP';

/** How an endpoint's connections resolve its name; undefined for the default `dns.lookup`. */
export type LookupFor = (url: URL) => net.LookupFunction | undefined;

/** One exporter for all signals; each signal goes out by its own endpoint's protocol. */
export function createOtlpExporter(
  endpoints: Record<Signal, SignalEndpoint>,
  clock: Clock,
  lookupFor: LookupFor = () => undefined,
): SignalExporter {
  const httpT = new HttpTransport(clock, lookupFor);
  const grpcT = new GrpcTransport(clock, lookupFor);
  return {
    export(signal, body, budget) {
      const ep = endpoints[signal];
      return ep.protocol === 'grpc'
        ? grpcT.send(signal, ep, body, budget)
        : httpT.send(signal, ep, body, budget);
    },
    resetConnections() {
      httpT.reset();
      grpcT.reset();
    },
    close() {
      httpT.reset();
      grpcT.reset();
    },
  };
}

/** The PEM material of an endpoint's TLS files, or why it could not be read. */
type TlsMaterial = { ca?: Buffer; cert?: Buffer; key?: Buffer } | { error: string };

/**
 * Reads each endpoint's TLS files once, on its first export (never at init); a failed read is tried
 * again on a later export, since the file may appear (e.g. written by another extension).
 */
class TlsFilesCache {
  private readonly loaded = new Map<string, TlsMaterial>();

  static key(tls: TlsFiles | undefined): string {
    return tls ? `${tls.certificate ?? ''}|${tls.clientCertificate ?? ''}|${tls.clientKey ?? ''}` : '';
  }

  material(tls: TlsFiles | undefined): TlsMaterial {
    if (!tls) return {};
    const key = TlsFilesCache.key(tls);
    const cached = this.loaded.get(key);
    if (cached && !('error' in cached)) return cached;
    let m: TlsMaterial;
    try {
      m = {};
      if (tls.certificate) m.ca = readFileSync(tls.certificate);
      if (tls.clientCertificate && tls.clientKey) {
        m.cert = readFileSync(tls.clientCertificate);
        m.key = readFileSync(tls.clientKey);
      }
    } catch (err) {
      m = { error: `TLS file unreadable: ${errorText(err)}` };
    }
    this.loaded.set(key, m);
    return m;
  }
}

/** Time one attempt may take: the endpoint's timeout, within what is left of the flush budget. */
function attemptMs(ep: SignalEndpoint, budget: FlushBudget, clock: Clock): number | undefined {
  const remaining = Math.floor(Math.min(ep.timeoutMs, budget.deadline - clock.now()));
  return remaining <= 0 || budget.abort.aborted ? undefined : remaining;
}

const BUDGET_EXHAUSTED: ExportOutcome = {
  kind: 'retryable',
  reason: 'flush budget exhausted before sending',
};

function gzipAsync(body: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    process.getBuiltinModule('node:zlib').gzip(body, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

/** Retry-After: seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/**
 * Connect errors that mean nothing is there to answer: no process on the port, no route, no such
 * host. Another attempt a few milliseconds later finds the same, so the export goes to the fallback
 * at once (`notThisFlush`) and counts toward the breaker, instead of paying the retry back-off.
 */
const NOTHING_LISTENING = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
  // The name resolves to this relay's own receiver (see LookupFor): no collector is there either.
  SELF_LOOP_CODE,
]);

/** The code of `err` or of a cause (http2 wraps the connect error in a stream cancel) meaning nobody listens. */
export function nothingListeningCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && NOTHING_LISTENING.has(code)) return code;
    e = e.cause;
  }
  return undefined;
}

function connectFailure(reason: string, err: unknown): ExportOutcome {
  return nothingListeningCode(err)
    ? { kind: 'retryable', reason, notThisFlush: true }
    : { kind: 'retryable', reason };
}

class HttpTransport {
  private httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  /** One pool per set of TLS files ('' for Node's default roots and no client certificate). */
  private readonly httpsAgents = new Map<string, https.Agent>();
  private readonly tlsFiles = new TlsFilesCache();
  constructor(
    private readonly clock: Clock,
    private readonly lookupFor: LookupFor,
  ) {}

  reset() {
    this.httpAgent.destroy();
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    for (const a of this.httpsAgents.values()) a.destroy();
    this.httpsAgents.clear();
  }

  private agentFor(ep: SignalEndpoint): http.Agent | { error: string } {
    if (ep.url.protocol !== 'https:') return this.httpAgent;
    const key = TlsFilesCache.key(ep.tls);
    const existing = this.httpsAgents.get(key);
    if (existing) return existing;
    const material = this.tlsFiles.material(ep.tls);
    if ('error' in material) return material;
    const agent = new (process.getBuiltinModule('node:https').Agent)({
      keepAlive: true,
      maxSockets: 8,
      ...material,
    });
    this.httpsAgents.set(key, agent);
    return agent;
  }

  async send(
    signal: Signal,
    ep: SignalEndpoint,
    body: Uint8Array,
    budget: FlushBudget,
  ): Promise<ExportOutcome> {
    const payload = ep.compression === 'gzip' ? await gzipAsync(body) : body;
    const first = await this.attempt(signal, ep, payload, budget);
    // A kept-alive socket the peer closed while we were frozen fails on first use; that is not a
    // verdict on the collector, so the same attempt goes again once on a fresh connection.
    if (first.staleSocket && !budget.abort.aborted && budget.deadline > this.clock.now()) {
      return (await this.attempt(signal, ep, payload, budget)).outcome;
    }
    return first.outcome;
  }

  private attempt(
    signal: Signal,
    ep: SignalEndpoint,
    payload: Uint8Array,
    budget: FlushBudget,
  ): Promise<{ outcome: ExportOutcome; staleSocket?: boolean }> {
    const remaining = attemptMs(ep, budget, this.clock);
    if (remaining === undefined) return Promise.resolve({ outcome: BUDGET_EXHAUSTED });
    const agent = this.agentFor(ep);
    if ('error' in agent) {
      return Promise.resolve({
        outcome: { kind: 'retryable', reason: `export of ${signal} to ${ep.url.host}: ${agent.error}` },
      });
    }
    const mod = ep.url.protocol === 'https:' ? process.getBuiltinModule('node:https') : http;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: ExportOutcome, staleSocket = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        budget.abort.removeEventListener('abort', onAbort);
        resolve({ outcome, staleSocket });
      };
      const req = mod.request(
        ep.url,
        {
          method: 'POST',
          agent,
          lookup: this.lookupFor(ep.url),
          headers: {
            ...ep.headers,
            'content-type': 'application/x-protobuf',
            'content-length': payload.length,
            'user-agent': USER_AGENT,
            ...(ep.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
          });
          res.on('error', (err) =>
            finish({ kind: 'retryable', reason: `response failed: ${errorText(err)}` }),
          );
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks);
            if (status >= 200 && status < 300) {
              let partial: { rejected: number; message: string } | undefined;
              try {
                const ct = String(res.headers['content-type'] ?? '');
                if (text.length > 0 && ct.includes('protobuf')) partial = decodeExportResponse(signal, text);
              } catch {
                // An unreadable success body is still a success: the collector said 2xx.
              }
              finish(partial && partial.rejected > 0 ? { kind: 'partial', ...partial } : { kind: 'success' });
              return;
            }
            const reason = `collector answered ${status} for ${signal}: ${bodyText(text)}`;
            if (RETRYABLE_HTTP.has(status)) {
              const retryAfterMs = parseRetryAfter(
                res.headers['retry-after'] as string | undefined,
                this.clock.now(),
              );
              finish({
                kind: 'retryable',
                reason,
                status,
                ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
              });
            } else finish({ kind: 'failed', reason, status });
          });
        },
      );
      const onAbort = () => req.destroy(new Error('flush budget ended (aborted before next)'));
      budget.abort.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${remaining} ms`)), remaining);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const stale = req.reusedSocket && STALE_SOCKET.has(err.code ?? '');
        finish(connectFailure(`export of ${signal} to ${ep.url.host} failed: ${errorText(err)}`, err), stale);
      });
      req.end(payload);
    });
  }
}

function bodyText(b: Buffer): string {
  // Status bodies are protobuf; the printable part still says what the collector objected to.
  return b
    .toString('utf8')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, 300);
}

/** gRPC status codes that the OTLP spec calls retryable. */
const RETRYABLE_GRPC = new Set([1, 4, 8, 10, 11, 14, 15]);

class GrpcTransport {
  /** One session per origin and set of TLS files. */
  private sessions = new Map<string, http2.ClientHttp2Session>();
  private readonly tlsFiles = new TlsFilesCache();
  constructor(
    private readonly clock: Clock,
    private readonly lookupFor: LookupFor,
  ) {}

  reset() {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }

  private session(ep: SignalEndpoint): http2.ClientHttp2Session {
    const origin = ep.url.origin;
    const secure = ep.url.protocol === 'https:';
    const key = secure ? `${origin} ${TlsFilesCache.key(ep.tls)}` : origin;
    const existing = this.sessions.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const material = secure ? this.tlsFiles.material(ep.tls) : {};
    if ('error' in material) throw new Error(material.error);
    const lookup = this.lookupFor(ep.url);
    const s = process
      .getBuiltinModule('node:http2')
      .connect(origin, lookup ? { ...material, lookup } : material);
    s.on('error', () => this.sessions.delete(key));
    s.on('goaway', () => this.sessions.delete(key));
    s.on('close', () => {
      if (this.sessions.get(key) === s) this.sessions.delete(key);
    });
    s.unref();
    this.sessions.set(key, s);
    return s;
  }

  async send(
    signal: Signal,
    ep: SignalEndpoint,
    body: Uint8Array,
    budget: FlushBudget,
  ): Promise<ExportOutcome> {
    const remaining = attemptMs(ep, budget, this.clock);
    if (remaining === undefined) return BUDGET_EXHAUSTED;
    const compressed = ep.compression === 'gzip';
    const message = compressed ? await gzipAsync(body) : body;
    const frame = Buffer.alloc(5 + message.length);
    frame[0] = compressed ? 1 : 0;
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    const origin = ep.url.origin;
    return new Promise<ExportOutcome>((resolve) => {
      let settled = false;
      let session: http2.ClientHttp2Session;
      try {
        session = this.session(ep);
      } catch (err) {
        resolve({ kind: 'retryable', reason: `gRPC connect to ${origin} failed: ${errorText(err)}` });
        return;
      }
      const headers: http2.OutgoingHttpHeaders = {
        ...ep.headers,
        ':method': 'POST',
        ':path': GRPC_EXPORT_PATHS[signal],
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${remaining}m`,
        'grpc-accept-encoding': 'identity,gzip',
        'user-agent': USER_AGENT,
      };
      if (compressed) headers['grpc-encoding'] = 'gzip';
      const stream = session.request(headers);
      const finish = (o: ExportOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        budget.abort.removeEventListener('abort', onAbort);
        if (!stream.destroyed) stream.close(process.getBuiltinModule('node:http2').constants.NGHTTP2_CANCEL);
        resolve(o);
      };
      const onAbort = () => finish({ kind: 'retryable', reason: 'flush budget ended (aborted before next)' });
      budget.abort.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(
        () =>
          finish({
            kind: 'retryable',
            reason: `gRPC export of ${signal} got no answer within ${remaining} ms`,
          }),
        remaining,
      );
      let grpcStatus: string | undefined;
      let grpcMessage = '';
      const chunks: Buffer[] = [];
      let received = 0;
      stream.on('response', (h) => {
        if (h['grpc-status'] !== undefined) {
          grpcStatus = String(h['grpc-status']);
          grpcMessage = decodeURIComponentSafe(String(h['grpc-message'] ?? ''));
        }
      });
      stream.on('trailers', (t) => {
        grpcStatus = String(t['grpc-status'] ?? grpcStatus);
        grpcMessage = decodeURIComponentSafe(String(t['grpc-message'] ?? grpcMessage));
      });
      // Capped like the HTTP answer: only the partial_success at the front is ever read.
      stream.on('data', (c: Buffer) => {
        received += c.length;
        if (received <= MAX_RESPONSE_BYTES) chunks.push(c);
      });
      stream.on('error', (err) =>
        finish(connectFailure(`gRPC export of ${signal} to ${origin} failed: ${errorText(err)}`, err)),
      );
      stream.on('close', () => {
        if (grpcStatus === undefined) {
          finish({ kind: 'retryable', reason: `gRPC export of ${signal} ended without grpc-status` });
          return;
        }
        const code = Number(grpcStatus);
        if (code === 0) {
          let partial: { rejected: number; message: string } | undefined;
          const raw = Buffer.concat(chunks);
          try {
            if (raw.length >= 5 && raw[0] === 0)
              partial = decodeExportResponse(signal, raw.subarray(5, 5 + raw.readUInt32BE(1)));
          } catch {
            // Success regardless: grpc-status 0.
          }
          finish(partial && partial.rejected > 0 ? { kind: 'partial', ...partial } : { kind: 'success' });
          return;
        }
        const reason = `collector answered grpc-status ${code} for ${signal}: ${grpcMessage.slice(0, 300)}`;
        finish(
          RETRYABLE_GRPC.has(code)
            ? { kind: 'retryable', reason, status: code }
            : { kind: 'failed', reason, status: code },
        );
      });
      stream.end(frame);
    });
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
