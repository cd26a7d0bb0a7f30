// Post-runtime time per invocation (what the user is billed for after the handler returns), p50/p99
// per flush strategy, with and without the middleware's "done" signal, measured by the local emulator
// (PostRuntimeExtensionsDuration) running the built layer against the real OpenTelemetry Collector.
// Exports `withRelayEnvironment` for batching.bench.mjs.
import { join } from 'node:path';
import { benchCostModel, loadHelpers as load, root, runtimeBootstrap } from './harness.mjs';

export const STRATEGIES = ['end', 'periodic:1000', 'continuous', 'adaptive'];
const INVOCATIONS = Number(process.env.BENCH_POSTRUNTIME_INVOCATIONS ?? 150);

/** Runs `fn(env)` in an emulated environment with the built layer, exporting to `collector`. */
export async function withRelayEnvironment(collector, { flush, done = true, env = {} }, fn) {
  const { LambdaEnvironment, freePort } = await load();
  const lambda = await LambdaEnvironment.start({
    codeDir: join(root, 'test/fixtures/extension/function'),
    handler: 'index.handler',
    layers: [join(root, 'dist/layer')],
    timeoutMs: 10_000,
    functionName: 'relay-bench',
    runtimeBootstrap,
    costModel: benchCostModel,
    env: {
      OTEL_RELAY_HTTP_PORT: String(await freePort()),
      OTEL_RELAY_GRPC_PORT: String(await freePort()),
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint,
      OTEL_RELAY_FLUSH: flush,
      // debug: one line per invocation saying whether it flushed (to split the distribution).
      OTEL_RELAY_LOG_LEVEL: 'debug',
      FIXTURE_DONE: done ? '1' : '0',
      ...env,
    },
  });
  try {
    return await fn(lambda);
  } finally {
    await lambda.shutdown().catch(() => {});
    await lambda.dispose();
  }
}

export async function startBenchCollector() {
  const { startCollector } = await load();
  return startCollector();
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length
    ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 100) / 100
    : null;
};

/** requestId → whether the relay flushed before `next`, from its debug lines. */
function flushedByRequest(output) {
  const m = new Map();
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"invocation"')) continue;
    try {
      const rec = JSON.parse(line.slice(line.indexOf('{')));
      m.set(rec.requestId, rec.flush === true);
    } catch {
      // not one of ours
    }
  }
  return m;
}

export async function run() {
  const collector = await startBenchCollector();
  const results = { invocations: INVOCATIONS, strategies: {} };
  const table = [];
  try {
    for (const flush of STRATEGIES) {
      for (const done of [true, false]) {
        const { all, quiet } = await withRelayEnvironment(collector, { flush, done }, async (lambda) => {
          const rows = [];
          // The first invocation includes cold-start effects; it is not part of the distribution.
          await lambda.invoke({ tag: 'warmup', spans: 1 });
          for (let i = 0; i < INVOCATIONS; i++) {
            const r = await lambda.invoke({ tag: `b${i}`, spans: 1 });
            rows.push([r.requestId, r.postRuntimeMs]);
          }
          const flushed = flushedByRequest(lambda.output());
          return {
            all: rows.map(([, ms]) => ms),
            // Invocations after which the relay said it did not flush (the goal: ~0 ms added); an
            // invocation whose line is missing from the captured output counts in neither group.
            quiet: rows.filter(([id]) => flushed.get(id) === false).map(([, ms]) => ms),
          };
        });
        const key = `${flush}${done ? '+done' : ''}`;
        results.strategies[key] = {
          p50: pct(all, 50),
          p90: pct(all, 90),
          p99: pct(all, 99),
          max: pct(all, 100),
          nonFlushing: { count: quiet.length, p50: pct(quiet, 50), p99: pct(quiet, 99) },
        };
        const r = results.strategies[key];
        table.push({
          strategy: flush,
          doneSignal: done,
          p50: r.p50,
          p90: r.p90,
          p99: r.p99,
          max: r.max,
          nonFlushingN: quiet.length,
          nonFlushingP50: r.nonFlushing.p50,
          nonFlushingP99: r.nonFlushing.p99,
        });
      }
    }
  } finally {
    await collector.stop();
  }
  return { name: 'postruntime', results, table };
}
