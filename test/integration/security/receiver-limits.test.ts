// Stalled and slow request bodies (security review finding 1): the bytes of unfinished bodies are
// capped across all connections of both receivers, a silent body is refused after an idle deadline,
// and a freeze of the environment does not count against that deadline. Real sockets on loopback.
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import { systemClock } from '../../../src/extension/clock.js';
import type { Clock } from '../../../src/extension/export/types.js';
import { startTelemetryListener } from '../../../src/extension/lifecycle/telemetry-api.js';
import { startGrpcReceiver } from '../../../src/extension/receive/grpc.js';
import { type Receiver, startHttpReceiver } from '../../../src/extension/receive/http.js';
import { Ingest } from '../../../src/extension/receive/ingest.js';
import { InflightBodies } from '../../../src/extension/receive/refusal.js';
import { RelayStats } from '../../../src/extension/telemetry/stats.js';
import { manualClock, recordingLog, silentLog, traceRequest } from '../../unit/extension/fakes.js';

const MAX = 64 * 1024;
const WAIT_MS = 10_000;
const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const open: Receiver[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const r of open.splice(0)) await r.close();
});

async function receivers(opts: { inflight: InflightBodies; clock?: Clock; bodyIdleMs?: number }) {
  const buffer = new TelemetryBuffer(1024 * 1024, 32 * 1024, manualClock());
  const ingest = new Ingest(buffer, new RelayStats());
  const common = { port: 0, maxRequestBytes: MAX, ingest, log: silentLog, ...opts };
  const httpR = await startHttpReceiver({ ...common, onInvocationDone: () => {} });
  const grpcR = await startGrpcReceiver(common);
  open.push(httpR, grpcR);
  return { httpR, grpcR, buffer };
}

/** Opens a connection, writes `parts`, and resolves with what came back once `until` matches. */
function exchange(port: number, parts: (string | Uint8Array)[], until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sockets.push(sock);
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no answer within ${WAIT_MS} ms: ${got}`)), WAIT_MS);
    sock.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (until.test(got)) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    sock.on('error', () => {});
    sock.on('connect', () => {
      for (const p of parts) sock.write(p);
    });
  });
}

/** A request whose headers declare a MAX-byte body, of which `sent` bytes follow and then nothing. */
function stalledPost(port: number, sent: number) {
  const head = `POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${MAX}\r\n\r\n`;
  return new Promise<net.Socket>((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(head);
      sock.write(Buffer.alloc(sent, 0x0a), () => resolve(sock));
    });
    sock.on('error', () => {});
    sockets.push(sock);
  });
}

async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('partly-read request bodies', () => {
  it('answers 503 once stalled bodies on other connections hold the shared cap, and frees it when they go', async () => {
    const inflight = new InflightBodies(3 * MAX);
    const { httpR } = await receivers({ inflight });
    const stalled = [];
    for (let i = 0; i < 3; i++) stalled.push(await stalledPost(httpR.port, MAX - 1));
    await until(() => inflight.bytes === 3 * (MAX - 1), 'the stalled bodies to be read');

    const body = await traceRequest(3);
    const head = `POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${body.length}\r\n\r\n`;
    const raw = await exchange(httpR.port, [head, body], /\r\n\r\n/);
    expect(raw).toMatch(/^HTTP\/1\.1 503/);

    for (const s of stalled) s.destroy();
    await until(() => inflight.bytes === 0, 'the stalled bodies to be released');
    const again = await exchange(httpR.port, [head, body], /\r\n\r\n/);
    expect(again).toMatch(/^HTTP\/1\.1 200/);
  });

  it('counts gRPC stream bodies against the same cap as OTLP/HTTP bodies', async () => {
    const inflight = new InflightBodies(2 * MAX);
    const { httpR, grpcR } = await receivers({ inflight });
    await stalledPost(httpR.port, MAX - 1);
    await stalledPost(httpR.port, MAX - 1);
    await until(() => inflight.bytes === 2 * (MAX - 1), 'the stalled bodies to be read');

    const client = http2.connect(`http://127.0.0.1:${grpcR.port}`);
    try {
      const msg = await traceRequest(3);
      const frame = Buffer.alloc(5 + msg.length);
      frame.writeUInt32BE(msg.length, 1);
      frame.set(msg, 5);
      const req = client.request({ ':method': 'POST', ':path': TRACES, 'content-type': 'application/grpc' });
      const status = await new Promise<string | undefined>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no gRPC answer')), WAIT_MS);
        req.on('response', (h) => {
          if (h['grpc-status'] !== undefined) {
            clearTimeout(timer);
            resolve(String(h['grpc-status']));
          }
        });
        req.on('trailers', (t) => {
          clearTimeout(timer);
          resolve(String(t['grpc-status']));
        });
        req.on('error', reject);
        req.resume();
        req.end(frame);
      });
      expect(status).toBe('14');
    } finally {
      client.destroy();
    }
  });
});

describe('stalled request bodies', () => {
  it('refuses a body that goes silent with 408 and closes the connection', async () => {
    const inflight = new InflightBodies(4 * MAX);
    const { httpR } = await receivers({ inflight, clock: systemClock, bodyIdleMs: 80 });
    const raw = await exchange(
      httpR.port,
      [
        `POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${MAX}\r\n\r\n`,
        Buffer.alloc(100, 0x0a),
      ],
      /\r\n\r\n/,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 408/);
    expect(raw.toLowerCase()).toContain('connection: close');
    expect(inflight.bytes).toBe(0);
  });

  it('does not time out a body whose silence spans freezes of the environment', async () => {
    // Each reading of the clock across a "freeze" jumps an hour, as a thawed environment sees it.
    let frozen = true;
    let offset = 0;
    const freezing: Clock = {
      now: () => Date.now() + offset,
      monotonic: () => {
        if (frozen) offset += 3_600_000;
        return performance.now() + offset;
      },
    };
    const inflight = new InflightBodies(4 * MAX);
    const { httpR, buffer } = await receivers({ inflight, clock: freezing, bodyIdleMs: 40 });
    const body = await traceRequest(4);
    const sock = net.connect(httpR.port, '127.0.0.1');
    sockets.push(sock);
    let got = '';
    sock.on('data', (c: Buffer) => {
      got += c.toString('latin1');
    });
    await new Promise<void>((r) => sock.on('connect', () => r()));
    sock.write(
      `POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    sock.write(body.subarray(0, 10));
    await until(() => inflight.bytes === 10, 'the first bytes to be read');
    // Ten idle deadlines pass on the wall clock, all of them inside freezes.
    await new Promise((r) => setTimeout(r, 400));
    expect(got).toBe('');
    frozen = false;
    sock.write(body.subarray(10));
    await until(() => /\r\n\r\n/.test(got), 'the answer');
    expect(got).toMatch(/^HTTP\/1\.1 200/);
    expect(buffer.items('traces')).toBe(4);
  });
});

describe('the invocation done endpoint with a malformed escape', () => {
  it('answers 400 and logs no error when the request id is not valid percent-encoding', async () => {
    const log = recordingLog();
    const buffer = new TelemetryBuffer(1024 * 1024, 32 * 1024, manualClock());
    const done: string[] = [];
    const httpR = await startHttpReceiver({
      port: 0,
      maxRequestBytes: MAX,
      ingest: new Ingest(buffer, new RelayStats()),
      onInvocationDone: (id) => done.push(id),
      log,
    });
    open.push(httpR);
    for (const path of ['/relay/v1/invocations/%E0%A4%A/done', '/relay/v1/invocations/%/done']) {
      const raw = await exchange(
        httpR.port,
        [`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n`],
        /\r\n\r\n/,
      );
      expect(raw).toMatch(/^HTTP\/1\.1 400/);
    }
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(done).toEqual([]);
  });
});

describe('Telemetry API listener', () => {
  it('resets a connection once unfinished bodies across connections pass 8 MiB', async () => {
    const listener = await startTelemetryListener(0, () => {}, silentLog);
    try {
      const port = Number(new URL(listener.uri).port);
      // Each body alone is under the 8 MiB per-request limit; together they pass the shared cap.
      const head =
        'POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 7340032\r\n\r\n';
      const closes = [openPartial(port, head, 5 * 1024 * 1024), openPartial(port, head, 5 * 1024 * 1024)];
      const first = await Promise.race(closes);
      expect(['0', '1']).toContain(first);
    } finally {
      await listener.close();
    }
  });
});

/** Sends headers and `n` body bytes; resolves with `id` when the server closes the connection. */
function openPartial(port: number, head: string, n: number): Promise<string> {
  const id = String(sockets.length);
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sockets.push(sock);
    const timer = setTimeout(
      () => reject(new Error(`connection ${id} was not closed within ${WAIT_MS} ms`)),
      WAIT_MS,
    );
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(id);
    });
    sock.on('connect', () => {
      sock.write(head);
      sock.write(Buffer.alloc(n, 0x20));
    });
  });
}
