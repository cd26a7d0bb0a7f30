// The emf encoder against the CloudWatch Embedded Metric Format specification, checked by a schema
// check written from the specification's rules, not from the encoder (test/helpers/emf-schema.ts).
import { describe, expect, it } from 'vitest';
import { createDestination } from '../../../src/extension/destinations/emf/index.js';
import { otlpJsonToProtobuf } from '../../../src/otlp/index.js';
import { emfViolations } from '../../helpers/emf-schema.js';
import { budget, clock, memoryLog, metricsRequest } from '../../integration/destinations/fixtures.js';

function collect(env: Record<string, string> = {}) {
  const lines: string[] = [];
  const dest = createDestination({ env, clock, log: memoryLog() }, (l) => lines.push(l));
  return { dest, lines, objects: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('emf destination', () => {
  it('writes spec-valid objects with units, dimensions and the values of the request', async () => {
    // Prepare
    const { dest, objects } = collect();
    // Act
    const outcome = await dest.export(
      'metrics',
      metricsRequest('emf-fn', { delta: 3, timeMs: 1_700_000_000_000 }).body,
      budget(),
    );
    // Assess
    expect(outcome).toEqual({ kind: 'success' });
    for (const o of objects()) expect(emfViolations(o)).toEqual([]);
    const merged = Object.assign({}, ...objects());
    expect(merged).toMatchObject({
      'queue.depth': 7.5,
      requests: 3,
      'latency.count': 2,
      'latency.sum': 55,
      'service.name': 'emf-fn',
    });
    const withRoute = objects().find((o) => 'requests' in o)!;
    expect(withRoute).toMatchObject({ 'http.route': '/a', _aws: { Timestamp: 1_700_000_000_000 } });
    const defs = objects().flatMap(
      (o) =>
        (
          o._aws as {
            CloudWatchMetrics: Array<{
              Metrics: Array<{ Name: string; Unit?: string }>;
              Namespace: string;
              Dimensions: string[][];
            }>;
          }
        ).CloudWatchMetrics,
    );
    expect(defs[0]!.Namespace).toBe('emf-fn');
    expect(defs.flatMap((d) => d.Metrics)).toContainEqual({
      Name: 'latency.sum',
      Unit: 'Milliseconds',
      StorageResolution: 60,
    });
    expect(defs.find((d) => d.Metrics.some((m) => m.Name === 'requests'))!.Dimensions).toEqual([
      ['http.route', 'service.name'],
    ]);
  });

  it('splits 250 metrics of one dimension set into objects of at most 100, and keeps 30 of 40 attributes as dimensions', async () => {
    // Prepare
    const ts = String(1_700_000_000_000n * 1_000_000n);
    const attrs = Array.from({ length: 40 }, (_, i) => ({
      key: `a${String(i).padStart(2, '0')}`,
      value: { stringValue: `v${i}` },
    }));
    const metrics = Array.from({ length: 250 }, (_, i) => ({
      name: `m${i}`,
      gauge: { dataPoints: [{ timeUnixNano: ts, asDouble: i, attributes: attrs }] },
    }));
    const body = otlpJsonToProtobuf(
      'metrics',
      JSON.stringify({ resourceMetrics: [{ resource: {}, scopeMetrics: [{ metrics }] }] }),
    );
    const { dest, objects } = collect({ OTEL_RELAY_EMF_NAMESPACE: 'Relay/Test' });
    // Act
    await dest.export('metrics', body, budget());
    // Assess
    const all = objects();
    expect(all.map((o) => emfViolations(o))).toEqual(all.map(() => []));
    const counts = all.map(
      (o) =>
        (o._aws as { CloudWatchMetrics: Array<{ Metrics: unknown[] }> }).CloudWatchMetrics[0]!.Metrics.length,
    );
    expect(counts).toEqual([100, 100, 50]);
    const dims = (all[0]!._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> })
      .CloudWatchMetrics[0]!.Dimensions[0]!;
    expect(dims).toHaveLength(30);
    // The attributes that are not dimensions are still on the object, as properties.
    expect(all[0]).toMatchObject({ a39: 'v39', a00: 'v0' });
    const seen = all.flatMap((o) => Object.keys(o).filter((k) => /^m\d+$/.test(k)));
    expect(new Set(seen).size).toBe(250);
  });

  it('writes cumulative counters as the change since the previous point of the series', async () => {
    // Prepare
    const point = (v: number, t: number) =>
      otlpJsonToProtobuf(
        'metrics',
        JSON.stringify({
          resourceMetrics: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cum' } }] },
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 'hits',
                      sum: {
                        aggregationTemporality: 2,
                        isMonotonic: true,
                        dataPoints: [{ timeUnixNano: String(BigInt(t) * 1_000_000n), asInt: String(v) }],
                      },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      );
    const { dest, objects } = collect();
    // Act
    for (const [v, t] of [
      [5, 1000],
      [9, 2000],
      [2, 3000],
    ] as const)
      await dest.export('metrics', point(v, t), budget());
    // Assess: 5, then +4, then a reset to 2.
    expect(objects().map((o) => o.hits)).toEqual([5, 4, 2]);
  });
});
