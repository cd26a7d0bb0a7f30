// The prometheusremotewrite destination against a real Prometheus (remote write receiver on): the
// snappy-compressed WriteRequest is accepted, and the series read back with PromQL carry the delta
// counters made cumulative, the histogram buckets, job and instance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDestination } from '../../../src/extension/destinations/prometheusremotewrite/index.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { type PrometheusPeer, startPrometheus } from '../../helpers/prometheus.js';
import { budget, clock, memoryLog, metricsRequest } from './fixtures.js';

describe('prometheusremotewrite destination with a real Prometheus', () => {
  let prom: PrometheusPeer;
  beforeAll(async () => {
    prom = await startPrometheus();
  }, 600_000);
  afterAll(async () => {
    await prom?.stop();
  });
  printLogsOnFailure('prometheus', () => prom);

  it('writes series Prometheus answers in PromQL, delta counters made cumulative per series', async () => {
    // Prepare
    const dest = createDestination({
      env: { OTEL_RELAY_PROMETHEUS_RW_ENDPOINT: prom.writeEndpoint },
      clock,
      log: memoryLog(),
    });
    const t = Date.now() - 10_000;
    // Act
    const outcomes = [];
    for (const [i, delta] of [3, 4, 5].entries())
      outcomes.push(
        await dest.export(
          'metrics',
          metricsRequest('rw-fn', { delta, timeMs: t + i * 1000, instance: 'env-a' }).body,
          budget(),
        ),
      );
    const at = (t + 2500) / 1000;
    const counter = await prom.query('requests_total{job="rw-fn",instance="env-a"}', at);
    const gauge = await prom.query('queue_depth{job="rw-fn"}', at);
    const buckets = await prom.query('latency_bucket{job="rw-fn"}', at);
    const count = await prom.query('latency_count{job="rw-fn"}', at);
    // Assess
    expect(outcomes).toEqual([{ kind: 'success' }, { kind: 'success' }, { kind: 'success' }]);
    expect(counter).toEqual([
      {
        metric: { __name__: 'requests_total', job: 'rw-fn', instance: 'env-a', http_route: '/a' },
        value: [at, '12'],
      },
    ]);
    expect(gauge.map((s) => s.value[1])).toEqual(['7.5']);
    expect(Object.fromEntries(buckets.map((s) => [s.metric.le, s.value[1]]))).toEqual({
      '10': '3',
      '100': '6',
      '+Inf': '6',
    });
    expect(count.map((s) => s.value[1])).toEqual(['6']);
  });

  it('does not add a retried batch twice: the totals move only when Prometheus took the write', async () => {
    // Prepare: the first write of the second batch is refused (a wrong path), then retried.
    const env = { OTEL_RELAY_PROMETHEUS_RW_ENDPOINT: prom.writeEndpoint };
    const dest = createDestination({ env, clock, log: memoryLog() });
    const t = Date.now() - 5_000;
    const b1 = metricsRequest('retry-fn', { delta: 10, timeMs: t, instance: 'env-r' }).body;
    const b2 = metricsRequest('retry-fn', { delta: 1, timeMs: t + 1000, instance: 'env-r' }).body;
    // Act
    await dest.export('metrics', b1, budget());
    const refused = await dest.export('metrics', b2, { ...budget(), deadline: Date.now() - 1 });
    const retried = await dest.export('metrics', b2, budget());
    const counter = await prom.query('requests_total{job="retry-fn"}', (t + 1500) / 1000);
    // Assess
    expect(refused.kind).toBe('retryable');
    expect(retried).toEqual({ kind: 'success' });
    expect(counter.map((s) => s.value[1])).toEqual(['11']);
  });
});
