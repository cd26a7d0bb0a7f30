// `lambda-otel-relay demo`: the quick start. Runs the example orders API (examples/orders-api, built to
// dist/examples) with the built layer in the local emulator, sends its telemetry to an embedded
// collector, and shows what arrived: one table row per invocation, then the batches, spans, metrics and
// logs the collector received, and a link to the run's timeline (an SVG in the temp directory).
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runLocal } from '../../local/index.js';
import { startOtlpSink } from '../demo/sink.js';
import { summarize, traceTree } from '../demo/summary.js';
import { validateFlush } from '../lambda/settings.js';
import { renderTimeline, TimelineRecorder } from '../timeline/index.js';
import { UsageError } from '../usage.js';

const USAGE = `usage: lambda-otel-relay demo [options]

  --count <n>          invocations (default 12)
  --interval-ms <ms>   pause between invocations; the environment is frozen meanwhile (default 150)
  --flush <strategy>   OTEL_RELAY_FLUSH for the extension: adaptive (default), end, periodic:<ms>, continuous
                       (checked with the extension's own parser)
  --json               JSON lines: one per invocation, the shutdown, then what the collector received`;

/** dist/ holds the CLI bundle, the layer and the example; from src (tests) it is <repo>/dist. */
function distDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return existsSync(`${here}layer`) ? here : fileURLToPath(new URL('../../../dist/', import.meta.url));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function orderEvent(): unknown {
  return {
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'user-agent': 'lambda-otel-relay-demo' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'demo',
      domainName: 'demo.execute-api.us-east-1.amazonaws.com',
      http: {
        method: 'POST',
        path: '/orders',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'demo',
      },
      requestId: 'demo',
      routeKey: 'POST /orders',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: JSON.stringify({ items: ['A-1', 'B-2'] }),
    isBase64Encoded: false,
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string', default: '12' },
      'interval-ms': { type: 'string', default: '150' },
      flush: { type: 'string', default: 'adaptive' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  // The extension would log a bad strategy and run adaptive, while the demo claimed the bad one.
  validateFlush(values.flush);
  const count = Number(values.count);
  const intervalMs = Number(values['interval-ms']);
  if (!Number.isInteger(count) || count < 1)
    throw new UsageError(`--count must be a positive integer\n\n${USAGE}`);
  if (!Number.isInteger(intervalMs) || intervalMs < 0)
    throw new UsageError(`--interval-ms must be a non-negative integer\n\n${USAGE}`);

  const dist = distDir();
  const layer = `${dist}layer`;
  const code = `${dist}examples/orders-api`;
  for (const [what, path] of [
    ['the layer', `${layer}/extensions/otel-relay`],
    ['the example function', `${code}/index.mjs`],
  ] as const) {
    if (!existsSync(path))
      throw new Error(`${what} is not built (${path} is missing): run \`npm run build:layer\` first`);
  }

  const sink = await startOtlpSink();
  const write = (text: string): void => void process.stdout.write(text);
  try {
    if (!values.json) {
      write(
        `orders-api in the local Lambda emulator with the otel-relay layer (OTEL_RELAY_FLUSH=${values.flush}); ` +
          `${count} invocations ${intervalMs} ms apart, frozen in between; collector: embedded, ${sink.url}\n\n`,
      );
    }
    // The run drawn on one time axis, linked from the summary.
    const recorder = new TimelineRecorder();
    const timeline = join(tmpdir(), `otel-relay-demo-${process.pid}.svg`);
    const exitCode = await runLocal(
      {
        onOutput: recorder.onOutput,
        onInvocation: recorder.onInvocation,
        codeDir: code,
        handler: 'index.handler',
        layers: [layer],
        functionName: 'orders-api',
        timeoutMs: 6000,
        memoryMb: 256,
        count,
        intervalMs,
        event: orderEvent(),
        json: values.json,
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
          OTEL_RELAY_FLUSH: values.flush,
          // Free ports, so the demo runs beside a collector already listening on 4317/4318.
          OTEL_RELAY_HTTP_PORT: String(await freePort()),
          OTEL_RELAY_GRPC_PORT: String(await freePort()),
        },
      },
      // Function and extension output would drown the table; DEBUG=1 shows it.
      { stdout: write, stderr: (t) => void (process.env.DEBUG ? process.stderr.write(t) : undefined) },
    );
    const summary = summarize(sink.requests);
    writeFileSync(
      timeline,
      renderTimeline(recorder.model(), `lambda-otel-relay demo (OTEL_RELAY_FLUSH=${values.flush})`),
    );
    if (values.json) {
      write(`${JSON.stringify({ type: 'collector', ...summary, rejected: sink.rejected, timeline })}\n`);
    } else {
      const r = summary.requests;
      const names = Object.entries(summary.spanNames)
        .map(([n, c]) => `${n} ×${c}`)
        .join(', ');
      write(
        [
          '',
          `What the collector received (${r.traces + r.metrics + r.logs} export requests for ${count} invocations: traces ${r.traces}, metrics ${r.metrics}, logs ${r.logs}):`,
          `  spans        ${summary.spans} in ${summary.traces} traces: ${names || 'none'}`,
          `  metrics      ${summary.dataPoints} data points: ${summary.metricNames.join(', ') || 'none'}`,
          `  log records  ${summary.logRecords}`,
          ...(sink.rejected.length ? [`  unreadable requests: ${sink.rejected.join('; ')}`] : []),
          '',
          'The last trace:',
          ...traceTree(sink.requests),
          '',
          `Timeline (phases, freezes, flushes, exports, spills): ${pathToFileURL(timeline).href}`,
          '',
        ].join('\n'),
      );
    }
    return exitCode;
  } finally {
    await sink.close();
  }
}
