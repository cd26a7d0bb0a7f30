#!/usr/bin/env node
// Ingest-path benchmark for src/otlp: how fast the extension can validate, convert and split what
// the function sends, on realistic requests made by the real OpenTelemetry JS SDK serializers
// (100 spans with 10 attributes each, SDK metrics, SDK logs), and what loading src/otlp costs.
//   node test/bench/ingest.bench.mjs [--json] [--quick]
// Also a module for test/bench/run.mjs: `run()` (and `runIngestBench()`, the results alone).
// It measures and reports; it never passes or fails on a number.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the repository (git-ignored) so the SDK fixtures resolve node_modules from there.
const outDir = join(root, '.cache', 'bench-ingest');

async function bundle(entry, out, format, external) {
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(outDir, out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    minify: format === 'cjs',
    packages: external ? 'external' : undefined,
    logLevel: 'warning',
  });
  return join(outDir, out);
}

/** Runs `fn` repeatedly for about `ms` per round; returns the median ops/s over the rounds. */
function measure(fn, { ms = 400, rounds = 5 } = {}) {
  for (let i = 0; i < 50; i++) fn(); // warm up the JIT
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      for (let i = 0; i < 10; i++) fn();
      n += 10;
      now = performance.now();
    }
    rates.push((n * 1000) / (now - start));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

/** Median of `times` child-process measurements of loading a module (ms, excluding Node's own startup). */
function loadMs(file, times, extra = '') {
  const script = `const t=performance.now();const m=require(${JSON.stringify(file)});${extra}Promise.resolve().then(async()=>{${extra ? 'await m.__probe();' : ''}process.stdout.write(String(performance.now()-t));});`;
  const samples = [];
  for (let i = 0; i < times; i++) {
    samples.push(Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const round = (n, digits = 0) => Number(n.toFixed(digits));

export async function runIngestBench({ quick = false } = {}) {
  mkdirSync(outDir, { recursive: true });
  const timing = quick ? { ms: 150, rounds: 3 } : { ms: 400, rounds: 5 };
  const otlpFile = await bundle('src/otlp/index.ts', 'otlp.mjs', 'esm', false);
  const fixturesFile = await bundle('test/unit/otlp/sdk-fixtures.ts', 'fixtures.mjs', 'esm', true);
  const otlp = await import(pathToFileURL(otlpFile).href);
  const fx = await import(pathToFileURL(fixturesFile).href);
  const decodeFile = await bundle('src/otlp/decode.ts', 'decode.mjs', 'esm', false);
  const codec = await (await import(pathToFileURL(decodeFile).href)).loadOtlpCodec();

  const spans = fx.makeSpans(100, 10);
  const traces = fx.traceProtobuf(spans);
  const tracesJson = fx.traceJson(spans);
  const metrics = fx.metricsProtobuf(await fx.makeMetrics(40));
  const logs = fx.logsProtobuf(fx.makeLogs(100));
  const batchOf10 = Buffer.concat(Array.from({ length: 10 }, () => traces));

  const cases = [
    {
      case: 'validate traces (protobuf)',
      signal: 'traces',
      body: traces,
      fn: () => otlp.validateExportRequest('traces', traces),
    },
    {
      case: 'validate traces, UTF-8 check off',
      signal: 'traces',
      body: traces,
      fn: () => otlp.validateExportRequest('traces', traces, { checkUtf8: false }),
    },
    {
      case: 'validate metrics (protobuf)',
      signal: 'metrics',
      body: metrics,
      fn: () => otlp.validateExportRequest('metrics', metrics),
    },
    {
      case: 'validate logs (protobuf)',
      signal: 'logs',
      body: logs,
      fn: () => otlp.validateExportRequest('logs', logs),
    },
    {
      case: 'OTLP/JSON -> protobuf + validate traces',
      signal: 'traces',
      body: tracesJson,
      fn: () => otlp.validateExportRequest('traces', otlp.otlpJsonToProtobuf('traces', tracesJson)),
    },
    {
      case: 'OTLP/JSON -> protobuf via protobufjs protojson (reference)',
      signal: 'traces',
      body: tracesJson,
      fn: () => codec.jsonToProtobufWithProtobufjs('traces', tracesJson),
    },
    {
      case: 'JSON.parse alone (floor for any converter)',
      signal: 'traces',
      body: tracesJson,
      fn: () => JSON.parse(Buffer.from(tracesJson).toString('utf8')),
    },
    {
      case: 'splitEntries + batchBySize + join (10 requests)',
      signal: 'traces',
      body: batchOf10,
      fn: () => otlp.batchBySize(otlp.splitEntries(batchOf10), 128 * 1024).map((b) => otlp.joinRequests(b)),
    },
    {
      case: 'protobufjs full decode traces (reference)',
      signal: 'traces',
      body: traces,
      fn: () => codec.decodeExportRequest('traces', traces),
    },
  ];

  const results = { requests: {}, cases: {}, load: {} };
  results.requests = {
    traces: { bytes: traces.length, ...pick(otlp.validateExportRequest('traces', traces)) },
    tracesJson: { bytes: tracesJson.length },
    metrics: { bytes: metrics.length, ...pick(otlp.validateExportRequest('metrics', metrics)) },
    logs: { bytes: logs.length, ...pick(otlp.validateExportRequest('logs', logs)) },
  };
  const table = [];
  for (const c of cases) {
    const items = otlp.validateExportRequest(
      c.signal,
      c.body === tracesJson ? otlp.otlpJsonToProtobuf('traces', tracesJson) : c.body,
    ).items;
    const perSec = measure(c.fn, timing);
    const row = {
      case: c.case,
      requestBytes: c.body.length,
      itemsPerRequest: items,
      requestsPerSec: round(perSec),
      itemsPerSec: round(perSec * items),
      MBPerSec: round((perSec * c.body.length) / 1e6, 1),
    };
    results.cases[c.case] = row;
    table.push(row);
  }

  // What loading src/otlp costs a cold process (index.ts is what the extension's init path loads;
  // decode.ts is protobufjs, for the CLI and tests), median of child runs.
  const walkOnlyFile = await bundle('src/otlp/wire/walk.ts', 'walk.cjs', 'cjs', false);
  const indexCjs = await bundle('src/otlp/index.ts', 'index.cjs', 'cjs', false);
  const decodeCjs = await bundle('src/otlp/decode.ts', 'decode.cjs', 'cjs', false);
  const times = quick ? 3 : 9;
  results.load = {
    walkerOnlyMs: round(loadMs(walkOnlyFile, times), 2),
    indexMs: round(loadMs(indexCjs, times), 2),
    indexPlusFirstJsonConversionMs: round(
      loadMs(indexCjs, times, `m.__probe=()=>m.otlpJsonToProtobuf("traces",'{"resourceSpans":[{}]}');`),
      2,
    ),
    decodeWithProtobufjsMs: round(
      loadMs(decodeCjs, times, 'm.__probe=()=>m.decodeExportRequest("traces",new Uint8Array(0));'),
      2,
    ),
  };
  for (const [k, v] of Object.entries(results.load)) table.push({ case: `load: ${k}`, ms: v });
  return { results, table };
}

function pick(summary) {
  return { resources: summary.resources, items: summary.items };
}

export async function run() {
  const { results, table } = await runIngestBench({ quick: process.argv.includes('--quick') });
  return { name: 'ingest', results, table };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { results, table } = await runIngestBench({ quick: process.argv.includes('--quick') });
  if (process.argv.includes('--json'))
    console.log(JSON.stringify({ name: 'ingest', node: process.version, ...results }, null, 2));
  else console.table(table);
}
