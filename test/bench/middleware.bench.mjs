#!/usr/bin/env node
// Function-side benchmark (contract: test/bench/run.mjs). Two questions:
//  1. Per-invocation overhead: the same handler (10 spans per invocation) with and without the
//     middleware, in a child process, against a loopback receiver in another process standing in for
//     the extension (answers OTLP 200 and "done" 204). Overhead includes the local flush and hand-off,
//     i.e. everything between the handler returning and the runtime getting the response.
//  2. Cold-start cost: time to ready of a fresh Node process running an esbuild bundle of the middleware
//     (alone, and with setupOtelRelay), beside @opentelemetry/instrumentation-aws-lambda with the SDK.
// Run: `node test/bench/middleware.bench.mjs` (table) or `npm run bench -- --only=middleware`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const INVOCATIONS = Number(process.env.BENCH_INVOCATIONS ?? 1000);
const WARMUP = 100;
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const SPANS_PER_INVOCATION = 10;

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: round(quantile(s, 0.5)), p99: round(quantile(s, 0.99)), max: round(s.at(-1)) };
}

// ---- 1. per-invocation overhead (runs in a child: `--overhead-child <receiverPort>`) -------------

const RECEIVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url.startsWith('/relay/')) res.writeHead(204).end();
    else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
server.keepAliveTimeout = 600000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function overheadChild(port) {
  process.env.OTEL_RELAY_HTTP_PORT = String(port);
  const mw = await import(pathToFileURL(join(root, 'dist/middleware/index.mjs')).href);
  const { default: middy } = await import('@middy/core');
  const { trace } = await import('@opentelemetry/api');
  await mw.setupOtelRelay();
  const tracer = trace.getTracer('bench');

  const work = async () => {
    for (let i = 0; i < SPANS_PER_INVOCATION; i++) {
      tracer.startActiveSpan(`step-${i}`, (span) => {
        span.setAttribute('step', i);
        span.end();
      });
    }
    return { statusCode: 200, body: 'ok' };
  };
  const event = {
    version: '2.0',
    routeKey: 'GET /orders/{id}',
    rawPath: '/orders/42',
    rawQueryString: '',
    headers: {
      host: 'x.execute-api.eu-west-1.amazonaws.com',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
    requestContext: {
      domainName: 'x.execute-api.eu-west-1.amazonaws.com',
      http: { method: 'GET', path: '/orders/42', sourceIp: '192.0.2.1' },
    },
  };
  let n = 0;
  const context = () => {
    const deadline = Date.now() + 30_000;
    return {
      awsRequestId: `bench-${n++}`,
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bench',
      functionName: 'bench',
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
  };

  const before = { handoff: 'before-response' };
  const scenarios = {
    'plain handler (SDK, no middleware)': work,
    'middy, no otelRelay': middy(work),
    'middy + otelRelay() (hand-off after response, default)': middy(work).use(mw.otelRelay()),
    'wrapHandler() (hand-off after response, default)': mw.wrapHandler(work),
    'middy + otelRelay({ handoff: before-response })': middy(work).use(mw.otelRelay(before)),
    'wrapHandler({ handoff: before-response })': mw.wrapHandler(work, before),
    'before-response, local flush only': middy(work).use(mw.otelRelay({ ...before, signalDone: false })),
    'before-response, hand-off only': middy(work).use(mw.otelRelay({ ...before, flush: [] })),
    'spans only (no flush, no hand-off)': middy(work).use(mw.otelRelay({ signalDone: false, flush: [] })),
  };

  const out = {};
  for (const [name, handler] of Object.entries(scenarios)) {
    for (let i = 0; i < WARMUP; i++) await handler(event, context());
    const samples = [];
    for (let i = 0; i < INVOCATIONS; i++) {
      const ctx = context();
      const t0 = performance.now();
      await handler(event, ctx);
      samples.push(performance.now() - t0);
      // Invocations are sequential in Lambda; let a hand-off left running after the response finish,
      // outside the measured time, as it would before the next invocation.
      await new Promise((r) => setTimeout(r, 2));
    }
    // Export what the no-flush scenarios buffered, so it does not land in the next scenario's samples.
    await (await mw.setupOtelRelay()).forceFlush();
    out[name] = summary(samples);
  }
  process.stdout.write(`\nBENCH-RESULT ${JSON.stringify(out)}\n`);
}

/** The stand-in extension: a separate process answering OTLP 200 and "done" 204 on a loopback port. */
async function startReceiver() {
  const receiver = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((res, rej) => {
    receiver.stdout.once('data', (d) => res(Number(String(d).trim())));
    receiver.once('exit', (c) => rej(new Error(`receiver exited with ${c}`)));
  });
  return { port, stop: () => receiver.kill() };
}

async function measureOverhead(port) {
  {
    const json = execFileSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--overhead-child', String(port)],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 300_000,
        maxBuffer: 1 << 20,
      },
    );
    // The middleware logs JSON lines on stdout too; the result is the marked line.
    const line = json.split('\n').find((l) => l.startsWith('BENCH-RESULT '));
    for (const l of json.split('\n'))
      if (l && !l.startsWith('BENCH-RESULT ')) process.stderr.write(`child: ${l}\n`);
    return JSON.parse(line.slice('BENCH-RESULT '.length));
  }
}

// ---- 2. cold start -------------------------------------------------------------------------------

const COLD_ENTRIES = {
  'node, empty bundle (floor)': '',
  // The SDK packages left out of the bundle: what the middleware itself costs to load.
  'otelRelay() imported, SDK not bundled': `
    import { otelRelay } from ${JSON.stringify(join(root, 'dist/middleware/index.mjs'))};
    otelRelay({ autoSetup: false });`,
  // esbuild bundles the dynamically imported SDK too; it is parsed, not run.
  'otelRelay() imported, SDK bundled but not set up': `
    import { otelRelay } from ${JSON.stringify(join(root, 'dist/middleware/index.mjs'))};
    otelRelay({ autoSetup: false });`,
  'otelRelay() + setupOtelRelay() (traces, metrics, logs)': `
    import { otelRelay, setupOtelRelay } from ${JSON.stringify(join(root, 'dist/middleware/index.mjs'))};
    await setupOtelRelay();
    otelRelay();`,
  'otelRelay() + setupOtelRelay() (traces only)': `
    import { otelRelay, setupOtelRelay } from ${JSON.stringify(join(root, 'dist/middleware/index.mjs'))};
    await setupOtelRelay({ signals: { traces: true, metrics: false, logs: false } });
    otelRelay();`,
  // Cold start as the first caller sees it: init, then one invocation (10 spans) until its telemetry is
  // in the extension (before-response, so the first export's lazy initialisation is inside).
  'otelRelay() + setupOtelRelay() + first invocation handed off': `
    import { trace } from '@opentelemetry/api';
    import { setupOtelRelay, wrapHandler } from ${JSON.stringify(join(root, 'dist/middleware/index.mjs'))};
    await setupOtelRelay();
    const handler = wrapHandler(async () => {
      for (let i = 0; i < 10; i++) trace.getTracer('bench').startSpan('step').end();
      return 'ok';
    }, { handoff: 'before-response' });
    await handler({}, { awsRequestId: 'cold-1', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bench', functionName: 'bench' });`,
  'instrumentation-aws-lambda + sdk-trace-node + OTLP proto exporter': `
    import { registerInstrumentations } from '@opentelemetry/instrumentation';
    import { AwsLambdaInstrumentation } from '@opentelemetry/instrumentation-aws-lambda';
    import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
    import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
    import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
    const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
    provider.register();
    registerInstrumentations({ instrumentations: [new AwsLambdaInstrumentation()] });`,
};

async function measureColdStart(port) {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'otel-relay-bench-'));
  try {
    const bundles = {};
    let i = 0;
    for (const [name, code] of Object.entries(COLD_ENTRIES)) {
      const outfile = join(dir, `cold-${i++}.mjs`);
      const result = await build({
        stdin: {
          contents: `${code}\nprocess.stdout.write(String(performance.now()));`,
          resolveDir: root,
          loader: 'js',
        },
        outfile,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        minify: true,
        metafile: true,
        // The bundled CommonJS parts need `require` in an ES module.
        banner: {
          js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        },
        logLevel: 'error',
        external: name.includes('SDK not bundled')
          ? ['@opentelemetry/sdk-*', '@opentelemetry/exporter-*']
          : [],
      });
      const bytes = Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
      bundles[name] = { outfile, bytes };
    }
    // Round-robin over the scenarios, so load from other processes on the machine spreads evenly.
    const samples = Object.fromEntries(Object.keys(bundles).map((name) => [name, { ready: [], wall: [] }]));
    for (let r = 0; r < COLD_RUNS; r++) {
      for (const [name, { outfile }] of Object.entries(bundles)) {
        const t0 = performance.now();
        const text = execFileSync(process.execPath, [outfile], {
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, OTEL_RELAY_HTTP_PORT: String(port) },
        });
        samples[name].wall.push(performance.now() - t0);
        samples[name].ready.push(Number(text));
      }
    }
    const out = {};
    for (const [name, { bytes }] of Object.entries(bundles)) {
      out[name] = {
        bundleKiB: round(bytes / 1024, 1),
        readyMs: summary(samples[name].ready),
        wallMs: summary(samples[name].wall),
      };
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  mkdirSync(join(root, 'dist'), { recursive: true });
  const receiver = await startReceiver();
  let overhead;
  let cold;
  try {
    overhead = await measureOverhead(receiver.port);
    cold = await measureColdStart(receiver.port);
  } finally {
    receiver.stop();
  }
  const base = overhead['plain handler (SDK, no middleware)'];
  const floor = cold['node, empty bundle (floor)'].readyMs.p50;
  const table = [
    ...Object.entries(overhead).map(([name, s]) => ({
      measure: `invocation: ${name}`,
      p50_ms: s.p50,
      p99_ms: s.p99,
      overhead_p50_ms: round(s.p50 - base.p50),
      overhead_p99_ms: round(s.p99 - base.p99),
    })),
    ...Object.entries(cold).map(([name, c]) => ({
      measure: `cold start: ${name}`,
      p50_ms: c.readyMs.p50,
      p99_ms: c.readyMs.p99,
      overhead_p50_ms: round(c.readyMs.p50 - floor),
      bundle_KiB: c.bundleKiB,
    })),
  ];
  return {
    name: 'middleware',
    results: {
      invocations: INVOCATIONS,
      spansPerInvocation: SPANS_PER_INVOCATION,
      overhead,
      coldStartRuns: COLD_RUNS,
      coldStart: cold,
      goal: { overheadP50Ms: 0.5, overheadP99Ms: 2 },
    },
    table,
  };
}

if (process.argv[2] === '--overhead-child') {
  await overheadChild(Number(process.argv[3]));
} else if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = await run();
  if (process.argv.includes('--json')) console.log(JSON.stringify(out.results, null, 2));
  else console.table(out.table);
}
