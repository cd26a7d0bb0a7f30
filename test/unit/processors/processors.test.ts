// The five processors on real encoded batches: what each removes is counted as filtered (and the
// items of the result plus the filtered always equal the input's), what each changes decodes back.
import { describe, expect, it } from 'vitest';
import type { KeyValueJson, MetricsJson, TracesJson } from '../../../src/extension/destinations/model.js';
import type { Batch } from '../../../src/extension/export/types.js';
import { createProcessors, processorChains } from '../../../src/extension/processors/index.js';
import { keepsTrace } from '../../../src/extension/processors/sample/index.js';
import { processorsConfigured } from '../../../src/extension/processors/settings.js';
import type { Processor, ProcessorResult } from '../../../src/extension/processors/types.js';
import { decodeExportRequest, otlpJsonToProtobuf } from '../../../src/otlp/index.js';
import { budget, hex, memoryLog, metricsRequest } from '../../integration/destinations/fixtures.js';

const str = (v: string) => ({ stringValue: v });

function spansBatch(spans: Array<{ name: string; traceId?: string; attrs?: Record<string, string> }>): Batch {
  const json = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: str('svc') },
            { key: 'user.email', value: str('r@example.com') },
          ],
        },
        scopeSpans: [
          {
            scope: { name: 's' },
            spans: spans.map((s) => ({
              traceId: s.traceId ?? hex(16),
              spanId: hex(8),
              name: s.name,
              startTimeUnixNano: '1',
              endTimeUnixNano: '2',
              attributes: Object.entries(s.attrs ?? {}).map(([key, v]) => ({ key, value: str(v) })),
              events: [
                { name: 'e', timeUnixNano: '1', attributes: [{ key: 'user.email', value: str('x@y') }] },
              ],
            })),
          },
        ],
      },
    ],
  };
  return {
    signal: 'traces',
    body: otlpJsonToProtobuf('traces', JSON.stringify(json)),
    items: spans.length,
    oldestAcceptedAt: 0,
  };
}

function logsBatch(severities: number[]): Batch {
  const json = {
    resourceLogs: [
      { scopeLogs: [{ logRecords: severities.map((s, i) => ({ severityNumber: s, body: str(`l${i}`) })) }] },
    ],
  };
  return {
    signal: 'logs',
    body: otlpJsonToProtobuf('logs', JSON.stringify(json)),
    items: severities.length,
    oldestAcceptedAt: 0,
  };
}

const clock = { now: () => t, monotonic: () => t };
let t = 0;
function chain(env: Record<string, string>): Processor[] {
  return createProcessors({ env, clock, log: memoryLog() });
}
async function run(
  ps: Processor[],
  batch: Batch,
): Promise<{ out: Batch | undefined; filtered: number; reasons: string[] }> {
  let out: Batch | undefined = batch;
  let filtered = 0;
  const reasons: string[] = [];
  for (const p of ps) {
    if (!out || !p.signals.has(out.signal)) continue;
    const r: ProcessorResult = await p.process(out, budget());
    expect((r.batch?.items ?? 0) + r.filtered).toBe(out.items);
    filtered += r.filtered;
    if (r.reason) reasons.push(r.reason);
    out = r.batch;
  }
  return { out, filtered, reasons };
}
const spanNames = async (b: Batch | undefined) =>
  b
    ? (((await decodeExportRequest('traces', b.body)) as TracesJson).resourceSpans ?? []).flatMap((r) =>
        (r.scopeSpans ?? []).flatMap((s) => (s.spans ?? []).map((x) => x.name)),
      )
    : [];

describe('processors', () => {
  it('loads nothing unless a processor is configured', () => {
    expect(processorsConfigured({})).toBe(false);
    expect(processorsConfigured({ OTEL_RELAY_PROCESSORS: 'none' })).toBe(false);
    expect(processorsConfigured({ OTEL_RELAY_LOGS_PROCESSORS: 'filter' })).toBe(true);
  });

  it('rejects an unknown processor, naming the variable', () => {
    expect(() => processorChains({ OTEL_RELAY_TRACES_PROCESSORS: 'filter,dedupe' })).toThrow(
      /OTEL_RELAY_TRACES_PROCESSORS: unknown processor "dedupe"/,
    );
  });

  it('filter drops spans by name and attribute, logs by severity, metrics by name, counting them as filtered', async () => {
    const ps = chain({
      OTEL_RELAY_PROCESSORS: 'filter',
      OTEL_RELAY_FILTER_SPAN_NAMES: 'GET /health.*',
      OTEL_RELAY_FILTER_ATTRIBUTES: 'http.user_agent=.*bot.*',
      OTEL_RELAY_FILTER_MIN_SEVERITY: 'WARN',
      OTEL_RELAY_FILTER_METRIC_NAMES: 'queue\\..*',
    });
    const spans = await run(
      ps,
      spansBatch([
        { name: 'GET /health' },
        { name: 'GET /orders' },
        { name: 'GET /x', attrs: { 'http.user_agent': 'googlebot' } },
      ]),
    );
    expect(spans).toMatchObject({ filtered: 2, reasons: ['filter'] });
    expect(await spanNames(spans.out)).toEqual(['GET /orders']);
    const logs = await run(ps, logsBatch([5, 9, 13, 17, 0]));
    expect(logs.filtered).toBe(2);
    expect(logs.out?.items).toBe(3);
    const metrics = metricsRequest('m', { delta: 1, timeMs: 1000 });
    // gauge (1 point) + sum (1) + histogram (1) = 3 data points; the gauge is queue.depth.
    const m = await run(ps, { signal: 'metrics', body: metrics.body, items: 3, oldestAcceptedAt: 0 });
    expect(m.filtered).toBe(1);
    const names = (
      (await decodeExportRequest('metrics', m.out!.body)) as MetricsJson
    ).resourceMetrics?.[0]?.scopeMetrics?.[0]?.metrics?.map((x) => x.name);
    expect(names).toEqual(['requests', 'latency']);
  });

  it('filter removing every item leaves no batch, all counted', async () => {
    const r = await run(
      chain({ OTEL_RELAY_PROCESSORS: 'filter', OTEL_RELAY_FILTER_SPAN_NAMES: '.*' }),
      spansBatch([{ name: 'a' }, { name: 'b' }]),
    );
    expect(r).toMatchObject({ out: undefined, filtered: 2 });
  });

  it('redact removes or hashes matching keys on resource, items and events', async () => {
    const removed = await run(
      chain({ OTEL_RELAY_PROCESSORS: 'redact', OTEL_RELAY_REDACT_KEYS: '.*email.*,card' }),
      spansBatch([{ name: 'a', attrs: { card: '4111', keep: 'k' } }]),
    );
    const text = JSON.stringify(await decodeExportRequest('traces', removed.out!.body));
    expect(text).not.toContain('example.com');
    expect(text).not.toContain('4111');
    expect(text).not.toContain('x@y');
    expect(text).toContain('"keep"');
    expect(removed.filtered).toBe(0);
    const hashed = await run(
      chain({
        OTEL_RELAY_PROCESSORS: 'redact',
        OTEL_RELAY_REDACT_KEYS: 'user\\.email',
        OTEL_RELAY_REDACT_MODE: 'hash',
        OTEL_RELAY_REDACT_SALT: 's1',
      }),
      spansBatch([{ name: 'a' }]),
    );
    const res = (await decodeExportRequest('traces', hashed.out!.body)) as TracesJson;
    const email = res.resourceSpans?.[0]?.resource?.attributes?.find((a) => a.key === 'user.email');
    expect(email?.value?.stringValue).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(res)).not.toContain('example.com');
  });

  it('sample keeps whole traces by trace id, the same decision everywhere, near the ratio', async () => {
    const ids = Array.from({ length: 2000 }, () => hex(16));
    const kept = ids.filter((id) => keepsTrace(id, 0.25)).length;
    expect(kept / ids.length).toBeGreaterThan(0.2);
    expect(kept / ids.length).toBeLessThan(0.3);
    const traceId = ids.find((id) => !keepsTrace(id, 0.25))!;
    const keptId = ids.find((id) => keepsTrace(id, 0.25))!;
    const r = await run(
      chain({ OTEL_RELAY_PROCESSORS: 'sample', OTEL_RELAY_SAMPLE_RATIO: '0.25' }),
      spansBatch([
        { name: 'a', traceId },
        { name: 'b', traceId },
        { name: 'c', traceId: keptId },
      ]),
    );
    expect(r).toMatchObject({ filtered: 2, reasons: ['sample'] });
    expect(await spanNames(r.out)).toEqual(['c']);
    // Ratio 1 keeps everything, 0 nothing.
    expect(ids.every((id) => keepsTrace(id, 1))).toBe(true);
    expect(ids.some((id) => keepsTrace(id, 0))).toBe(false);
  });

  it('ratelimit passes the rate per second and counts the rest as filtered', async () => {
    t = 0;
    const ps = chain({ OTEL_RELAY_PROCESSORS: 'ratelimit', OTEL_RELAY_RATELIMIT_ITEMS_PER_SECOND: '3' });
    const first = await run(
      ps,
      spansBatch([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }, { name: 'e' }]),
    );
    expect(first).toMatchObject({ filtered: 2, reasons: ['ratelimit'] });
    expect(await spanNames(first.out)).toEqual(['a', 'b', 'c']);
    const second = await run(ps, spansBatch([{ name: 'f' }]));
    expect(second).toMatchObject({ out: undefined, filtered: 1 });
    t = 1000;
    const third = await run(ps, spansBatch([{ name: 'g' }, { name: 'h' }]));
    expect(third.filtered).toBe(0);
  });

  it('attributes adds resource attributes and renames keys everywhere', async () => {
    const r = await run(
      chain({
        OTEL_RELAY_PROCESSORS: 'attributes',
        OTEL_RELAY_ATTRIBUTES_ADD: 'deployment.environment.name=prod,team=a%2Cb',
        OTEL_RELAY_ATTRIBUTES_RENAME: 'user.email=enduser.id',
      }),
      spansBatch([{ name: 'a', attrs: { 'user.email': 'u' } }]),
    );
    const res = (await decodeExportRequest('traces', r.out!.body)) as TracesJson;
    const rattrs = Object.fromEntries(
      (res.resourceSpans?.[0]?.resource?.attributes ?? []).map((a: KeyValueJson) => [
        a.key,
        a.value?.stringValue,
      ]),
    );
    expect(rattrs).toMatchObject({
      'deployment.environment.name': 'prod',
      team: 'a,b',
      'enduser.id': 'r@example.com',
      'service.name': 'svc',
    });
    expect(rattrs['user.email']).toBeUndefined();
    const span = res.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0];
    expect(span?.attributes).toEqual([{ key: 'enduser.id', value: { stringValue: 'u' } }]);
  });
});
