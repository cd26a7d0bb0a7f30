// How the receivers bound what a client can make them do: flow-control windows wide enough for a
// client that waits for WINDOW_UPDATE, oversized or late gRPC bodies refused as soon as that is
// known, ids of the wrong length refused, headers that never finish, and a debug line per refusal.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import { startGrpcReceiver } from '../../../src/extension/receive/grpc.js';
import { type Receiver, startHttpReceiver } from '../../../src/extension/receive/http.js';
import { Ingest } from '../../../src/extension/receive/ingest.js';
import { RelayStats } from '../../../src/extension/telemetry/stats.js';
import { decodeStatus } from '../../../src/otlp/index.js';
import { manualClock } from './fakes.js';

const MAX = 64 * 1024;
const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
let buffer: TelemetryBuffer;
let httpR: Receiver;
let grpcR: Receiver;
let debug: { msg: string; fields?: Record<string, unknown> }[];

beforeEach(async () => {
  buffer = new TelemetryBuffer(256 * 1024, 32 * 1024, manualClock());
  debug = [];
  const log = {
    debug: (msg: string, fields?: Record<string, unknown>) => debug.push({ msg, fields }),
    info() {},
    warn() {},
    error() {},
  };
  const ingest = new Ingest(buffer, new RelayStats());
  // Long idle deadlines: a refusal these tests expect must not come from the silence watch.
  httpR = await startHttpReceiver({
    port: 0,
    maxRequestBytes: MAX,
    ingest,
    onInvocationDone() {},
    log,
    bodyIdleMs: 120_000,
    headersTimeoutMs: 300,
  });
  grpcR = await startGrpcReceiver({
    port: 0,
    maxRequestBytes: MAX,
    ingest,
    log,
    bodyIdleMs: 120_000,
    headersTimeoutMs: 300,
  });
});
afterEach(async () => {
  await httpR.close();
  await grpcR.close();
});

/** A protobuf length-delimited field. */
function ld(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}
function spanRequest(traceIdBytes: number, spanIdBytes: number): Buffer {
  const span = Buffer.concat([
    ld(1, Buffer.alloc(traceIdBytes, 1)),
    ld(2, Buffer.alloc(spanIdBytes, 2)),
    ld(5, Buffer.from('op')),
  ]);
  return ld(1, ld(2, ld(2, span)));
}
function frame(payload: Uint8Array, declared = payload.length): Buffer {
  const f = Buffer.alloc(5 + payload.length);
  f.writeUInt32BE(declared, 1);
  f.set(payload, 5);
  return f;
}

interface GrpcAnswer {
  status: string;
  message: string;
}
/** Sends `body` on a new stream; ends the request only when `end`. Resolves when the stream closes. */
function grpcCall(
  session: http2.ClientHttp2Session,
  body: Buffer,
  opts: { end?: boolean; headers?: Record<string, string> } = {},
): Promise<GrpcAnswer> {
  return new Promise((resolve, reject) => {
    const s = session.request({
      ':method': 'POST',
      ':path': TRACES,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...opts.headers,
    });
    const answer = { status: '', message: '' };
    const read = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) answer.status = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) answer.message = decodeURIComponent(String(h['grpc-message']));
    };
    s.on('response', read);
    s.on('trailers', read);
    s.on('error', reject);
    s.on('close', () => resolve(answer));
    s.resume();
    if (opts.end === false) s.write(body);
    else s.end(body);
  });
}

describe('OTLP/gRPC receiver bounds', () => {
  it('opens 16 MiB stream and 32 MiB connection flow-control windows', async () => {
    const session = http2.connect(`http://127.0.0.1:${grpcR.port}`);
    try {
      await new Promise((r) => session.once('remoteSettings', r));
      expect(session.remoteSettings.initialWindowSize).toBe(16 * 1024 * 1024);
      // The connection window's WINDOW_UPDATE follows the SETTINGS; one round trip makes sure it landed.
      await grpcCall(session, frame(new Uint8Array()));
      // (less the 5 bytes that call sent)
      expect(session.state.remoteWindowSize).toBe(32 * 1024 * 1024 - 5);
    } finally {
      session.close();
    }
  });

  it('refuses RESOURCE_EXHAUSTED as soon as the length prefix is over the limit, with the body still open', async () => {
    const session = http2.connect(`http://127.0.0.1:${grpcR.port}`);
    try {
      // Only the 5-byte prefix is sent and the request never ends: the answer can come from the prefix alone.
      const res = await grpcCall(session, frame(new Uint8Array(), 7_400_000), { end: false });
      expect(res.status).toBe('8');
      expect(res.message).toMatch(/exceeds the relay's limit of 65536 bytes/);
      expect(buffer.isEmpty()).toBe(true);
    } finally {
      session.close();
    }
  });

  it('answers DEADLINE_EXCEEDED when the body does not complete within grpc-timeout', async () => {
    const session = http2.connect(`http://127.0.0.1:${grpcR.port}`);
    try {
      const body = frame(spanRequest(16, 8));
      const res = await grpcCall(session, body.subarray(0, 8), {
        end: false,
        headers: { 'grpc-timeout': '200m' },
      });
      expect(res.status).toBe('4');
      expect(res.message).toMatch(/grpc-timeout of 200 ms/);
      // A request that completes in time is unaffected by its timeout.
      expect((await grpcCall(session, body, { headers: { 'grpc-timeout': '5S' } })).status).toBe('0');
      expect(buffer.items('traces')).toBe(1);
    } finally {
      session.close();
    }
  });

  it('refuses trace and span ids of the wrong length INVALID_ARGUMENT, and logs the refusal at debug', async () => {
    const session = http2.connect(`http://127.0.0.1:${grpcR.port}`);
    try {
      const shortTrace = await grpcCall(session, frame(spanRequest(5, 8)));
      expect(shortTrace.status).toBe('3');
      expect(shortTrace.message).toMatch(/trace_id is 5 bytes, not 16/);
      const longSpan = await grpcCall(session, frame(spanRequest(16, 9)));
      expect(longSpan.status).toBe('3');
      expect(longSpan.message).toMatch(/span_id is 9 bytes, not 8/);
      expect(buffer.isEmpty()).toBe(true);
      const lines = debug.filter((d) => d.msg === 'OTLP/gRPC request refused');
      expect(lines).toHaveLength(2);
      expect(lines[0]!.fields).toMatchObject({ grpcStatus: 3, reason: expect.stringMatching(/trace_id/) });
      // Never the body: the span name sent is not in the line.
      expect(JSON.stringify(lines)).not.toContain('"op"');
    } finally {
      session.close();
    }
  });
});

describe('OTLP/gRPC connection bounds', () => {
  it('closes a connection that never sends the HTTP/2 preface, and keeps an idle session that did', async () => {
    const silent = net.connect(grpcR.port, '127.0.0.1');
    silent.resume();
    const idle = http2.connect(`http://127.0.0.1:${grpcR.port}`);
    try {
      await new Promise((r) => idle.once('remoteSettings', r));
      await new Promise((r) => silent.once('close', r));
      // The session that sent its SETTINGS outlived the silent socket's deadline and still serves calls.
      expect(idle.closed || idle.destroyed).toBe(false);
      expect((await grpcCall(idle, frame(spanRequest(16, 8)))).status).toBe('0');
    } finally {
      silent.destroy();
      idle.close();
    }
  });
});

describe('OTLP/HTTP receiver bounds', () => {
  function post(body: Buffer) {
    return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: httpR.port,
          path: '/v1/traces',
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  it('refuses ids of the wrong length with 400 and logs the refusal at debug', async () => {
    const res = await post(spanRequest(16, 4));
    expect(res.status).toBe(400);
    expect(decodeStatus(res.body).message).toMatch(/span_id is 4 bytes, not 8/);
    expect(buffer.isEmpty()).toBe(true);
    expect(debug).toContainEqual({
      msg: 'OTLP/HTTP request refused',
      fields: { httpStatus: 400, reason: expect.stringMatching(/span_id/) },
    });
    expect((await post(spanRequest(16, 8))).status).toBe(200);
    expect(buffer.items('traces')).toBe(1);
  });

  it('closes a connection that never finishes its headers, and keeps an idle kept-alive one', async () => {
    const stalled = net.connect(httpR.port, '127.0.0.1');
    let answer = '';
    stalled.on('data', (c) => {
      answer += c.toString();
    });
    stalled.write('POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n');
    const idle = net.connect(httpR.port, '127.0.0.1');
    let idleAnswers = '';
    idle.on('data', (c) => {
      idleAnswers += c.toString();
    });
    const emptyPost =
      'POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n';
    idle.write(emptyPost);
    await new Promise((r) => stalled.once('close', r));
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    // The kept-alive connection outlived the stalled one's header deadline and still serves requests.
    expect(idle.destroyed).toBe(false);
    idle.write(emptyPost);
    await new Promise<void>((r) => {
      const check = () => ((idleAnswers.match(/HTTP\/1.1 200/g) ?? []).length >= 2 ? r() : undefined);
      check();
      idle.on('data', check);
    });
    idle.destroy();
  });
});
