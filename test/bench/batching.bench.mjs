// Collector requests per 1,000 invocations per flush strategy: how much the relay batches across
// invocations (one span per invocation, done signal on, invocations back to back).
import { STRATEGIES, startBenchCollector, withRelayEnvironment } from './postruntime.bench.mjs';

const INVOCATIONS = Number(process.env.BENCH_BATCHING_INVOCATIONS ?? 300);

export async function run() {
  const collector = await startBenchCollector();
  const results = { invocations: INVOCATIONS, strategies: {} };
  const table = [];
  try {
    for (const flush of STRATEGIES) {
      const before = (await collector.received()).traces.length;
      const started = performance.now();
      await withRelayEnvironment(
        collector,
        { flush, env: { OTEL_RELAY_SELF_TELEMETRY: 'false' } },
        async (lambda) => {
          for (let i = 0; i < INVOCATIONS; i++) await lambda.invoke({ tag: `batch-${flush}-${i}`, spans: 1 });
        },
      );
      const wallMs = performance.now() - started;
      const after = await collector.waitFor((r) => r.traces.length > before, 10_000);
      const requests = after.traces.length - before;
      results.strategies[flush] = {
        traceRequests: requests,
        perThousandInvocations: Math.round((requests / INVOCATIONS) * 1000),
        invocationsPerSecond: Math.round((INVOCATIONS / wallMs) * 1000),
      };
      table.push({ strategy: flush, ...results.strategies[flush] });
    }
  } finally {
    await collector.stop();
  }
  return { name: 'batching', results, table };
}
