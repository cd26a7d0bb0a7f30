#!/usr/bin/env node
// What the destinations and processors that need structure cost per batch, against the zero-decode
// OTLP -> OTLP path (which forwards the received bytes): decoding a 100-span / 100-point request
// (protobufjs, loaded on first use), each format's encoder, and a processor's decode + re-encode.
// Also: whether the default extension bundle carries any destination or processor code.
//   node test/bench/destinations.bench.mjs [--json]
// It measures and reports; it never passes or fails on a number.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(root, '.cache', 'bench-destinations');

const ENTRY = `
export { decodeExportRequest, otlpJsonToProtobuf } from './src/otlp/index.js';
export { toZipkinSpans } from './src/extension/destinations/zipkin/encoder.js';
export { toEmfObjects, DeltaState } from './src/extension/destinations/emf/encoder.js';
export { toTimeSeries, CumulativeState } from './src/extension/destinations/prometheusremotewrite/series.js';
export { encodeWriteRequest } from './src/extension/destinations/prometheusremotewrite/write-request.js';
export { snappyCompress } from './src/extension/destinations/prometheusremotewrite/snappy.js';
export { createProcessors } from './src/extension/processors/index.js';
`;

async function bundle() {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'destinations.mjs');
  await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
  });
  return outfile;
}

/** Median batches/s over 5 rounds of ~300 ms (async functions awaited). */
async function measure(fn, ms = 300) {
  for (let i = 0; i < 20; i++) await fn();
  const rates = [];
  for (let r = 0; r < 5; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      await fn();
      n++;
      now = performance.now();
    }
    rates.push((n * 1000) / (now - start));
  }
  rates.sort((a, b) => a - b);
  return rates[2];
}

function tracesJson(n) {
  const t0 = 1_764_000_000_000_000_000n;
  const hex = (i, len) => i.toString(16).padStart(len, '0');
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
        scopeSpans: [
          {
            scope: { name: 'bench' },
            spans: Array.from({ length: n }, (_, i) => ({
              traceId: hex(i + 1, 32),
              spanId: hex(i + 1, 16),
              name: `span-${i % 10}`,
              kind: 2,
              startTimeUnixNano: String(t0 + BigInt(i) * 1000n),
              endTimeUnixNano: String(t0 + BigInt(i) * 1000n + 5_000_000n),
              attributes: Array.from({ length: 10 }, (_, k) => ({
                key: `attr.${k}`,
                value: { stringValue: `value-${k}-${i}` },
              })),
            })),
          },
        ],
      },
    ],
  };
}

function metricsJson(n) {
  const ts = String(1_764_000_000_000n * 1_000_000n);
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
        scopeMetrics: [
          {
            metrics: Array.from({ length: n }, (_, i) => ({
              name: `metric.${i % 20}`,
              unit: 'ms',
              sum: {
                aggregationTemporality: 1,
                isMonotonic: true,
                dataPoints: [
                  {
                    timeUnixNano: ts,
                    asInt: String(i),
                    attributes: [{ key: 'route', value: { stringValue: `/r${i}` } }],
                  },
                ],
              },
            })),
          },
        ],
      },
    ],
  };
}

export async function run() {
  const m = await import(pathToFileURL(await bundle()).href);
  const traces = m.otlpJsonToProtobuf('traces', JSON.stringify(tracesJson(100)));
  const metrics = m.otlpJsonToProtobuf('metrics', JSON.stringify(metricsJson(100)));
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const clock = { now: () => Date.now(), monotonic: () => performance.now() };
  const [filter] = m.createProcessors({
    env: { OTEL_RELAY_PROCESSORS: 'filter', OTEL_RELAY_FILTER_SPAN_NAMES: 'span-0' },
    log,
    clock,
  });
  const [redact] = m.createProcessors({
    env: { OTEL_RELAY_PROCESSORS: 'redact', OTEL_RELAY_REDACT_KEYS: 'attr\\.1' },
    log,
    clock,
  });
  const batch = { signal: 'traces', body: traces, items: 100, oldestAcceptedAt: 0 };
  const budget = { deadline: Date.now() + 3_600_000, abort: new AbortController().signal, reason: 'invoke' };
  await m.decodeExportRequest('traces', traces); // load protobufjs once, outside the timings
  const rows = [
    ['otlp (zero-decode: the bytes are forwarded)', 'traces', async () => traces],
    ['decode (protobufjs)', 'traces', () => m.decodeExportRequest('traces', traces)],
    [
      'zipkin: decode + encode JSON',
      'traces',
      async () => JSON.stringify(m.toZipkinSpans(await m.decodeExportRequest('traces', traces))),
    ],
    [
      'console/file json: decode + JSON line',
      'traces',
      async () => JSON.stringify(await m.decodeExportRequest('traces', traces)),
    ],
    ['processor filter: decode + re-encode', 'traces', () => filter.process(batch, budget)],
    ['processor redact: decode + re-encode', 'traces', () => redact.process(batch, budget)],
    ['decode (protobufjs)', 'metrics', () => m.decodeExportRequest('metrics', metrics)],
    [
      'emf: decode + EMF lines',
      'metrics',
      async () =>
        m
          .toEmfObjects(await m.decodeExportRequest('metrics', metrics), new m.DeltaState(), {
            storageResolution: 60,
          })
          .map((o) => JSON.stringify(o)),
    ],
    [
      'prometheusremotewrite: decode + series + protobuf + snappy',
      'metrics',
      async () =>
        m.snappyCompress(
          m.encodeWriteRequest(
            m.toTimeSeries(await m.decodeExportRequest('metrics', metrics), new m.CumulativeState(), {
              environmentInstance: 'x',
            }),
          ),
        ),
    ],
  ];
  const table = [];
  const results = { items_per_batch: 100, rows: [] };
  for (const [what, signal, fn] of rows) {
    const perSec = await measure(fn);
    results.rows.push({
      what,
      signal,
      batches_per_s: Math.round(perSec),
      ms_per_batch: Number((1000 / perSec).toFixed(3)),
    });
    table.push({
      what,
      signal,
      'batches/s': Math.round(perSec),
      'ms/batch (100 items)': (1000 / perSec).toFixed(3),
    });
  }
  // The default bundle must not carry destination or processor code (it loads only when selected).
  const extension = join(root, 'dist/layer/otel-relay/extension.js');
  if (existsSync(extension)) {
    const text = readFileSync(extension, 'utf8');
    // Strings that survive minification, one per destination/processor module.
    const markers = [
      'zipkin takes traces only',
      'x-prometheus-remote-write-version',
      'CloudWatchMetrics',
      'text/plain; version=0.0.4',
      'x-aws-log-group',
      'is required with the ratelimit processor',
    ];
    const found = markers.filter((k) => text.includes(k));
    results.default_bundle = { bytes: text.length, destination_code_found: found };
    table.push({
      what: `default extension bundle (${text.length} bytes): destination/processor code found`,
      signal: '-',
      'batches/s': found.join(',') || 'none',
      'ms/batch (100 items)': '-',
    });
  }
  return { name: 'destinations', results, table };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await run();
  if (process.argv.includes('--json')) console.log(JSON.stringify(r.results, null, 2));
  else console.table(r.table);
}
