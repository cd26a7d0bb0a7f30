import { describe, expect, it } from 'vitest';
import { PlatformTelemetry, parseXRay } from '../../../src/extension/platform/index.js';
import { decodeExportRequest, type Signal, validateExportRequest } from '../../../src/otlp/index.js';

type Json = Record<string, unknown> & { [k: string]: unknown };

function capture() {
  const out: { signal: Signal; body: Uint8Array; items: number }[] = [];
  return {
    out,
    sink: (signal: Signal, body: Uint8Array, items: number) => out.push({ signal, body, items }),
  };
}

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();
const attrs = (x: { attributes?: { key: string; value: Json }[] }) =>
  Object.fromEntries((x.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));

describe('PlatformTelemetry (layer-only mode)', () => {
  it('makes an init span, a SERVER span per invocation in the X-Ray trace, FaaS metrics and linked logs', async () => {
    const { out, sink } = capture();
    const p = new PlatformTelemetry(
      { functionName: 'orders', functionVersion: '7', region: 'eu-west-1' },
      sink,
      true,
    );
    expect(p.types).toEqual(['platform', 'function']);
    const requestId = '8476a536-e9f4-11e8-9739-2dfe598c3fcd';
    p.handle([
      { time: at(0), type: 'platform.initStart', record: { initializationType: 'on-demand', phase: 'init' } },
      {
        time: at(300),
        type: 'platform.initReport',
        record: { status: 'success', metrics: { durationMs: 300 } },
      },
      {
        time: at(310),
        type: 'platform.start',
        record: {
          requestId,
          tracing: {
            type: 'X-Amzn-Trace-Id',
            value: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
          },
        },
      },
      { time: at(320), type: 'function', record: `${at(320)}\t${requestId}\tINFO\thello world\n` },
      {
        time: at(400),
        type: 'platform.runtimeDone',
        record: { requestId, status: 'error', errorType: 'Handler.Boom', metrics: { durationMs: 90 } },
      },
      {
        time: at(402),
        type: 'platform.report',
        record: {
          requestId,
          status: 'error',
          metrics: {
            durationMs: 92,
            billedDurationMs: 93,
            maxMemoryUsedMB: 70,
            memorySizeMB: 128,
            initDurationMs: 300,
          },
        },
      },
    ]);
    expect(out.map((o) => [o.signal, o.items])).toEqual([
      ['traces', 2],
      ['metrics', 7],
      ['logs', 1],
    ]);
    for (const o of out) expect(validateExportRequest(o.signal, o.body).items).toBe(o.items);

    const traces = (await decodeExportRequest('traces', out[0]!.body)) as Json;
    const rs = (traces.resourceSpans as Json[])[0]!;
    expect(attrs(rs.resource as Json)).toMatchObject({
      'service.name': 'orders',
      'faas.name': 'orders',
      'cloud.region': 'eu-west-1',
    });
    const [init, invocation] = (rs.scopeSpans as Json[])[0]!.spans as Json[] as Json[];
    expect(init).toMatchObject({ name: 'orders init' });
    expect(invocation).toMatchObject({
      name: 'orders',
      kind: 2,
      traceId: '5759e988bd862e3fe1be46a994272793',
      parentSpanId: '53995c3f42cd8ad8',
      status: { code: 2, message: 'Handler.Boom' },
    });
    expect(attrs(invocation!)).toMatchObject({ 'faas.invocation_id': requestId, 'faas.coldstart': true });
    expect(
      BigInt(invocation!.endTimeUnixNano as string) - BigInt(invocation!.startTimeUnixNano as string),
    ).toBe(90_000_000n);

    const metrics = (await decodeExportRequest('metrics', out[1]!.body)) as Json;
    const names = (
      ((metrics.resourceMetrics as Json[])[0]!.scopeMetrics as Json[])[0]!.metrics as Json[]
    ).map((m) => m.name);
    expect(names).toEqual(
      [
        'faas.invocations',
        'faas.errors',
        'faas.coldstarts',
        'faas.init_duration',
        'faas.invoke_duration',
        'aws.lambda.billed_duration',
        'faas.mem_usage',
      ].slice(0, names.length),
    );
    expect(names).toContain('faas.mem_usage');

    const logs = (await decodeExportRequest('logs', out[2]!.body)) as Json;
    const record = (((logs.resourceLogs as Json[])[0]!.scopeLogs as Json[])[0]!.logRecords as Json[])[0]!;
    expect(record).toMatchObject({
      severityText: 'INFO',
      body: { stringValue: 'hello world' },
      traceId: invocation!.traceId,
      spanId: invocation!.spanId,
    });
  });

  it('ends the span at platform.report when there is no runtimeDone (Managed Instances), and subscribes to platform only without logs', async () => {
    const { out, sink } = capture();
    const p = new PlatformTelemetry({ functionName: 'f' }, sink, false);
    expect(p.types).toEqual(['platform']);
    p.handle([{ time: at(0), type: 'platform.start', record: { requestId: 'r-1' } }]);
    p.handle([
      {
        time: at(50),
        type: 'platform.report',
        record: { requestId: 'r-1', status: 'success', metrics: { durationMs: 50 } },
      },
    ]);
    expect(out.map((o) => [o.signal, o.items])).toEqual([
      ['traces', 1],
      ['metrics', 2],
    ]);
    const span = (
      (((await decodeExportRequest('traces', out[0]!.body)) as Json).resourceSpans as Json[])[0]!
        .scopeSpans as Json[]
    )[0]!.spans as Json[];
    expect(span[0]).toMatchObject({ name: 'f', kind: 2 });
    expect(span[0]!.status ?? {}).not.toMatchObject({ code: 2 });
  });

  it('reads X-Ray trace headers', () => {
    expect(
      Buffer.from(parseXRay('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0')!.traceId).toString('hex'),
    ).toBe('5759e988bd862e3fe1be46a994272793');
    expect(parseXRay('garbage')).toBeUndefined();
    expect(parseXRay(undefined)).toBeUndefined();
  });
});
