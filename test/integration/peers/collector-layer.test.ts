// The OpenTelemetry Lambda collector layer, built unmodified from its upstream source, runs in the local
// emulator and exports to the real test collector: the check that the emulator runs a third-party
// extension the way Lambda does (it registers, subscribes to the Telemetry API on sandbox.localdomain,
// follows INVOKE and SHUTDOWN). Skipped, with the reason, only when the source setting is absent.
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../../src/local/index.js';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import {
  type CollectorLayer,
  type CollectorLayerPipeline,
  collectorLayerSkipReason,
  prepareCollectorLayer,
} from '../../helpers/collector-layer.js';

const root = resolve(import.meta.dirname, '../../..');
const skipReason = collectorLayerSkipReason();

describe.skipIf(skipReason !== undefined)(
  `the OpenTelemetry Lambda collector layer in the emulator${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let collector: CollectorPeer;
    beforeAll(async () => {
      collector = await startCollector();
    });
    afterAll(async () => {
      await collector?.stop();
    });

    it.each<CollectorLayerPipeline>(['default', 'batch'])(
      'runs unmodified with the %s pipeline: Init succeeds, every span reaches the collector, SHUTDOWN ends it cleanly',
      async (pipeline) => {
        const functionName = `collector-layer-${pipeline}`;
        let layer: CollectorLayer | undefined;
        let env: LambdaEnvironment | undefined;
        try {
          layer = await prepareCollectorLayer({ exportTo: collector.httpEndpoint, pipeline });
          env = await LambdaEnvironment.start({
            codeDir: join(root, 'test/fixtures/peers/function'),
            handler: 'index.handler',
            layers: layer.layers,
            functionName,
            timeoutMs: 10_000,
            env: { ...layer.env, BENCH_OTLP_ENDPOINT: layer.endpoint },
          });

          // Act: three invocations, then the end of the environment.
          const sent: string[] = [];
          for (let i = 0; i < 3; i++) {
            const r = await env.invoke({ spans: 4, ids: true });
            expect(r.status, `${r.errorType ?? ''}\n${env.output()}`).toBe('success');
            sent.push(...(r.response as { spanIds: string[] }).spanIds);
          }
          const shutdown = await env.shutdown();

          // Assess: the layer registered as `collector` and exited on SHUTDOWN (not killed, not crashed).
          expect(shutdown.extensions, env.output()).toEqual([
            expect.objectContaining({ name: 'collector', state: 'Exited' }),
          ]);
          // It subscribed to the Telemetry API at an address on sandbox.localdomain, as in Lambda.
          expect(env.output()).toMatch(/Listening for requests.*"address":\s*"sandbox\.localdomain:\d+"/);
          // Every span of this function arrived exactly once.
          const received = await collector.waitFor(
            (r) => r.spans().filter((s) => s.resource['service.name'] === functionName).length >= sent.length,
            15_000,
          );
          const ids = received
            .spans()
            .filter((s) => s.resource['service.name'] === functionName)
            .map((s) => s.spanId);
          expect(ids.sort()).toEqual([...sent].sort());
        } finally {
          await env?.shutdown().catch(() => {});
          await env?.dispose();
          layer?.dispose();
        }
      },
    );
  },
);
