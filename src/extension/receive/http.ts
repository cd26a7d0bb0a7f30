// OTLP/HTTP receiver on loopback: POST /v1/{traces,metrics,logs} (protobuf or JSON, optionally gzip),
// plus the relay's own "invocation done" endpoint used by the middleware.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import {
  encodeExportResponse,
  encodeStatus,
  OtlpDecodeError,
  otlpJsonToProtobuf,
  type Signal,
} from '../../otlp/index.js';
import type { Logger } from '../export/types.js';
import { errorText } from '../log.js';
import type { Ingest, IngestResult } from './ingest.js';

export interface HttpReceiverOptions {
  port: number;
  host?: string;
  maxRequestBytes: number;
  ingest: Ingest;
  /** The middleware's "all data of this invocation has been sent" signal. */
  onInvocationDone(requestId: string): void;
  log: Logger;
}

export interface Receiver {
  port: number;
  close(): Promise<void>;
}

const SIGNAL_PATHS: Record<string, Signal> = {
  '/v1/traces': 'traces',
  '/v1/metrics': 'metrics',
  '/v1/logs': 'logs',
};
const DONE_PATH = /^\/relay\/v1\/invocations\/([^/]{1,200})\/done$/;

/** gRPC status codes, used in google.rpc.Status bodies as the OTLP/HTTP spec asks. */
const CODE_INVALID_ARGUMENT = 3;
const CODE_RESOURCE_EXHAUSTED = 8;
const CODE_UNIMPLEMENTED = 12;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export async function startHttpReceiver(opts: HttpReceiverOptions): Promise<Receiver> {
  const server = http.createServer((req, res) => {
    handle(req, res, opts).catch((err) => {
      opts.log.error('OTLP/HTTP receiver fault; the request was answered 500 and its data not accepted', {
        error: err,
      });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });
  // Function SDKs keep one connection open across invocations; loopback sockets survive freezes.
  server.keepAliveTimeout = 60 * 60 * 1000;
  server.headersTimeout = 60 * 60 * 1000 + 1000;
  server.requestTimeout = 0;
  await listen(server, opts.port, opts.host ?? '127.0.0.1');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function listen(server: http.Server | import('node:http2').Http2Server, port: number, host: string) {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, opts: HttpReceiverOptions) {
  const path = (req.url ?? '/').split('?')[0]!;
  const done = DONE_PATH.exec(path);
  if (done) {
    req.resume();
    if (req.method !== 'POST') return plain(res, 405, 'use POST');
    opts.onInvocationDone(decodeURIComponent(done[1]!));
    res.writeHead(204).end();
    return;
  }
  const signal = SIGNAL_PATHS[path];
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const json = contentType === 'application/json';
  if (!signal) {
    req.resume();
    return failure(
      res,
      json,
      new HttpFailure(
        404,
        CODE_UNIMPLEMENTED,
        `no OTLP endpoint at ${path}; use /v1/traces, /v1/metrics or /v1/logs`,
      ),
    );
  }
  try {
    if (req.method !== 'POST')
      throw new HttpFailure(405, CODE_UNIMPLEMENTED, `${req.method} is not allowed; OTLP/HTTP uses POST`);
    if (contentType !== 'application/x-protobuf' && !json) {
      throw new HttpFailure(
        415,
        CODE_INVALID_ARGUMENT,
        `Content-Type ${contentType || '(none)'} is not supported; use application/x-protobuf or application/json`,
      );
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
    if (encoding !== 'gzip' && encoding !== 'identity' && encoding !== '') {
      throw new HttpFailure(
        415,
        CODE_INVALID_ARGUMENT,
        `Content-Encoding ${encoding} is not supported; use gzip or none`,
      );
    }
    let body = await readBody(req, opts.maxRequestBytes);
    if (encoding === 'gzip') body = await gunzipCapped(body, opts.maxRequestBytes);
    let proto: Uint8Array = body;
    if (json) {
      try {
        proto = await otlpJsonToProtobuf(signal, body);
      } catch (err) {
        throw asBadRequest(err, signal);
      }
    }
    let result: IngestResult;
    try {
      result = opts.ingest.accept(signal, proto);
    } catch (err) {
      throw asBadRequest(err, signal);
    }
    const partial =
      result.rejected > 0 ? { rejected: result.rejected, message: result.message ?? '' } : undefined;
    if (json) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(exportResponseJson(signal, partial));
    } else {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(encodeExportResponse(signal, partial));
    }
  } catch (err) {
    if (!(err instanceof HttpFailure)) throw err;
    if (!req.complete) {
      // The body was not read to the end: close rather than leave the client writing into a dead request.
      res.setHeader('connection', 'close');
      req.resume();
    }
    failure(res, json, err);
  }
}

function asBadRequest(err: unknown, signal: Signal): HttpFailure | unknown {
  if (err instanceof OtlpDecodeError || err instanceof SyntaxError) {
    return new HttpFailure(
      400,
      CODE_INVALID_ARGUMENT,
      `not a valid OTLP ${signal} export request; nothing was accepted: ${err.message}`,
      { cause: err },
    );
  }
  return err;
}

function failure(res: http.ServerResponse, json: boolean, f: HttpFailure) {
  if (json) {
    res.writeHead(f.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: f.code, message: f.message }));
  } else {
    res.writeHead(f.status, { 'content-type': 'application/x-protobuf' });
    res.end(encodeStatus(f.code, f.message));
  }
}

function plain(res: http.ServerResponse, status: number, text: string) {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
}

function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(tooLarge(declared, max));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off('data', onData);
        req.resume();
        reject(tooLarge(size, max));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', (err) =>
      reject(new HttpFailure(400, CODE_INVALID_ARGUMENT, 'request body could not be read', { cause: err })),
    );
  });
}

function tooLarge(size: number, max: number) {
  return new HttpFailure(
    413,
    CODE_RESOURCE_EXHAUSTED,
    `request body of ${size}+ bytes exceeds the relay's limit of ${max} bytes (OTEL_RELAY_MAX_REQUEST_BYTES); nothing was accepted`,
  );
}

/** Decompresses with a cap on the output, so a gzip bomb costs at most `max` bytes of memory. */
function gunzipCapped(body: Buffer, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: max }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        return reject(
          new HttpFailure(
            413,
            CODE_RESOURCE_EXHAUSTED,
            `gzip body decompresses to more than the relay's limit of ${max} bytes; nothing was accepted`,
            { cause: err },
          ),
        );
      }
      reject(
        new HttpFailure(
          400,
          CODE_INVALID_ARGUMENT,
          `gzip body could not be decompressed (${errorText(err)}); nothing was accepted`,
          { cause: err },
        ),
      );
    });
  });
}

const REJECTED_FIELD: Record<Signal, string> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

function exportResponseJson(signal: Signal, partial?: { rejected: number; message: string }): string {
  if (!partial) return '{}';
  return JSON.stringify({
    partialSuccess: { [REJECTED_FIELD[signal]]: String(partial.rejected), errorMessage: partial.message },
  });
}
