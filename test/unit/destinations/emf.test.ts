// The emf encoder against the CloudWatch Embedded Metric Format specification, checked by a schema
// check written here from the specification's rules (not from the encoder).
import { describe, expect, it } from 'vitest';
import { createDestination } from '../../../src/extension/destinations/emf/index.js';
import { otlpJsonToProtobuf } from '../../../src/otlp/index.js';
import { budget, clock, memoryLog, metricsRequest } from '../../integration/destinations/fixtures.js';

const UNITS = new Set(
  'Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second Terabits/Second Count/Second None'.split(
    ' ',
  ),
);

/** The specification's rules for one EMF log event; returns every violation found. */
function emfViolations(o: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const aws = o._aws as Record<string, unknown> | undefined;
  if (!aws || typeof aws !== 'object') return ['_aws missing'];
  if (!Number.isInteger(aws.Timestamp) || (aws.Timestamp as number) < 0)
    bad.push('Timestamp not a non-negative integer');
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) return [...bad, 'CloudWatchMetrics empty'];
  for (const d of directives as Array<Record<string, unknown>>) {
    if (typeof d.Namespace !== 'string' || d.Namespace.length < 1 || d.Namespace.length > 255)
      bad.push('Namespace');
    if (!Array.isArray(d.Dimensions)) bad.push('Dimensions not an array');
    for (const set of (d.Dimensions ?? []) as unknown[]) {
      if (!Array.isArray(set)) bad.push('DimensionSet not an array');
      else {
        if (set.length > 30) bad.push(`DimensionSet of ${set.length} > 30`);
        for (const k of set)
          if (typeof o[k as string] !== 'string') bad.push(`dimension ${k} has no string member`);
      }
    }
    const metrics = d.Metrics as Array<Record<string, unknown>>;
    if (!Array.isArray(metrics)) bad.push('Metrics not an array');
    else {
      if (metrics.length > 100) bad.push(`${metrics.length} metrics > 100`);
      for (const m of metrics) {
        const name = m.Name as string;
        if (typeof name !== 'string' || name.length < 1 || name.length > 255) bad.push('metric Name');
        if (m.Unit !== undefined && !UNITS.has(m.Unit as string)) bad.push(`Unit ${m.Unit}`);
        if (m.StorageResolution !== undefined && m.StorageResolution !== 1 && m.StorageResolution !== 60)
          bad.push('StorageResolution');
        const v = o[name];
        const values = Array.isArray(v) ? v : [v];
        if (values.length > 100) bad.push(`${name} has ${values.length} values > 100`);
        if (!values.every((x) => typeof x === 'number' && Number.isFinite(x)))
          bad.push(`${name} value not a number`);
      }
    }
  }
  return bad;
}

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
