// Fake Lambda APIs and a recording collector for the extension's unit tests: small real HTTP
// servers on ephemeral loopback ports (the extension talks to them exactly as to the platform).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import { systemClock } from '../../../src/extension/clock.js';
import type { Clock } from '../../../src/extension/export/types.js';
import type { RelayCore } from '../../../src/extension/lifecycle/core.js';
import { runExtension } from '../../../src/extension/lifecycle/run.js';
import { startGrpcReceiver } from '../../../src/extension/receive/grpc.js';
import { startHttpReceiver } from '../../../src/extension/receive/http.js';
import { Ingest } from '../../../src/extension/receive/ingest.js';
import { RelayStats } from '../../../src/extension/telemetry/stats.js';
import { type Signal, validateExportRequest } from '../../../src/otlp/index.js';

export interface FakeLambdaApi {
  runtimeApi: string;
  registered: { name: string; events: string[] } | undefined;
  subscription: { URI: string; types: string[] } | undefined;
  /** Resolves when the extension calls event/next (i.e. it is parked); counts calls. */
  nextCalls: number;
  waitForNext(count: number, timeoutMs?: number): Promise<void>;
  /** Delivers an event to the pending (or next) event/next call. */
  push(event: object): void;
  /** Posts platform events to the subscribed listener. */
  sendTelemetry(events: object[]): Promise<void>;
  close(): Promise<void>;
  registerStatus: number;
  subscribeStatus: number;
  /** Resets the connection of this many event/next calls (a broken local API connection). */
  dropNextCalls: number;
}

export async function startFakeLambdaApi(): Promise<FakeLambdaApi> {
  const queue: object[] = [];
  let parked: http.ServerResponse | undefined;
  const nextWaiters: { count: number; resolve: () => void }[] = [];
  const api: FakeLambdaApi = {
    runtimeApi: '',
    registered: undefined,
    subscription: undefined,
    nextCalls: 0,
    registerStatus: 200,
    subscribeStatus: 200,
    dropNextCalls: 0,
    waitForNext(count, timeoutMs = 10_000) {
      if (api.nextCalls >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`event/next call ${count} did not come in ${timeoutMs} ms`)),
          timeoutMs,
        );
        nextWaiters.push({
          count,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    push(event) {
      if (parked) {
        parked.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(event));
        parked = undefined;
      } else queue.push(event);
    },
    async sendTelemetry(events) {
      if (!api.subscription) throw new Error('no telemetry subscription');
      const uri = new URL(api.subscription.URI);
      const body = JSON.stringify(events);
      await new Promise<void>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: uri.port,
            path: uri.pathname,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () =>
      new Promise((resolve) => {
        parked?.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url === '/2020-01-01/extension/register') {
        if (api.registerStatus !== 200) {
          res.writeHead(api.registerStatus).end('{"errorType":"Extension.Refused"}');
          return;
        }
        api.registered = { name: String(req.headers['lambda-extension-name']), ...JSON.parse(body) };
        res
          .writeHead(200, { 'lambda-extension-identifier': '11111111-2222-3333-4444-555555555555' })
          .end(JSON.stringify({ functionName: 'fn', functionVersion: '$LATEST', handler: 'index.handler' }));
      } else if (req.url === '/2020-01-01/extension/event/next') {
        if (api.dropNextCalls > 0) {
          api.dropNextCalls--;
          req.socket.destroy();
          return;
        }
        api.nextCalls++;
        for (const w of nextWaiters.filter((x) => x.count <= api.nextCalls)) {
          nextWaiters.splice(nextWaiters.indexOf(w), 1);
          w.resolve();
        }
        const ev = queue.shift();
        if (ev) res.writeHead(200).end(JSON.stringify(ev));
        else parked = res;
      } else if (req.url === '/2022-07-01/telemetry') {
        if (api.subscribeStatus !== 200) {
          res.writeHead(api.subscribeStatus).end('{"errorType":"Telemetry.NotSupported"}');
          return;
        }
        const sub = JSON.parse(body);
        api.subscription = { URI: sub.destination.URI, types: sub.types };
        res.writeHead(200).end('"OK"');
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api.runtimeApi = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}

export interface RecordedExport {
  signal: Signal;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  items: number;
}

/** An OTLP/HTTP endpoint that records what it receives; `respond` decides the answer per request. */
export interface FakeCollector {
  url: string;
  requests: RecordedExport[];
  respond: (r: RecordedExport) => { status: number; headers?: Record<string, string>; body?: Uint8Array };
  /** Delay before answering, ms. */
  delayMs: number;
  items(signal?: Signal): number;
  close(): Promise<void>;
}

export async function startFakeCollector(): Promise<FakeCollector> {
  const c: FakeCollector = {
    url: '',
    requests: [],
    respond: () => ({
      status: 200,
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array(),
    }),
    delayMs: 0,
    items: (signal) =>
      c.requests.filter((r) => !signal || r.signal === signal).reduce((n, r) => n + r.items, 0),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (ch: Buffer) => chunks.push(ch));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const signal = (req.url ?? '').split('/').pop() as Signal;
      const rec: RecordedExport = {
        signal,
        path: req.url ?? '',
        headers: req.headers,
        body,
        items: validateExportRequest(signal, body).items,
      };
      const answer = () => {
        const r = c.respond(rec);
        // A client that gave up (aborted at its budget) never learns the answer: not counted as delivered.
        if (r.status >= 200 && r.status < 300 && !res.socket?.destroyed) c.requests.push(rec);
        res.writeHead(r.status, r.headers ?? {}).end(r.body ?? new Uint8Array());
      };
      if (c.delayMs > 0) setTimeout(answer, c.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  c.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return c;
}

/** A real OTel SDK-encoded ExportTraceServiceRequest with `n` spans named `${prefix}-<i>`. */
export async function traceRequest(n: number, prefix = 'span'): Promise<Uint8Array> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('unit');
  for (let i = 0; i < n; i++) tracer.startSpan(`${prefix}-${i}`, { attributes: { i } }).end();
  await provider.forceFlush();
  const bytes = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans());
  if (!bytes) throw new Error('serializer returned nothing');
  return bytes;
}

/** A controllable clock for policy and budget tests. */
export function manualClock(
  start = 1_700_000_000_000,
): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = start;
  let mono = 1000;
  return {
    now: () => now,
    monotonic: () => mono,
    advance(ms) {
      now += ms;
      mono += ms;
    },
    set(ms) {
      mono += ms - now;
      now = ms;
    },
  };
}

export const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

/** A logger that keeps its lines, for asserting on what the user would read. */
export function recordingLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const mk = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
  };
  return { lines, debug: mk('debug'), info: mk('info'), warn: mk('warn'), error: mk('error'), setLevel() {} };
}

/** Polls `pred` every 10 ms until true or the deadline; throws with `what` on timeout. */
export async function eventually(pred: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Where a relay under test talks to: the fake Lambda APIs, the fake collector, a spool directory. */
export interface RelayPeers {
  api: FakeLambdaApi;
  collector: FakeCollector;
  spoolDir: string;
}

/**
 * Runs the whole extension lifecycle in-process against `peers`, on ephemeral ports, self-telemetry off.
 * `core()` is the started RelayCore (throws if it never started); `exit` settles when the relay exits.
 */
export function startRelay(peers: RelayPeers, env: Record<string, string> = {}, clock: Clock = systemClock) {
  const log = recordingLog();
  let core: RelayCore | undefined;
  const exit = runExtension({
    env: {
      AWS_LAMBDA_RUNTIME_API: peers.api.runtimeApi,
      OTEL_RELAY_HTTP_PORT: '0',
      OTEL_RELAY_GRPC_PORT: '0',
      OTEL_RELAY_SELF_TELEMETRY: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: peers.collector.url,
      OTEL_RELAY_SPOOL_DIR: peers.spoolDir,
      ...env,
    },
    clock,
    log,
    onReady: (c) => {
      core = c;
    },
  });
  return {
    log,
    exit,
    core: () => {
      if (!core) throw new Error('relay core did not start');
      return core;
    },
  };
}

/**
 * The OTLP/HTTP and OTLP/gRPC receivers on ephemeral loopback ports, over one buffer, as the relay wires
 * them; `done` collects the request ids of "invocation done" signals.
 */
export async function startReceivers(maxRequestBytes: number, bufferMaxBytes = 256 * 1024) {
  const buffer = new TelemetryBuffer(bufferMaxBytes, 32 * 1024, manualClock());
  const stats = new RelayStats();
  const done: string[] = [];
  const ingest = new Ingest(buffer, stats);
  const httpR = await startHttpReceiver({
    port: 0,
    maxRequestBytes,
    ingest,
    onInvocationDone: (id) => done.push(id),
    log: silentLog,
  });
  const grpcR = await startGrpcReceiver({ port: 0, maxRequestBytes, ingest, log: silentLog });
  return {
    buffer,
    stats,
    done,
    httpR,
    grpcR,
    async close() {
      await httpR.close();
      await grpcR.close();
    },
  };
}
