// OTLP requests with known ids, a flush budget and a recording logger, for driving the kafka, redis
// and postgres destinations directly against their real peers.
import { randomBytes } from 'node:crypto';
import type { Destination, FlushBudget } from '../../../src/extension/destinations/types.js';
import type { Clock, Logger } from '../../../src/extension/export/types.js';
import { otlpJsonToProtobuf } from '../../../src/otlp/index.js';

export const clock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };

export function budget(ms = 15_000): FlushBudget {
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
const now = () => BigInt(Date.now()) * 1_000_000n;

/** Traces: `traces` traces of one SERVER root and one CLIENT child each, service `service`. */
export function tracesRequest(service: string, traces = 1) {
  const t0 = now();
  const spans = Array.from({ length: traces }, () => {
    const traceId = hex(16);
    const rootId = hex(8);
    return [
      {
        traceId,
        spanId: rootId,
        name: 'GET /orders',
        kind: 2,
        startTimeUnixNano: String(t0),
        endTimeUnixNano: String(t0 + 5_000_000n),
        attributes: [
          { key: 'http.route', value: str('/orders') },
          { key: 'http.response.status_code', value: { intValue: '500' } },
        ],
        events: [{ name: 'cache miss', timeUnixNano: String(t0 + 1_000n) }],
        status: { code: 2, message: 'boom' },
      },
      {
        traceId,
        spanId: hex(8),
        parentSpanId: rootId,
        name: 'SELECT orders',
        kind: 3,
        startTimeUnixNano: String(t0 + 1_000_000n),
        endTimeUnixNano: String(t0 + 2_000_000n),
        attributes: [{ key: 'db.system', value: str('postgresql') }],
        status: { code: 1 },
      },
    ];
  }).flat();
  const json = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: str(service) }] },
        scopeSpans: [{ scope: { name: 'test-scope', version: '1.2.3' }, spans }],
      },
    ],
  };
  return { json, body: otlpJsonToProtobuf('traces', JSON.stringify(json)), spans };
}

/** Metrics: one gauge point and one monotonic cumulative sum point named after `tag`. */
export function metricsRequest(service: string, tag = hex(4)) {
  const t = String(now());
  const json = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: str(service) }] },
        scopeMetrics: [
          {
            scope: { name: 'test-scope' },
            metrics: [
              {
                name: `queue.depth.${tag}`,
                unit: '1',
                gauge: {
                  dataPoints: [
                    { timeUnixNano: t, asDouble: 4.5, attributes: [{ key: 'q', value: str('a') }] },
                  ],
                },
              },
              {
                name: `requests.${tag}`,
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [{ startTimeUnixNano: t, timeUnixNano: t, asInt: '7' }],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  return { json, body: otlpJsonToProtobuf('metrics', JSON.stringify(json)), tag };
}

/** Logs: `n` records whose bodies carry `tag`. */
export function logsRequest(service: string, n = 2, tag = hex(4)) {
  const t = now();
  const json = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: str(service) }] },
        scopeLogs: [
          {
            scope: { name: 'test-scope' },
            logRecords: Array.from({ length: n }, (_, i) => ({
              timeUnixNano: String(t + BigInt(i)),
              severityNumber: 9,
              severityText: 'INFO',
              body: str(`${tag} line ${i}`),
              attributes: [{ key: 'i', value: { intValue: String(i) } }],
            })),
          },
        ],
      },
    ],
  };
  return { json, body: otlpJsonToProtobuf('logs', JSON.stringify(json)), tag };
}

/** Calls export and closes nothing: the caller owns the destination. */
export function send(d: Destination, signal: 'traces' | 'metrics' | 'logs', body: Uint8Array, ms?: number) {
  return d.export(signal, body, budget(ms));
}
