import { describe, expect, it } from 'vitest';
import { breakerReadings, encodeSelfMetrics } from '../../../src/extension/telemetry/self.js';
import { RelayStats } from '../../../src/extension/telemetry/stats.js';
import { decodeExportRequest, validateExportRequest } from '../../../src/otlp/index.js';

describe('self-telemetry', () => {
  it('encodes the counters as a valid OTLP metrics request that protobufjs decodes to the same values', async () => {
    const stats = new RelayStats();
    stats.received.traces = 12;
    stats.exported.traces = 10;
    stats.drop('buffer_full', 'logs', 3);
    stats.flushDurationsMs.push(0.4, 3, 700);
    const { body, points } = encodeSelfMetrics(
      stats,
      { functionName: 'fn', functionVersion: '$LATEST', region: 'eu-west-1', extensionVersion: '0.1.0' },
      1_000_000_000n,
      2_000_000_000n,
    );
    expect(validateExportRequest('metrics', body).items).toBe(points);
    const decoded = (await decodeExportRequest('metrics', body)) as {
      resourceMetrics: {
        resource: { attributes: { key: string; value: { stringValue: string } }[] };
        scopeMetrics: {
          metrics: {
            name: string;
            sum?: {
              dataPoints: {
                asDouble: number;
                attributes: { key: string; value: { stringValue: string } }[];
              }[];
            };
            histogram?: { dataPoints: { count: string; bucketCounts: string[] }[] };
          }[];
        }[];
      }[];
    };
    const rm = decoded.resourceMetrics[0]!;
    expect(rm.resource.attributes).toContainEqual({ key: 'faas.name', value: { stringValue: 'fn' } });
    const metrics = rm.scopeMetrics[0]!.metrics;
    const received = metrics.find((m) => m.name === 'otel_relay.items.received')!;
    const tracesPoint = received.sum!.dataPoints.find((p) => p.attributes[0]!.value.stringValue === 'traces');
    expect(tracesPoint?.asDouble).toBe(12);
    const dropped = metrics.find((m) => m.name === 'otel_relay.items.dropped')!;
    expect(dropped.sum!.dataPoints.some((p) => p.asDouble === 3)).toBe(true);
    const flush = metrics.find((m) => m.name === 'otel_relay.flush.duration')!;
    expect(Number(flush.histogram!.dataPoints[0]!.count)).toBe(3);
    expect(metrics.find((m) => m.name === 'otel_relay.postruntime.duration')).toBeUndefined();
  });
});

describe('breaker state in self-telemetry', () => {
  it('encodes each breaker of Delivery.state() as an otel_relay.breaker.state gauge (0 closed, 1 half-open, 2 open)', async () => {
    // Prepare
    const readings = breakerReadings({
      collectorBreaker: 'open',
      s3Breaker: 'half-open',
      spoolBytes: 0,
      spooledItems: 3,
    });
    // Act
    const { body, points } = encodeSelfMetrics(
      new RelayStats(),
      { extensionVersion: '0.1.0' },
      1_000_000_000n,
      2_000_000_000n,
      1_000_000_000n,
      readings,
    );
    // Assess
    expect(readings).toEqual([
      { name: 'collector', state: 'open' },
      { name: 's3', state: 'half-open' },
    ]);
    expect(validateExportRequest('metrics', body).items).toBe(points);
    const decoded = (await decodeExportRequest('metrics', body)) as {
      resourceMetrics: {
        scopeMetrics: {
          metrics: {
            name: string;
            gauge?: {
              dataPoints: { asInt: string; attributes: { key: string; value: { stringValue: string } }[] }[];
            };
          }[];
        }[];
      }[];
    };
    const gauge = decoded.resourceMetrics[0]!.scopeMetrics[0]!.metrics.find(
      (m) => m.name === 'otel_relay.breaker.state',
    );
    const byBreaker = Object.fromEntries(
      (gauge?.gauge?.dataPoints ?? []).map((p) => [p.attributes[0]!.value.stringValue, Number(p.asInt)]),
    );
    expect(byBreaker).toEqual({ collector: 2, s3: 1 });
  });

  it('leaves the gauge out when the Delivery reports no breaker', () => {
    expect(breakerReadings(undefined)).toEqual([]);
    expect(breakerReadings({ collectorBreaker: 'unknown', spoolBytes: 1 })).toEqual([]);
  });
});

describe('RelayStats', () => {
  it('keeps at most 4,096 durations, dropping the oldest half when full', () => {
    const stats = new RelayStats();
    for (let i = 0; i < 10_000; i++) stats.record(stats.postRuntimeMs, i);
    expect(stats.postRuntimeMs.length).toBeLessThanOrEqual(4096);
    expect(stats.postRuntimeMs.at(-1)).toBe(9_999);
  });
});
