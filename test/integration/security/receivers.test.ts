// Security properties of the OTLP receivers that hold today: loopback-only binding,
// body and decompressed-size caps that hold against lying or chunked framing, a "done" endpoint that
// survives odd request ids, and a buffer that stays bounded (with every item accounted for) under a
// flood. Real sockets on loopback, real receivers; each wait is bounded.
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import { type Receiver, startHttpReceiver } from '../../../src/extension/receive/http.js';
import { Ingest } from '../../../src/extension/receive/ingest.js';
import type { RelayStats } from '../../../src/extension/telemetry/stats.js';
import { silentLog, startReceivers, traceRequest } from '../../unit/extension/fakes.js';

const MAX = 64 * 1024;
const BUFFER_MAX = 256 * 1024;
const WAIT_MS = 10_000;
const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

let buffer: TelemetryBuffer;
let stats: RelayStats;
let httpR: Receiver;
let grpcR: Receiver;
let done: string[];

let receivers: Awaited<ReturnType<typeof startReceivers>>;

beforeEach(async () => {
  receivers = await startReceivers(MAX, BUFFER_MAX);
  ({ buffer, stats, done, httpR, grpcR } = receivers);
});
afterEach(() => receivers.close());

/**
 * Writes raw bytes on a fresh connection and collects everything the server sends until it closes
 * the connection or `until` matches what came back; rejects after WAIT_MS.
 */
function rawExchange(port: number, parts: (string | Uint8Array)[], until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within ${WAIT_MS} ms; got so far: ${JSON.stringify(got)}`));
    }, WAIT_MS);
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    sock.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (until?.test(got)) finish();
    });
    sock.on('close', finish);
    sock.on('error', () => {});
    sock.on('connect', () => {
      for (const p of parts) sock.write(p);
    });
  });
}

function statusCodes(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}

async function postProto(path: string, body: Uint8Array): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${httpR.port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
    signal: AbortSignal.timeout(WAIT_MS),
  });
  await res.arrayBuffer();
  return res.status;
}

/** LISTEN sockets on `port` from the kernel's tables, as [address hex, family]. */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [addr, portHex] = (cols[1] ?? '').split(':');
      if (cols[3] === '0A' && portHex && Number.parseInt(portHex, 16) === port) out.push(addr ?? '');
    }
  }
  return out;
}

describe('receiver binding', () => {
  it('listens on 127.0.0.1 only, for both OTLP/HTTP and OTLP/gRPC', () => {
    // 0100007F is 127.0.0.1 in the kernel's little-endian hex; a wildcard bind would show 00000000 or a tcp6 row.
    expect(listeners(httpR.port)).toEqual(['0100007F']);
    expect(listeners(grpcR.port)).toEqual(['0100007F']);
  });
});

describe('OTLP/HTTP framing and size caps', () => {
  it('refuses a Content-Length over the limit with 413 before any body byte is sent', async () => {
    const raw = await rawExchange(httpR.port, [
      `POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${MAX + 1}\r\n\r\n`,
    ]);
    expect(statusCodes(raw)).toEqual([413]);
    expect(raw.toLowerCase()).toContain('connection: close');
    expect(buffer.items()).toBe(0);
  });

  it('accepts nothing when Content-Length is shorter than the body it frames', async () => {
    const body = await traceRequest(5);
    const raw = await rawExchange(httpR.port, [
      `POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${body.length - 7}\r\n\r\n`,
      body,
    ]);
    // The truncated request is not a valid export request, and what follows it is not HTTP.
    expect(statusCodes(raw)[0]).toBe(400);
    expect(buffer.items()).toBe(0);
    expect(stats.invalidRequests).toBe(1);
    expect(await postProto('/v1/traces', body)).toBe(200);
    expect(buffer.items('traces')).toBe(5);
  });

  it('refuses a chunked body that grows past the limit with 413 and closes the connection', async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x0a);
    const parts: (string | Uint8Array)[] = [
      'POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ntransfer-encoding: chunked\r\n\r\n',
    ];
    for (let i = 0; i < 6; i++) parts.push(`${chunk.length.toString(16)}\r\n`, chunk, '\r\n');
    parts.push('0\r\n\r\n');
    const raw = await rawExchange(httpR.port, parts);
    expect(statusCodes(raw)).toEqual([413]);
    expect(buffer.items()).toBe(0);
  });

  it('refuses a gzip body whose decompressed size passes the limit, however small on the wire', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MAX));
    expect(bomb.length).toBeLessThan(MAX / 8);
    const res = await fetch(`http://127.0.0.1:${httpR.port}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: bomb,
      signal: AbortSignal.timeout(WAIT_MS),
    });
    await res.arrayBuffer();
    expect(res.status).toBe(413);
    expect(buffer.items()).toBe(0);
  });
});

/** The tag and varint length that open a length-delimited protobuf field of `size` bytes. */
function fieldHeader(no: number, size: number): Buffer {
  const out = [(no << 3) | 2];
  for (let n = size; ; n >>>= 7) {
    if (n < 0x80) {
      out.push(n);
      break;
    }
    out.push((n & 0x7f) | 0x80);
  }
  return Buffer.from(out);
}

const field = (no: number, payload: Uint8Array) => Buffer.concat([fieldHeader(no, payload.length), payload]);

/**
 * ExportTraceServiceRequest whose one resource attribute is an AnyValue array nested `depth` deep.
 * Nested length-delimited fields are all prefix, so the headers are built inside out and joined once.
 */
function nestedAttributeRequest(depth: number): Uint8Array {
  const core = field(1, Buffer.from('x'));
  const headers: Buffer[] = [];
  let size = core.length;
  for (let i = 0; i < depth; i++) {
    for (const no of [1, 5]) {
      const h = fieldHeader(no, size);
      headers.push(h);
      size += h.length;
    }
  }
  const value = Buffer.concat([...headers.reverse(), core]);
  const kv = Buffer.concat([field(1, Buffer.from('k')), field(2, value)]);
  return field(1, field(1, field(1, kv)));
}

describe('hostile nesting', () => {
  it('refuses deeply nested OTLP/JSON and protobuf with 400 instead of exhausting the stack', async () => {
    const depth = 50_000;
    const json = `{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":${'{"arrayValue":{"values":['.repeat(depth)}{"stringValue":"x"}${']}}'.repeat(depth)}}]},"scopeSpans":[]}]}`;
    expect(json.length).toBeLessThan(MAX * 32);
    const bigReceiver = await startHttpReceiver({
      port: 0,
      maxRequestBytes: MAX * 32,
      ingest: new Ingest(buffer, stats),
      onInvocationDone: () => {},
      log: silentLog,
    });
    try {
      const post = async (body: string | Uint8Array, contentType: string) => {
        const res = await fetch(`http://127.0.0.1:${bigReceiver.port}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body,
          signal: AbortSignal.timeout(WAIT_MS),
        });
        await res.arrayBuffer();
        return res.status;
      };
      expect(await post(json, 'application/json')).toBe(400);
      expect(await post(nestedAttributeRequest(depth), 'application/x-protobuf')).toBe(400);
      // A sane depth is still accepted: the limit is about hostile input, not ordinary attributes.
      expect(await post(nestedAttributeRequest(8), 'application/x-protobuf')).toBe(200);
    } finally {
      await bigReceiver.close();
    }
  });
});

describe('the invocation done endpoint', () => {
  it('passes odd request ids through decoded and exactly once', async () => {
    const ids = ['a b', 'ü✓-id', 'x+y=z', 'with/slash', 'quote\'"<>', 'r'.repeat(200)];
    for (const id of ids) {
      const res = await fetch(
        `http://127.0.0.1:${httpR.port}/relay/v1/invocations/${encodeURIComponent(id)}/done`,
        { method: 'POST', signal: AbortSignal.timeout(WAIT_MS) },
      );
      await res.arrayBuffer();
      expect(res.status).toBe(204);
    }
    expect(done).toEqual(ids);
  });

  it('ignores a malformed or oversized request id and keeps serving', async () => {
    const paths = [
      '/relay/v1/invocations/%E0%A4%A/done',
      '/relay/v1/invocations/%/done',
      `/relay/v1/invocations/${'r'.repeat(201)}/done`,
      '/relay/v1/invocations//done',
      '/relay/v1/invocations/a/b/done',
    ];
    for (const path of paths) {
      const raw = await rawExchange(
        httpR.port,
        [`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n`],
        /\r\n\r\n/,
      );
      expect(statusCodes(raw)[0]).toBeGreaterThanOrEqual(400);
    }
    expect(done).toEqual([]);
    expect(await postProto('/v1/traces', await traceRequest(1))).toBe(200);
  });
});

describe('memory under a flood', () => {
  it('keeps the buffer within its cap and accounts for every item as buffered or dropped', async () => {
    const body = await traceRequest(40);
    const rounds = Math.ceil((4 * BUFFER_MAX) / body.length);
    for (let i = 0; i < rounds; i++) expect(await postProto('/v1/traces', body)).toBe(200);
    expect(buffer.bytes()).toBeLessThanOrEqual(BUFFER_MAX);
    expect(stats.received.traces).toBe(rounds * 40);
    expect(buffer.items('traces') + (stats.dropped.buffer_full?.traces ?? 0)).toBe(rounds * 40);
    expect(stats.dropped.buffer_full?.traces ?? 0).toBeGreaterThan(0);
  });
});

describe('OTLP/gRPC framing and size caps', () => {
  async function grpcCall(
    frames: Uint8Array,
    headers: Record<string, string> = {},
    opts: { cancelAfterWrite?: boolean } = {},
  ) {
    const session = http2.connect(`http://127.0.0.1:${grpcR.port}`);
    session.on('error', () => {});
    try {
      return await new Promise<{ status: string; message: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no gRPC answer within ${WAIT_MS} ms`)), WAIT_MS);
        const s = session.request({
          ':method': 'POST',
          ':path': TRACES,
          'content-type': 'application/grpc',
          te: 'trailers',
          ...headers,
        });
        let status = '';
        let message = '';
        s.on('response', (h) => {
          status = String(h['grpc-status'] ?? '');
          message = decodeURIComponent(String(h['grpc-message'] ?? ''));
        });
        s.on('trailers', (t) => {
          status = String(t['grpc-status'] ?? status);
        });
        s.on('error', () => {});
        s.on('close', () => {
          clearTimeout(timer);
          resolve({ status, message });
        });
        s.resume();
        if (opts.cancelAfterWrite) {
          s.write(frames, () => s.close(http2.constants.NGHTTP2_CANCEL));
        } else s.end(frames);
      });
    } finally {
      session.destroy();
    }
  }

  function frame(payload: Uint8Array, compressed = false, declared = payload.length): Buffer {
    const f = Buffer.alloc(5 + payload.length);
    f[0] = compressed ? 1 : 0;
    f.writeUInt32BE(declared, 1);
    f.set(payload, 5);
    return f;
  }

  it('refuses a gzip bomb with RESOURCE_EXHAUSTED and buffers nothing', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MAX));
    const res = await grpcCall(frame(bomb, true), { 'grpc-encoding': 'gzip' });
    expect(res.status).toBe('8');
    expect(res.message).toMatch(/decompresses to more than/);
    expect(buffer.items()).toBe(0);
  });

  it('refuses a stream of many small frames past the limit with RESOURCE_EXHAUSTED', async () => {
    const one = frame(Buffer.alloc(64));
    const many = Buffer.concat(Array.from({ length: Math.ceil(MAX / one.length) + 10 }, () => one));
    const res = await grpcCall(many);
    expect(res.status).toBe('8');
    expect(buffer.items()).toBe(0);
  });

  it('refuses two messages in a unary call and a frame whose length lies, with INVALID_ARGUMENT', async () => {
    const body = await traceRequest(2);
    const two = await grpcCall(Buffer.concat([frame(body), frame(body)]));
    expect(two.status).toBe('3');
    const lying = await grpcCall(frame(body, false, body.length + 100));
    expect(lying.status).toBe('3');
    expect(buffer.items()).toBe(0);
  });

  it('survives a client that cancels its stream mid-message and serves the next call', async () => {
    const body = await traceRequest(3);
    const partial = frame(body).subarray(0, 20);
    await grpcCall(partial, {}, { cancelAfterWrite: true });
    const ok = await grpcCall(frame(body));
    expect(ok.status).toBe('0');
    expect(buffer.items('traces')).toBe(3);
  });
});
