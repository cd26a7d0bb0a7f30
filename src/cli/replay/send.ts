// Sends one replayed object to the collector, over OTLP/HTTP or OTLP/gRPC, with the same retry rules
// as the extension (retryable statuses and gRPC codes, back-off, Retry-After) under a per-item
// deadline. gRPC goes through the extension's own exporter (node:http2, gRPC framing, status
// mapping), so the relay and `replay` speak gRPC to a collector the same way.
import { HttpRequestError, httpRequest } from '../../aws/index.js';
import { createOtlpExporter, type SignalExporter } from '../../extension/export/index.js';
import {
  type AttemptResult,
  abortableSleep,
  attemptFromOutcome,
  type RetryOutcome,
  type RetryPolicy,
  withRetry,
} from '../../extension/export/retry.js';
import type { SignalEndpoint } from '../../extension/settings/index.js';
import { otlpJsonToProtobuf, SIGNALS, type Signal } from '../../otlp/index.js';
import { UsageError } from '../usage.js';

export type ReplayProtocol = 'http/protobuf' | 'grpc';
export const REPLAY_PROTOCOLS: readonly ReplayProtocol[] = ['http/protobuf', 'grpc'];

export interface CollectorTarget {
  protocol: ReplayProtocol;
  /**
   * http/protobuf: base endpoint, e.g. http://localhost:4318 (`/v1/<signal>` is appended).
   * grpc: the server origin, http://host:port (plaintext) or https://host:port (TLS).
   */
  endpoint: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** How a replayed body is encoded (S3 `.json` objects are OTLP/JSON, everything else protobuf). */
export type ReplayContentType = 'application/x-protobuf' | 'application/json';

export interface CollectorSender {
  send(signal: Signal, body: Uint8Array, contentType: ReplayContentType): Promise<RetryOutcome>;
  /** Closes pooled connections so the process can exit. */
  close(): void;
}

// A replay is not under a Lambda flush budget: fewer, longer waits than the extension's policy.
const REPLAY_RETRY: RetryPolicy = {
  maxAttempts: 5,
  initialBackoffMs: 500,
  maxBackoffMs: 5000,
  multiplier: 2,
  jitter: 0.2,
};

export function signalUrl(endpoint: string, signal: Signal): URL {
  return new URL(`${endpoint.replace(/\/+$/, '')}/v1/${signal}`);
}

/**
 * Where to send, from `--to` and `--protocol`: `grpc://host:port` (or `grpcs://`, TLS) means gRPC;
 * with an http(s) URL the protocol is `--protocol`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else
 * http/protobuf. Without `--to`: `OTEL_EXPORTER_OTLP_ENDPOINT`, else localhost on the protocol's port.
 */
export function resolveTarget(
  to: string | undefined,
  protocolFlag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { protocol: ReplayProtocol; endpoint: string } {
  if (protocolFlag !== undefined && !REPLAY_PROTOCOLS.includes(protocolFlag as ReplayProtocol)) {
    throw new UsageError(`--protocol ${protocolFlag} is not one of ${REPLAY_PROTOCOLS.join(', ')}`);
  }
  const grpcScheme = to !== undefined && /^grpcs?:\/\//i.test(to);
  if (grpcScheme && protocolFlag === 'http/protobuf') {
    throw new UsageError(`--to ${to} is a gRPC address, but --protocol is http/protobuf`);
  }
  const envProtocol = env.OTEL_EXPORTER_OTLP_PROTOCOL === 'grpc' ? 'grpc' : 'http/protobuf';
  const protocol: ReplayProtocol = grpcScheme ? 'grpc' : ((protocolFlag as ReplayProtocol) ?? envProtocol);
  const raw =
    to ??
    env.OTEL_EXPORTER_OTLP_ENDPOINT ??
    (protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318');
  const flag = to === undefined ? 'OTEL_EXPORTER_OTLP_ENDPOINT' : '--to';
  let url: URL;
  try {
    url = new URL(raw.replace(/^grpc(s?):\/\//i, 'http$1://'));
  } catch (cause) {
    throw new UsageError(`${flag} ${raw} is not a URL`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag} ${raw} is not an http(s):// or grpc:// URL`);
  }
  if (protocol === 'grpc') {
    // The gRPC method path is fixed by the OTLP service; a path in the address would be ignored.
    if (url.pathname !== '/' || url.search !== '') {
      throw new UsageError(`${flag} ${raw}: a gRPC target is host:port only, without a path`);
    }
    return { protocol, endpoint: url.origin };
  }
  return { protocol, endpoint: raw };
}

export function createSender(target: CollectorTarget): CollectorSender {
  return target.protocol === 'grpc' ? grpcSender(target) : httpSender(target);
}

function retry(
  timeoutMs: number,
  attempt: (deadline: number, signal: AbortSignal | undefined) => Promise<AttemptResult>,
): Promise<RetryOutcome> {
  const now = Date.now;
  return withRetry(
    (budget) => attempt(budget.deadline, budget.signal),
    { deadline: now() + timeoutMs },
    {
      now,
      sleep: abortableSleep,
      policy: REPLAY_RETRY,
    },
  );
}

function httpSender(target: CollectorTarget): CollectorSender {
  return {
    send(signal, body, contentType) {
      const url = signalUrl(target.endpoint, signal);
      return retry(target.timeoutMs, async (deadline, abort) => {
        try {
          const res = await httpRequest(
            url,
            { method: 'POST', headers: { ...target.headers, 'content-type': contentType }, body },
            abort
              ? { timeoutMs: deadline - Date.now(), signal: abort }
              : { timeoutMs: deadline - Date.now() },
          );
          if (res.status >= 200 && res.status < 300) return { kind: 'success' };
          const retryAfter = res.headers['retry-after'];
          return {
            kind: 'http',
            status: res.status,
            retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
            message: Buffer.from(res.body)
              .toString('utf8')
              .slice(0, 200)
              .replace(/[^\x20-\x7e]+/g, ' ')
              .trim(),
          };
        } catch (err) {
          if (err instanceof HttpRequestError) return { kind: err.kind, message: err.message };
          return { kind: 'network', message: (err as Error).message };
        }
      });
    },
    close() {},
  };
}

function grpcSender(target: CollectorTarget): CollectorSender {
  const url = new URL(target.endpoint);
  const endpoint: SignalEndpoint = {
    url,
    protocol: 'grpc',
    headers: target.headers,
    compression: 'gzip',
    timeoutMs: target.timeoutMs,
  };
  const endpoints = Object.fromEntries(SIGNALS.map((s) => [s, endpoint])) as Record<Signal, SignalEndpoint>;
  const clock = { now: Date.now, monotonic: () => performance.now() };
  const exporter: SignalExporter = createOtlpExporter(endpoints, clock);
  return {
    send(signal, body, contentType) {
      // gRPC carries protobuf only: an OTLP/JSON object is converted first.
      const message = contentType === 'application/json' ? otlpJsonToProtobuf(signal, body) : body;
      return retry(target.timeoutMs, async (deadline, abort) =>
        attemptFromOutcome(
          await exporter.export(signal, message, {
            deadline,
            abort: abort ?? new AbortController().signal,
            reason: 'background',
          }),
        ),
      );
    },
    close: () => exporter.close(),
  };
}
