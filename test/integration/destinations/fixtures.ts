// OTLP export requests and a flush budget for driving one destination directly.
import { randomBytes } from 'node:crypto';
import type { FlushBudget } from '../../../src/extension/destinations/types.js';
import type { Clock, Logger } from '../../../src/extension/export/types.js';
import { otlpJsonToProtobuf } from '../../../src/otlp/index.js';

export const clock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };

export function budget(ms = 10_000): FlushBudget {
  return { deadline: Date.now() + ms, abort: AbortSignal.timeout(ms), reason: 'invoke' };
}

export function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  return { lines, debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

export const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

const str = (v: string) => ({ stringValue: v });

/** A traces request: one root SERVER span with `children` INTERNAL/CLIENT children, an event and an error. */
export function tracesRequest(service: string, traceId = hex(16), children = 2) {
  const rootId = hex(8);
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const spans = [
    {
      traceId,
      spanId: rootId,
      name: 'GET /orders',
      kind: 2,
      startTimeUnixNano: String(t0),
      endTimeUnixNano: String(t0 + 50_000_000n),
      attributes: [
        { key: 'http.route', value: str('/orders') },
        { key: 'http.response.status_code', value: { intValue: '500' } },
      ],
      events: [
        {
          name: 'cache miss',
          timeUnixNano: String(t0 + 1_000_000n),
          attributes: [{ key: 'k', value: str('v') }],
        },
      ],
      status: { code: 2, message: 'boom' },
    },
    ...Array.from({ length: children }, (_, i) => ({
      traceId,
      spanId: hex(8),
      parentSpanId: rootId,
      name: `child-${i}`,
      kind: i % 2 === 0 ? 1 : 3,
      startTimeUnixNano: String(t0 + BigInt(i + 1) * 1_000_000n),
      endTimeUnixNano: String(t0 + BigInt(i + 2) * 1_000_000n),
      attributes: [{ key: 'peer.service', value: str('db') }],
      status: { code: 1 },
    })),
  ];
  const json = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: str(service) },
            { key: 'faas.name', value: str(service) },
          ],
        },
        scopeSpans: [{ scope: { name: 'test-scope', version: '1.2.3' }, spans }],
      },
    ],
  };
  return { json, body: otlpJsonToProtobuf('traces', JSON.stringify(json)), traceId, rootId, spans };
}

/**
 * A metrics request from `service`: a gauge, a monotonic DELTA counter `requests` (+`delta` per
 * call, label route=/a) and a delta histogram `latency` (bounds 10, 100; one value in each bucket
 * below 100), each point stamped `timeMs`.
 */
export function metricsRequest(service: string, opts: { delta: number; timeMs: number; instance?: string }) {
  const ts = String(BigInt(opts.timeMs) * 1_000_000n);
  const start = String(BigInt(opts.timeMs - 1000) * 1_000_000n);
  const resourceAttrs = [{ key: 'service.name', value: str(service) }];
  if (opts.instance) resourceAttrs.push({ key: 'faas.instance', value: str(opts.instance) });
  const json = {
    resourceMetrics: [
      {
        resource: { attributes: resourceAttrs },
        scopeMetrics: [
          {
            scope: { name: 'test' },
            metrics: [
              {
                name: 'queue.depth',
                unit: '1',
                gauge: { dataPoints: [{ timeUnixNano: ts, asDouble: 7.5 }] },
              },
              {
                name: 'requests',
                sum: {
                  aggregationTemporality: 1,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      startTimeUnixNano: start,
                      timeUnixNano: ts,
                      asInt: String(opts.delta),
                      attributes: [{ key: 'http.route', value: str('/a') }],
                    },
                  ],
                },
              },
              {
                name: 'latency',
                unit: 'ms',
                histogram: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    {
                      startTimeUnixNano: start,
                      timeUnixNano: ts,
                      count: '2',
                      sum: 55,
                      bucketCounts: ['1', '1', '0'],
                      explicitBounds: [10, 100],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  return { json, body: otlpJsonToProtobuf('metrics', JSON.stringify(json)) };
}
