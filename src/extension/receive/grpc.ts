// OTLP/gRPC receiver on loopback over node:http2 (h2c): unary Export of the three collector services.
// The port is bound with node:net; node:http2 (~4 ms of CPU and ~1.7 MB to load) is loaded when the
// first connection arrives, so a function that sends no gRPC never pays it, and none pays it at Init.

import type http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { encodeExportResponse, type Signal } from '../../otlp/index.js';
import type { Clock, Logger } from '../export/types.js';
import { bodyLimits, listen, MAX_CONNECTIONS, type Receiver } from './http.js';
import type { Ingest } from './ingest.js';
import {
  acceptExportRequest,
  type BodyLimits,
  GRPC_CODE,
  gunzipCapped,
  type InflightBodies,
  RequestRefused,
  readCapped,
} from './refusal.js';

export const GRPC_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const SIGNAL_BY_PATH = new Map(Object.entries(GRPC_PATHS).map(([s, p]) => [p, s as Signal]));

const OK = 0;
export interface GrpcReceiverOptions {
  port: number;
  host?: string;
  maxRequestBytes: number;
  ingest: Ingest;
  log: Logger;
  /** Shared with the HTTP receiver so partly-read bodies stay under one cap. */
  inflight?: InflightBodies;
  clock?: Clock;
  /** Awake ms a request stream may stay silent before it is refused (default 10 s). */
  bodyIdleMs?: number;
  /** Ms a new connection may take to send the HTTP/2 preface and SETTINGS before it is closed (default 10 s). */
  headersTimeoutMs?: number;
}

/** Concurrent streams per connection: a unary Export needs one; this bounds a single session. */
const MAX_CONCURRENT_STREAMS = 100;
/**
 * Flow-control windows. At HTTP/2's 64 KiB defaults a client that waits for WINDOW_UPDATE before
 * sending more (OkHttp, the Java SDK's default) uploads at ~1 MB/s over loopback, time spent inside
 * the invocation. The inflight-bodies cap, not the window, bounds memory.
 */
const STREAM_WINDOW_BYTES = 16 * 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 32 * 1024 * 1024;
const GRPC_DEADLINE_EXCEEDED = 4;

export async function startGrpcReceiver(opts: GrpcReceiverOptions): Promise<Receiver> {
  const limits = bodyLimits(opts);
  const sessions = new Set<http2.ServerHttp2Session>();
  let h2: http2.Http2Server | undefined;
  const server = net.createServer((socket) => {
    h2 ??= http2Server(opts, limits, sessions);
    h2.emit('connection', socket);
  });
  server.maxConnections = MAX_CONNECTIONS;
  await listen(server, opts.port, opts.host ?? '127.0.0.1');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sessions) s.destroy();
      }),
  };
}

/** The HTTP/2 side, never listening itself: the net server hands it each accepted socket. */
function http2Server(
  opts: GrpcReceiverOptions,
  limits: BodyLimits,
  sessions: Set<http2.ServerHttp2Session>,
): http2.Http2Server {
  const server = process.getBuiltinModule('node:http2').createServer({
    maxSessionMemory: 64,
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, initialWindowSize: STREAM_WINDOW_BYTES },
  });
  server.on('stream', (stream, headers) => {
    handle(stream, headers, opts, limits).catch((err) => {
      opts.log.error(
        'OTLP/gRPC receiver fault; the request was answered INTERNAL and its data not accepted',
        {
          error: err,
        },
      );
      trailersOnly(stream, GRPC_CODE.INTERNAL, 'otel-relay internal error');
    });
  });
  server.on('sessionError', () => {});
  server.on('session', (s) => {
    sessions.add(s);
    // Every HTTP/2 client sends its preface and SETTINGS at once; a socket that does not holds a
    // connection slot for nothing. Once they arrive, an idle kept-alive session is fine.
    const silent = setTimeout(() => s.destroy(), opts.headersTimeoutMs ?? 10_000);
    silent.unref();
    s.once('remoteSettings', () => clearTimeout(silent));
    s.once('close', () => clearTimeout(silent));
    try {
      s.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    } catch {
      // The session closed before its first frame; nothing to widen.
    }
    s.on('close', () => sessions.delete(s));
  });
  return server;
}

async function handle(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  opts: GrpcReceiverOptions,
  limits: BodyLimits,
): Promise<void> {
  const path = headers[':path'] ?? '';
  const signal = SIGNAL_BY_PATH.get(path);
  // The gRPC spec: a request that is not gRPC gets HTTP 415, not a gRPC error inside a 200 (an OTLP/HTTP
  // client sending over h2c would read that 200 as success). `+proto` only: grpc-web or +json are other
  // encodings this receiver cannot read.
  const ct = String(headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (ct !== 'application/grpc' && ct !== 'application/grpc+proto') {
    opts.log.debug('OTLP/gRPC request refused', {
      httpStatus: 415,
      reason: `content-type ${ct.slice(0, 100) || '(none)'}`,
    });
    try {
      stream.respond({ ':status': 415, 'content-type': 'text/plain' });
      stream.end(`content-type ${ct || '(none)'} is not application/grpc or application/grpc+proto\n`);
    } catch {
      // The client went away; nothing to answer.
    }
    return;
  }
  try {
    if (!signal)
      throw new RequestRefused(GRPC_CODE.UNIMPLEMENTED, 'unknown method; use an OTLP Export method');
    const raw = await readStream(stream, opts.maxRequestBytes + 5, limits, deadlineOf(headers));
    const { compressed, message } = singleFrame(raw);
    let body = message;
    if (compressed) {
      const enc = String(headers['grpc-encoding'] ?? 'identity');
      if (enc !== 'gzip')
        throw new RequestRefused(GRPC_CODE.UNIMPLEMENTED, `grpc-encoding ${enc} is not supported; use gzip`);
      body = await gunzipCapped(message, opts.maxRequestBytes);
    }
    if (body.length > opts.maxRequestBytes) throw tooLarge(opts.maxRequestBytes);
    const partial = acceptExportRequest(opts.ingest, signal, body);
    const reply = encodeExportResponse(signal, partial);
    const frame = Buffer.alloc(5 + reply.length);
    frame.writeUInt32BE(reply.length, 1);
    frame.set(reply, 5);
    if (stream.destroyed) return;
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity,gzip' },
      {
        waitForTrailers: true,
      },
    );
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(OK) }));
    stream.end(frame);
  } catch (err) {
    if (!(err instanceof RequestRefused)) throw err;
    opts.log.debug('OTLP/gRPC request refused', { grpcStatus: err.code, reason: err.message });
    trailersOnly(stream, err.code, err.message);
  }
}

function trailersOnly(stream: http2.ServerHttp2Stream, code: number, message: string) {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeURIComponent(message),
    },
    { endStream: true },
  );
  // RST_STREAM(NO_ERROR) after the status, as gRPC servers do: a client still uploading a refused
  // body stops at once instead of sending the rest into a dead request.
  if (!stream.readableEnded) {
    stream.close(process.getBuiltinModule('node:http2').constants.NGHTTP2_NO_ERROR);
  }
}

function tooLarge(max: number) {
  return new RequestRefused(
    GRPC_CODE.RESOURCE_EXHAUSTED,
    `request exceeds the relay's limit of ${max} bytes (OTEL_RELAY_MAX_REQUEST_BYTES); nothing was accepted`,
  );
}

function readStream(
  stream: http2.ServerHttp2Stream,
  max: number,
  limits: BodyLimits,
  deadlineMs: number | undefined,
): Promise<Buffer> {
  return readCapped(
    stream,
    max,
    () => tooLarge(max - 5),
    (err) => new RequestRefused(GRPC_CODE.INTERNAL, 'request stream failed', { cause: err }),
    {
      ...limits,
      // The message's length prefix is its size: an oversized one is refused before its bytes arrive.
      declaredSize: { headBytes: 5, size: (head) => 5 + head.readUInt32BE(1) },
      deadline:
        deadlineMs === undefined
          ? undefined
          : {
              ms: deadlineMs,
              refusal: () =>
                new RequestRefused(
                  GRPC_DEADLINE_EXCEEDED,
                  `the request did not arrive within its grpc-timeout of ${deadlineMs} ms; nothing was accepted`,
                ),
            },
    },
  );
}

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** The client's `grpc-timeout` (up to 8 digits and a unit, per the gRPC HTTP/2 protocol) in ms. */
export function deadlineOf(headers: http2.IncomingHttpHeaders): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(String(headers['grpc-timeout'] ?? ''));
  if (!m) return undefined;
  return Math.max(1, Math.ceil(Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]!));
}

/** A unary call carries exactly one length-prefixed message: 1 byte flag, 4 bytes length, payload. */
function singleFrame(raw: Buffer): { compressed: boolean; message: Buffer } {
  if (raw.length < 5)
    throw new RequestRefused(GRPC_CODE.INVALID_ARGUMENT, 'request has no complete gRPC message frame');
  const flag = raw[0]!;
  const len = raw.readUInt32BE(1);
  if (flag > 1) throw new RequestRefused(GRPC_CODE.INVALID_ARGUMENT, `gRPC frame flag ${flag} is not 0 or 1`);
  if (raw.length !== 5 + len) {
    throw new RequestRefused(
      GRPC_CODE.INVALID_ARGUMENT,
      `gRPC frame says ${len} bytes but ${raw.length - 5} followed; a unary Export carries exactly one message`,
    );
  }
  return { compressed: flag === 1, message: raw.subarray(5) };
}
