// The example function exactly as serverless.yml ships it (bundled by the local plugin) runs with the
// built layer in the local Lambda emulator, and its spans reach the real OpenTelemetry Collector.
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../../src/local/index.js';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { freePort } from '../../helpers/ports.js';

const require = createRequire(import.meta.url);
const { bundleExampleHandler } = require('../../../infra/serverless/bundle-plugin.cjs') as {
  bundleExampleHandler(root: string, outdir: string): Promise<void>;
};

let collector: CollectorPeer;
let env: LambdaEnvironment | undefined;
let codeDir: string;

beforeAll(async () => {
  codeDir = mkdtempSync(join(tmpdir(), 'example-fn-'));
  const [started] = await Promise.all([startCollector(), bundleExampleHandler(process.cwd(), codeDir)]);
  collector = started;
});

afterAll(async () => {
  await env?.dispose();
  await collector?.stop();
});

printLogsOnFailure('otelcol', () => collector);
printLogsOnFailure('emulator', () => (env ? { logs: () => env?.output() ?? '' } : undefined));

describe('the example function with the relay layer', () => {
  it('answers every invocation and delivers each handler span under its invocation span', async () => {
    // Prepare
    env = await LambdaEnvironment.start({
      codeDir,
      handler: 'handler.handler',
      layers: ['dist/layer'],
      timeoutMs: 10_000,
      memoryMb: 256,
      functionName: 'orders-api',
      env: {
        OTEL_RELAY_HTTP_PORT: String(await freePort()),
        OTEL_RELAY_GRPC_PORT: String(await freePort()),
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint,
        OTEL_RELAY_FLUSH: 'end',
      },
    });
    const ids = ['order-1', 'order-2', 'order-3'].map((id) => `${id}-${Date.now()}`);

    // Act
    const results = [];
    for (const id of ids) results.push(await env.invoke({ pathParameters: { id }, requestContext: {} }));
    await env.shutdown();

    // Assess
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe('success');
      expect(r.response).toMatchObject({ statusCode: 200, body: JSON.stringify({ id: ids[i] }) });
    }
    const received = await collector.waitFor(
      (got) =>
        ids.every((id) =>
          got.spans().some((s) => s.name === 'load order' && s.attributes['order.id'] === id),
        ),
      30_000,
    );
    const spans = received.spans();
    for (const id of ids) {
      const child = spans.find((s) => s.name === 'load order' && s.attributes['order.id'] === id)!;
      const parent = spans.find((s) => s.spanId === child.parentSpanId);
      expect(parent, `the invocation span of ${id}`).toBeDefined();
      expect(parent!.traceId).toBe(child.traceId);
      expect(parent!.raw.kind).toBe(2); // SPAN_KIND_SERVER
      expect(parent!.resource['faas.name']).toBe('orders-api');
    }
  });
});
