#!/usr/bin/env node
// The OTLP/gRPC receiver under large requests: how long a 5.3 MB unary Export takes to upload and
// be answered, and how soon an oversized one (7.4 MB, over an 8 MiB-minus limit) is refused, with the
// flow-control windows the receiver advertises. Real node:http2 client and the relay's receiver.
//   node test/bench/grpc-receiver.bench.mjs [--json]
// Also a module for test/bench/run.mjs: `run()`. It measures and reports; it never passes or fails.
import http2 from 'node:http2';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(root, '.cache', 'bench-grpc-receiver');
const ROUNDS = 5;
const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

async function loadReceiver() {
  const out = join(outDir, 'receive.mjs');
  await build({
    stdin: {
      contents: `export * from './src/extension/receive/index.js'; export { TelemetryBuffer } from './src/extension/buffer/index.js'; export { systemClock } from './src/extension/clock.js'; export { RelayStats } from './src/extension/telemetry/stats.js';`,
      resolveDir: root,
      loader: 'ts',
    },
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  return import(pathToFileURL(out).href);
}

/** A request of `size` bytes: one ResourceSpans whose resource carries a single large attribute. */
function requestOf(size) {
  const value = Buffer.alloc(size - 32, 'x');
  const ld = (field, bytes) => {
    const len = [];
    let n = bytes.length;
    while (n > 0x7f) {
      len.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    len.push(n);
    return Buffer.concat([Buffer.from([(field << 3) | 2, ...len]), bytes]);
  };
  const kv = Buffer.concat([ld(1, Buffer.from('k')), ld(2, ld(1, value))]);
  return ld(1, ld(1, ld(1, kv)));
}

function call(session, message) {
  return new Promise((resolveCall, reject) => {
    const started = performance.now();
    const s = session.request({
      ':method': 'POST',
      ':path': TRACES,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status = '';
    const read = (h) => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
    };
    s.on('response', read);
    s.on('trailers', read);
    s.on('error', reject);
    s.on('close', () => resolveCall({ ms: performance.now() - started, status }));
    s.resume();
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    s.end(frame);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runGrpcReceiverBench() {
  const { startGrpcReceiver, Ingest, TelemetryBuffer, RelayStats, systemClock } = await loadReceiver();
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const maxRequestBytes = 6 * 1024 * 1024;
  const buffer = new TelemetryBuffer(64 * 1024 * 1024, 1024 * 1024, systemClock);
  const receiver = await startGrpcReceiver({
    port: 0,
    maxRequestBytes,
    ingest: new Ingest(buffer, new RelayStats()),
    log,
  });
  const session = http2.connect(`http://127.0.0.1:${receiver.port}`);
  try {
    await new Promise((r) => session.once('remoteSettings', r));
    // The connection window's WINDOW_UPDATE follows the SETTINGS; an empty call makes sure it landed.
    await call(session, Buffer.alloc(0));
    const connectionWindowBytes = session.state.remoteWindowSize;
    const fits = requestOf(5_300_000);
    const over = requestOf(7_400_000);
    const ok = [];
    const refused = [];
    for (let i = 0; i < ROUNDS; i++) {
      const a = await call(session, fits);
      if (a.status !== '0') throw new Error(`5.3 MB request answered grpc-status ${a.status}`);
      ok.push(a.ms);
      const b = await call(session, over);
      if (b.status !== '8') throw new Error(`7.4 MB request answered grpc-status ${b.status}, not 8`);
      refused.push(b.ms);
    }
    const results = {
      streamWindowBytes: session.remoteSettings.initialWindowSize,
      connectionWindowBytes,
      upload5_3MBms: Math.round(median(ok)),
      refuse7_4MBms: Math.round(median(refused)),
      rounds: ROUNDS,
    };
    return { results, table: [results] };
  } finally {
    session.close();
    await receiver.close();
  }
}

export async function run() {
  const { results, table } = await runGrpcReceiverBench();
  return { name: 'grpc-receiver', results, table };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { results, table } = await runGrpcReceiverBench();
  if (process.argv.includes('--json'))
    console.log(JSON.stringify({ name: 'grpc-receiver', node: process.version, ...results }, null, 2));
  else console.table(table);
}
