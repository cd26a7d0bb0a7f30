// The pushgateway destination against the real Pushgateway: groups keyed by job (service) and
// instance (environment), delta counters made cumulative, and the group deleted at SHUTDOWN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDestination } from '../../../src/extension/destinations/pushgateway/index.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { type PushgatewayPeer, startPushgateway } from '../../helpers/pushgateway.js';
import { budget, clock, memoryLog, metricsRequest } from './fixtures.js';

describe('pushgateway destination with the real Pushgateway', () => {
  let pgw: PushgatewayPeer;
  beforeAll(async () => {
    pgw = await startPushgateway();
  }, 120_000);
  afterAll(async () => {
    await pgw?.stop();
  });
  printLogsOnFailure('pushgateway', () => pgw);

  it('pushes the latest cumulative values under job/instance and deletes the group at shutdown', async () => {
    // Prepare
    const dest = createDestination({
      env: { OTEL_RELAY_PUSHGATEWAY_ENDPOINT: pgw.url, OTEL_RELAY_PUSHGATEWAY_DELETE_ON_SHUTDOWN: 'true' },
      clock,
      log: memoryLog(),
    });
    const now = Date.now();
    // Act
    const first = await dest.export(
      'metrics',
      metricsRequest('pgw-fn', { delta: 3, timeMs: now - 2000, instance: 'env-1' }).body,
      budget(),
    );
    const second = await dest.export(
      'metrics',
      metricsRequest('pgw-fn', { delta: 4, timeMs: now - 1000, instance: 'env-1' }).body,
      budget(),
    );
    const text = await pgw.metrics();
    const groups = await pgw.groups();
    await dest.shutdown(budget());
    const after = await pgw.groups();
    // Assess
    expect([first, second]).toEqual([{ kind: 'success' }, { kind: 'success' }]);
    expect(text).toContain('requests_total{http_route="/a",instance="env-1",job="pgw-fn"} 7');
    expect(text).toContain('queue_depth{instance="env-1",job="pgw-fn"} 7.5');
    expect(text).toContain('latency_bucket{instance="env-1",job="pgw-fn",le="10"} 2');
    expect(text).toContain('latency_bucket{instance="env-1",job="pgw-fn",le="+Inf"} 4');
    expect(text).toContain('latency_count{instance="env-1",job="pgw-fn"} 4');
    expect(groups.map((g) => g.labels)).toContainEqual({ job: 'pgw-fn', instance: 'env-1' });
    expect(after.map((g) => g.labels)).not.toContainEqual({ job: 'pgw-fn', instance: 'env-1' });
  });
});
