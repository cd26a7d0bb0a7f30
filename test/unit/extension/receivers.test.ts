import http from 'node:http';
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import type { Receiver } from '../../../src/extension/receive/http.js';
import { Ingest } from '../../../src/extension/receive/ingest.js';
import type { RelayStats } from '../../../src/extension/telemetry/stats.js';
import { decodeExportResponse, decodeStatus } from '../../../src/otlp/index.js';
import { manualClock, startReceivers, traceRequest } from './fakes.js';

const MAX = 64 * 1024;
let buffer: TelemetryBuffer;
let stats: RelayStats;
let httpR: Receiver;
let grpcR: Receiver;
let done: string[];

let receivers: Awaited<ReturnType<typeof startReceivers>>;

beforeEach(async () => {
  receivers = await startReceivers(MAX, 256 * 1024);
  ({ buffer, stats, done, httpR, grpcR } = receivers);
});
afterEach(() => receivers.close());

function post(path: string, body: Uint8Array, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
    (resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: httpR.port,
          path,
          method: 'POST',
          headers: { ...headers, 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

async function sendWithSdk(exporter: ProtoTraceExporter | GrpcTraceExporter, spans: number) {
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const tracer = provider.getTracer('receivers-test');
  for (let i = 0; i < spans; i++) tracer.startSpan(`s${i}`).end();
  await provider.forceFlush();
  await provider.shutdown();
}

describe('OTLP/HTTP receiver', () => {
  it('accepts protobuf from the real OTel JS exporter into the buffer', async () => {
    await sendWithSdk(new ProtoTraceExporter({ url: `http://127.0.0.1:${httpR.port}/v1/traces` }), 7);
    expect(buffer.items('traces')).toBe(7);
    expect(stats.received.traces).toBe(7);
  });

  it('accepts gzip bodies', async () => {
    const body = await traceRequest(3);
    const res = await post('/v1/traces', gzipSync(body), {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(200);
    expect(decodeExportResponse('traces', res.body)).toBeUndefined();
    expect(buffer.items('traces')).toBe(3);
  });

  it('answers 400 with a Status that says what was wrong for a malformed request, and buffers nothing', async () => {
    await post('/v1/traces', await traceRequest(2), { 'content-type': 'application/x-protobuf' });
    const res = await post('/v1/traces', Uint8Array.from([0x0a, 0x05, 0x01]), {
      'content-type': 'application/x-protobuf',
    });
    expect(res.status).toBe(400);
    const status = decodeStatus(res.body);
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/not a valid OTLP traces export request; nothing was accepted/);
    expect(buffer.items('traces')).toBe(2);
  });

  it('answers 415 for an unsupported content type or encoding', async () => {
    const body = await traceRequest(1);
    expect((await post('/v1/logs', body, { 'content-type': 'text/plain' })).status).toBe(415);
    const r = await post('/v1/logs', body, {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'br',
    });
    expect(r.status).toBe(415);
    expect(decodeStatus(r.body).message).toMatch(/Content-Encoding br/);
    expect(buffer.isEmpty()).toBe(true);
  });

  it('answers 413 for a body over the limit and for a gzip bomb, keeping the buffer intact', async () => {
    await post('/v1/traces', await traceRequest(1), { 'content-type': 'application/x-protobuf' });
    const big = await post('/v1/traces', new Uint8Array(MAX + 1), {
      'content-type': 'application/x-protobuf',
    });
    expect(big.status).toBe(413);
    const bomb = gzipSync(new Uint8Array(10 * MAX));
    expect(bomb.length).toBeLessThan(MAX);
    const res = await post('/v1/traces', bomb, {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(413);
    expect(decodeStatus(res.body).message).toMatch(/decompresses to more than/);
    expect(buffer.items('traces')).toBe(1);
  });

  it('answers 400 for a corrupt gzip body and a JSON Status to a JSON request', async () => {
    const r = await post('/v1/traces', Buffer.from('not gzip'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString())).toMatchObject({ code: 3, message: expect.stringMatching(/gzip/) });
  });

  it('answers HTTP 415 on the gRPC port to a request that is not gRPC+proto, never a 200', async () => {
    // Regression: OTLP/HTTP over h2c got 200 (with a gRPC error status), which its client reads as success;
    // and the prefix match took application/grpc-web+proto and application/grpc+json for protobuf.
    const { connect } = await import('node:http2');
    const session = connect(`http://127.0.0.1:${grpcR.port}`);
    try {
      for (const type of ['application/x-protobuf', 'application/grpc-web+proto', 'application/grpc+json']) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = session.request({
            ':method': 'POST',
            ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
            'content-type': type,
          });
          req.on('response', (h) => resolve(Number(h[':status'])));
          req.on('error', reject);
          req.end(Buffer.from([0, 0, 0, 0, 0]));
        });
        expect(status, type).toBe(415);
      }
      expect(buffer.items()).toBe(0);
    } finally {
      session.close();
    }
  });

  it('answers 404 for an unknown path without echoing it back', async () => {
    // Regression: a 10 KB path came back in the error message.
    const path = `/${'x'.repeat(10_000)}`;
    for (const type of ['application/x-protobuf', 'application/json']) {
      const r = await post(path, new Uint8Array(), { 'content-type': type });
      expect(r.status).toBe(404);
      expect(r.body.length).toBeLessThan(200);
      expect(r.body.toString('latin1')).not.toContain('xxxx');
    }
  });

  it('answers 404 for an unknown path and 204 for the invocation done signal', async () => {
    expect(
      (await post('/v1/profiles', new Uint8Array(), { 'content-type': 'application/x-protobuf' })).status,
    ).toBe(404);
    const d = await post('/relay/v1/invocations/req-123/done', new Uint8Array(), {});
    expect(d.status).toBe(204);
    expect(done).toEqual(['req-123']);
  });

  it('reports through partial_success when the request is larger than the whole buffer', async () => {
    const small = new TelemetryBuffer(64 * 1024, 64 * 1024, manualClock());
    const ingest = new Ingest(small, stats);
    const body = await traceRequest(1500, 'a-rather-long-span-name-to-fill-the-buffer');
    expect(body.length).toBeGreaterThan(64 * 1024);
    const r = ingest.accept('traces', body);
    expect(r).toMatchObject({ accepted: 0, rejected: 1500 });
    expect(stats.dropped.buffer_full?.traces).toBe(1500);
  });
});

describe('OTLP/gRPC receiver', () => {
  it('accepts unary Export from the real OTel JS gRPC exporter (gzip)', async () => {
    await sendWithSdk(
      new GrpcTraceExporter({
        url: `http://127.0.0.1:${grpcR.port}`,
        compression: CompressionAlgorithm.GZIP,
      }),
      5,
    );
    expect(buffer.items('traces')).toBe(5);
  });

  it('answers INVALID_ARGUMENT for a malformed message and UNIMPLEMENTED for an unknown method', async () => {
    const session = http2.connect(`http://127.0.0.1:${grpcR.port}`);
    try {
      const call = (path: string, payload: Uint8Array) =>
        new Promise<{ status: string; message: string }>((resolve, reject) => {
          const s = session.request({
            ':method': 'POST',
            ':path': path,
            'content-type': 'application/grpc',
            te: 'trailers',
          });
          let status = '';
          let message = '';
          s.on('response', (h) => {
            status = String(h['grpc-status'] ?? status);
            message = decodeURIComponent(String(h['grpc-message'] ?? ''));
          });
          s.on('trailers', (t) => {
            status = String(t['grpc-status']);
          });
          s.on('error', reject);
          s.on('close', () => resolve({ status, message }));
          s.resume();
          const frame = Buffer.alloc(5 + payload.length);
          frame.writeUInt32BE(payload.length, 1);
          frame.set(payload, 5);
          s.end(frame);
        });
      const bad = await call(
        '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        Uint8Array.from([0x0a, 0x09]),
      );
      expect(bad.status).toBe('3');
      expect(bad.message).toMatch(/nothing was accepted/);
      const unknown = await call(
        '/opentelemetry.proto.collector.profiles.v1.ProfilesService/Export',
        new Uint8Array(),
      );
      expect(unknown.status).toBe('12');
      const ok = await call('/opentelemetry.proto.collector.logs.v1.LogsService/Export', new Uint8Array());
      expect(ok.status).toBe('0');
      expect(buffer.isEmpty()).toBe(true);
    } finally {
      session.close();
    }
  });
});
