// OTLP/gRPC receiver on loopback over node:http2 (h2c): unary Export of the three collector services.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { encodeExportResponse, OtlpDecodeError, type Signal } from '../../otlp/index.js';
import type { Logger } from '../export/types.js';
import { errorText } from '../log.js';
import { listen, type Receiver } from './http.js';
import type { Ingest } from './ingest.js';

export const GRPC_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const SIGNAL_BY_PATH = new Map(Object.entries(GRPC_PATHS).map(([s, p]) => [p, s as Signal]));

const OK = 0;
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNIMPLEMENTED = 12;
const INTERNAL = 13;

class GrpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface GrpcReceiverOptions {
  port: number;
  host?: string;
  maxRequestBytes: number;
  ingest: Ingest;
  log: Logger;
}

export async function startGrpcReceiver(opts: GrpcReceiverOptions): Promise<Receiver> {
  const server = http2.createServer({ maxSessionMemory: 64 });
  server.on('stream', (stream, headers) => {
    handle(stream, headers, opts).catch((err) => {
      opts.log.error(
        'OTLP/gRPC receiver fault; the request was answered INTERNAL and its data not accepted',
        {
          error: err,
        },
      );
      trailersOnly(stream, INTERNAL, 'otel-relay internal error');
    });
  });
  server.on('sessionError', () => {});
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
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

async function handle(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  opts: GrpcReceiverOptions,
): Promise<void> {
  const path = headers[':path'] ?? '';
  const signal = SIGNAL_BY_PATH.get(path);
  try {
    if (!signal) throw new GrpcFailure(UNIMPLEMENTED, `unknown method ${path}`);
    const ct = String(headers['content-type'] ?? '');
    if (!ct.startsWith('application/grpc')) {
      throw new GrpcFailure(INVALID_ARGUMENT, `content-type ${ct || '(none)'} is not application/grpc`);
    }
    const raw = await readStream(stream, opts.maxRequestBytes + 5);
    const { compressed, message } = singleFrame(raw);
    let body = message;
    if (compressed) {
      const enc = String(headers['grpc-encoding'] ?? 'identity');
      if (enc !== 'gzip')
        throw new GrpcFailure(UNIMPLEMENTED, `grpc-encoding ${enc} is not supported; use gzip`);
      body = await gunzipCapped(message, opts.maxRequestBytes);
    }
    if (body.length > opts.maxRequestBytes) throw tooLarge(opts.maxRequestBytes);
    let result: ReturnType<Ingest['accept']>;
    try {
      result = opts.ingest.accept(signal, body);
    } catch (err) {
      if (err instanceof OtlpDecodeError) {
        throw new GrpcFailure(
          INVALID_ARGUMENT,
          `not a valid OTLP ${signal} export request; nothing was accepted: ${err.message}`,
          { cause: err },
        );
      }
      throw err;
    }
    const partial =
      result.rejected > 0 ? { rejected: result.rejected, message: result.message ?? '' } : undefined;
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
    if (!(err instanceof GrpcFailure)) throw err;
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
}

function tooLarge(max: number) {
  return new GrpcFailure(
    RESOURCE_EXHAUSTED,
    `request exceeds the relay's limit of ${max} bytes (OTEL_RELAY_MAX_REQUEST_BYTES); nothing was accepted`,
  );
}

function readStream(stream: http2.ServerHttp2Stream, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        stream.off('data', onData);
        stream.resume();
        reject(tooLarge(max - 5));
        return;
      }
      chunks.push(c);
    };
    stream.on('data', onData);
    stream.on('end', () => resolve(Buffer.concat(chunks, Math.min(size, max))));
    stream.on('error', (err) => reject(new GrpcFailure(INTERNAL, 'request stream failed', { cause: err })));
  });
}

/** A unary call carries exactly one length-prefixed message: 1 byte flag, 4 bytes length, payload. */
function singleFrame(raw: Buffer): { compressed: boolean; message: Buffer } {
  if (raw.length < 5) throw new GrpcFailure(INVALID_ARGUMENT, 'request has no complete gRPC message frame');
  const flag = raw[0]!;
  const len = raw.readUInt32BE(1);
  if (flag > 1) throw new GrpcFailure(INVALID_ARGUMENT, `gRPC frame flag ${flag} is not 0 or 1`);
  if (raw.length !== 5 + len) {
    throw new GrpcFailure(
      INVALID_ARGUMENT,
      `gRPC frame says ${len} bytes but ${raw.length - 5} followed; a unary Export carries exactly one message`,
    );
  }
  return { compressed: flag === 1, message: raw.subarray(5) };
}

function gunzipCapped(body: Buffer, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: max }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        return reject(tooLarge(max));
      }
      reject(
        new GrpcFailure(INVALID_ARGUMENT, `gzip message could not be decompressed (${errorText(err)})`, {
          cause: err,
        }),
      );
    });
  });
}
