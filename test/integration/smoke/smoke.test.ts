import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../../src/local/index.js';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { NODE_MAJORS, nodeBinary } from '../../helpers/node-versions.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { freePort } from '../../helpers/ports.js';

// End to end, with nothing mocked: a function in the local emulator makes a span with the OTel JS SDK,
// exports it to a tiny fixture extension, which forwards it to the real collector; the test reads the
// span back from the collector by its id. If this fails, start here: every other integration test
// stands on these parts.
const fixtures = resolve(import.meta.dirname, '../../fixtures/smoke');

describe('smoke: function -> extension -> collector', () => {
  let collector: CollectorPeer;
  let env: LambdaEnvironment | undefined;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector?.stop();
  });
  // The reference is kept after dispose so that a failed test can still print the environment's output.
  afterEach(async () => {
    await env?.dispose();
  });
  printLogsOnFailure('otelcol', () => collector);
  printLogsOnFailure('emulator', () => (env ? { logs: () => env?.output() ?? '' } : undefined));

  beforeEach(() => {
    env = undefined;
  });

  for (const major of NODE_MAJORS) {
    it(`delivers a span from the function to the collector on Node.js ${major}`, async () => {
      // Prepare
      const relayPort = await freePort();
      env = await LambdaEnvironment.start({
        codeDir: resolve(fixtures, 'function'),
        handler: 'index.handler',
        layers: [resolve(fixtures, 'layer')],
        functionName: `smoke-node${major}`,
        timeoutMs: 10_000,
        nodePath: await nodeBinary(major),
        env: { SMOKE_RELAY_PORT: String(relayPort), SMOKE_COLLECTOR_ENDPOINT: collector.httpEndpoint },
      });

      // Act
      const result = await env.invoke({ spanName: `smoke-${major}` });
      const shutdown = await env.shutdown();

      // Assess
      expect(result.status).toBe('success');
      const { spanId, traceId, node } = result.response as { spanId: string; traceId: string; node: string };
      expect(node.startsWith(`v${major}.`)).toBe(true);
      const r = await collector.waitFor((x) => x.spans().some((s) => s.spanId === spanId), 15_000);
      const span = r.spans().find((s) => s.spanId === spanId);
      expect(span).toMatchObject({ traceId, name: `smoke-${major}` });
      expect(span?.resource['service.name']).toBe(`smoke-node${major}`);
      expect(span?.attributes['faas.invocation_id']).toBe(result.requestId);
      expect(shutdown.extensions).toEqual([
        expect.objectContaining({ name: 'smoke-relay', state: 'Exited', exitCode: 0 }),
      ]);
    });
  }
});
