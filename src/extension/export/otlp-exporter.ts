// OTLP exporters over node:http/https (protobuf, gzip by default) and node:http2 (gRPC). Each call
// is ONE attempt (retry policy lives in retry.ts, owned by the fallback work), bounded by the budget.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { gzip } from 'node:zlib';
import { decodeExportResponse, type Signal } from '../../otlp/index.js';
import type { SignalEndpoint } from '../config.js';
import { errorText } from '../log.js';
import type { Clock, ExportOutcome, FlushBudget, SignalExporter } from './types.js';

const USER_AGENT = 'lambda-otel-relay/0.1';
const MAX_RESPONSE_BYTES = 1024 * 1024;

export const GRPC_EXPORT_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/** One exporter for all signals; each signal goes out by its own endpoint's protocol. */
export function createOtlpExporter(endpoints: Record<Signal, SignalEndpoint>, clock: Clock): SignalExporter {
  const httpT = new HttpTransport(clock);
  const grpcT = new GrpcTransport(clock);
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

function gzipAsync(body: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(body, (err, out) => (err ? reject(err) : resolve(out))));
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

class HttpTransport {
  private agents = this.newAgents();
  constructor(private readonly clock: Clock) {}

  private newAgents() {
    return {
      http: new http.Agent({ keepAlive: true, maxSockets: 8 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 8 }),
    };
  }

  reset() {
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.agents = this.newAgents();
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
    const remaining = Math.floor(Math.min(ep.timeoutMs, budget.deadline - this.clock.now()));
    if (remaining <= 0 || budget.abort.aborted) {
      return Promise.resolve({
        outcome: { kind: 'retryable', reason: 'flush budget exhausted before sending' },
      });
    }
    const secure = ep.url.protocol === 'https:';
    const mod = secure ? https : http;
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
          agent: secure ? this.agents.https : this.agents.http,
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
        finish(
          { kind: 'retryable', reason: `export of ${signal} to ${ep.url.host} failed: ${errorText(err)}` },
          stale,
        );
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
  private sessions = new Map<string, http2.ClientHttp2Session>();
  constructor(private readonly clock: Clock) {}

  reset() {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }

  private session(origin: string): http2.ClientHttp2Session {
    const existing = this.sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const s = http2.connect(origin);
    s.on('error', () => this.sessions.delete(origin));
    s.on('goaway', () => this.sessions.delete(origin));
    s.on('close', () => {
      if (this.sessions.get(origin) === s) this.sessions.delete(origin);
    });
    s.unref();
    this.sessions.set(origin, s);
    return s;
  }

  async send(
    signal: Signal,
    ep: SignalEndpoint,
    body: Uint8Array,
    budget: FlushBudget,
  ): Promise<ExportOutcome> {
    const remaining = Math.floor(Math.min(ep.timeoutMs, budget.deadline - this.clock.now()));
    if (remaining <= 0 || budget.abort.aborted) {
      return { kind: 'retryable', reason: 'flush budget exhausted before sending' };
    }
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
        session = this.session(origin);
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
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
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
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) =>
        finish({
          kind: 'retryable',
          reason: `gRPC export of ${signal} to ${origin} failed: ${errorText(err)}`,
        }),
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
