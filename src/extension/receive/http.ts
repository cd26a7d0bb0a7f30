// OTLP/HTTP receiver on loopback: POST /v1/{traces,metrics,logs} (protobuf or JSON, optionally gzip),
// plus the relay's own "invocation done" endpoint used by the middleware.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeExportResponse, encodeStatus, otlpJsonToProtobuf, type Signal } from '../../otlp/index.js';
import { systemClock } from '../clock.js';
import type { Clock, Logger } from '../export/types.js';
import type { Ingest } from './ingest.js';
import {
  acceptExportRequest,
  asInvalidRequest,
  type BodyLimits,
  GRPC_CODE,
  gunzipCapped,
  InflightBodies,
  RequestRefused,
  readCapped,
} from './refusal.js';

export interface HttpReceiverOptions {
  port: number;
  host?: string;
  maxRequestBytes: number;
  ingest: Ingest;
  /** The middleware's "all data of this invocation has been sent" signal. */
  onInvocationDone(requestId: string): void;
  log: Logger;
  /** Shared with the other receiver so partly-read bodies stay under one cap; default 4 requests' worth. */
  inflight?: InflightBodies;
  clock?: Clock;
  /** Awake ms a request body may stay silent before it is refused (default 10 s). */
  bodyIdleMs?: number;
  /** Ms a request may take to send its headers before its connection is closed (default 10 s). */
  headersTimeoutMs?: number;
}

/** The limits every body read gets; built once per receiver. */
export function bodyLimits(opts: {
  maxRequestBytes: number;
  inflight?: InflightBodies;
  clock?: Clock;
  bodyIdleMs?: number;
}): BodyLimits {
  return {
    inflight: opts.inflight ?? new InflightBodies(4 * opts.maxRequestBytes),
    clock: opts.clock ?? systemClock,
    idleMs: opts.bodyIdleMs ?? 10_000,
  };
}

/** Far more than any function's exporters open; bounds sockets (and their buffers) per receiver. */
export const MAX_CONNECTIONS = 256;

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

export async function startHttpReceiver(opts: HttpReceiverOptions): Promise<Receiver> {
  const limits = bodyLimits(opts);
  const server = http.createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    handle(req, res, opts, limits).catch((err) => {
      opts.log.error('OTLP/HTTP receiver fault; the request was answered 500 and its data not accepted', {
        error: err,
      });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });
  // Function SDKs keep one connection open across invocations; loopback sockets survive freezes.
  server.keepAliveTimeout = 60 * 60 * 1000;
  // Only a request that has begun counts against this (an idle kept-alive socket does not): a client
  // that never finishes its headers gives up its connection slot within seconds.
  server.headersTimeout = opts.headersTimeoutMs ?? 10_000;
  // No overall request deadline (a freeze may fall inside a request); bodies have an idle deadline.
  server.requestTimeout = 0;
  server.maxConnections = MAX_CONNECTIONS;
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

export function listen(server: import('node:net').Server, port: number, host: string) {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  opts: HttpReceiverOptions,
  limits: BodyLimits,
) {
  const path = (req.url ?? '/').split('?')[0]!;
  const done = DONE_PATH.exec(path);
  if (done) {
    req.resume();
    if (req.method !== 'POST') return plain(res, 405, 'use POST');
    let requestId: string;
    try {
      requestId = decodeURIComponent(done[1]!);
    } catch {
      return plain(res, 400, 'the request id is not valid percent-encoding');
    }
    opts.onInvocationDone(requestId);
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
      new RequestRefused(
        GRPC_CODE.UNIMPLEMENTED,
        // The path is not echoed: a caller controls it (it may be kilobytes long, or hold anything).
        'no OTLP endpoint at this path; use /v1/traces, /v1/metrics or /v1/logs',
      ),
      opts.log,
    );
  }
  try {
    if (req.method !== 'POST')
      throw new RequestRefused(GRPC_CODE.UNIMPLEMENTED, `${req.method} is not allowed; OTLP/HTTP uses POST`, {
        httpStatus: 405,
      });
    if (contentType !== 'application/x-protobuf' && !json) {
      throw new RequestRefused(
        GRPC_CODE.INVALID_ARGUMENT,
        `Content-Type ${contentType || '(none)'} is not supported; use application/x-protobuf or application/json`,
        { httpStatus: 415 },
      );
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
    if (encoding !== 'gzip' && encoding !== 'identity' && encoding !== '') {
      throw new RequestRefused(
        GRPC_CODE.INVALID_ARGUMENT,
        `Content-Encoding ${encoding} is not supported; use gzip or none`,
        { httpStatus: 415 },
      );
    }
    let body = await readBody(req, opts.maxRequestBytes, limits);
    if (encoding === 'gzip') body = await gunzipCapped(body, opts.maxRequestBytes);
    let proto: Uint8Array = body;
    if (json) {
      try {
        proto = await otlpJsonToProtobuf(signal, body);
      } catch (err) {
        throw asInvalidRequest(err, signal);
      }
    }
    const partial = acceptExportRequest(opts.ingest, signal, proto);
    if (json) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(exportResponseJson(signal, partial));
    } else {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(encodeExportResponse(signal, partial));
    }
  } catch (err) {
    if (!(err instanceof RequestRefused)) throw err;
    if (!req.complete) {
      // The body was not read to the end: close rather than leave the client writing into a dead request.
      res.setHeader('connection', 'close');
      req.resume();
    }
    failure(res, json, err, opts.log);
  }
}

function failure(res: http.ServerResponse, json: boolean, f: RequestRefused, log: Logger) {
  log.debug('OTLP/HTTP request refused', { httpStatus: f.httpStatus, reason: f.message });
  if (json) {
    res.writeHead(f.httpStatus, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: f.code, message: f.message }));
  } else {
    res.writeHead(f.httpStatus, { 'content-type': 'application/x-protobuf' });
    res.end(encodeStatus(f.code, f.message));
  }
}

function plain(res: http.ServerResponse, status: number, text: string) {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
}

function readBody(req: http.IncomingMessage, max: number, limits: BodyLimits): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(tooLarge(declared, max));
  return readCapped(
    req,
    max,
    (size) => tooLarge(size, max),
    (err) => new RequestRefused(GRPC_CODE.INVALID_ARGUMENT, 'request body could not be read', { cause: err }),
    limits,
  );
}

function tooLarge(size: number, max: number) {
  return new RequestRefused(
    GRPC_CODE.RESOURCE_EXHAUSTED,
    `request body of ${size}+ bytes exceeds the relay's limit of ${max} bytes (OTEL_RELAY_MAX_REQUEST_BYTES); nothing was accepted`,
  );
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
