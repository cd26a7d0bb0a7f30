// The Telemetry API as an extension sees it: subscription rules and validation, HTTP/TCP delivery,
// the init replay, the per-invoke order, the freeze pause, and logsDropped.
import { describe, expect, it } from 'vitest';
import type { TelemetryRecord } from '../../../src/local/index.js';
import { errorTypeOf, type Probe, sleep, startWithProbes } from './helpers.js';

/** Every record an extension's listener received, in arrival order. */
const delivered = (probe: Probe, ext: string): TelemetryRecord[] =>
  probe.of(ext, 'telemetry').flatMap((m) => m.data.batch as TelemetryRecord[]);

const forRequest = (records: TelemetryRecord[], requestId: string): TelemetryRecord[] =>
  records.filter((r) =>
    typeof r.record === 'string'
      ? r.record.includes(requestId)
      : (r.record as { requestId?: string } | null)?.requestId === requestId,
  );

describe('subscribe', () => {
  it('accepts a subscription during init with 200 "OK" and records platform.telemetrySubscription', async () => {
    const { env, probe } = await startWithProbes({
      listener: { telemetry: { types: ['platform', 'function'] } },
    });
    const sub = probe.of('listener', 'subscribe')[0]?.data;
    expect(sub).toEqual({ status: 200, body: '"OK"' });
    const rec = env.telemetry.find((t) => t.type === 'platform.telemetrySubscription')?.record;
    expect(rec).toEqual({ name: 'listener', state: 'Subscribed', types: ['platform', 'function'] });
    const ext = env.telemetry.find((t) => t.type === 'platform.extension')?.record;
    expect(ext).toEqual({ name: 'listener', state: 'Ready', events: ['INVOKE', 'SHUTDOWN'] });
    expect(env.telemetry.map((t) => t.type).slice(0, 5)).toEqual([
      'platform.initStart',
      'platform.telemetrySubscription',
      'platform.initRuntimeDone',
      'platform.extension',
      'platform.initReport',
    ]);
  });

  it('rejects a subscription after init with 403 Telemetry.SubscriptionClosed', async () => {
    const { env, probe } = await startWithProbes({ late: { telemetry: {}, subscribeLate: true } });
    await env.invoke({});
    const sub = (await probe.waitFor((m) => m.ext === 'late' && m.kind === 'subscribe')).data;
    expect(sub.status).toBe(403);
    expect(errorTypeOf(sub)).toBe('Telemetry.SubscriptionClosed');
  });

  it('rejects invalid subscriptions with 400 ValidationError, buffering below the minimums included', async () => {
    const http = (uri: string) => ({ protocol: 'HTTP', URI: uri });
    const cases: Record<string, Record<string, unknown>> = {
      timeout24: { buffering: { timeoutMs: 24 } },
      bytes262143: { buffering: { maxBytes: 262_143 } },
      items999: { buffering: { maxItems: 999 } },
      timeout30001: { buffering: { timeoutMs: 30_001 } },
      https: { destination: http('https://sandbox.localdomain:8443/x') },
      port9001: { destination: http('http://sandbox.localdomain:9001/x') },
      outside: { destination: http('http://example.com:8080/x') },
      schema: { schemaVersion: '2021-01-01' },
      notypes: { types: [] },
    };
    const exts: Record<string, Record<string, unknown>> = {};
    for (const [name, telemetry] of Object.entries(cases)) exts[name] = { telemetry };
    const { env, probe } = await startWithProbes(exts);
    expect(env.lastInit?.status).toBe('success');
    for (const name of Object.keys(cases)) {
      const sub = probe.of(name, 'subscribe')[0]?.data;
      expect(sub?.status, name).toBe(400);
      expect(errorTypeOf(sub), name).toBe('ValidationError');
    }
  });

  it('accepts the buffering minimums and maximums exactly', async () => {
    const { env, probe } = await startWithProbes({
      mins: {
        telemetry: { buffering: { timeoutMs: 25, maxBytes: 262_144, maxItems: 1000 } },
      },
      maxs: {
        telemetry: { buffering: { timeoutMs: 30_000, maxBytes: 1_048_576, maxItems: 10_000 } },
      },
    });
    expect(env.lastInit?.status).toBe('success');
    expect(probe.of('mins', 'subscribe')[0]?.data.status).toBe(200);
    expect(probe.of('maxs', 'subscribe')[0]?.data.status).toBe(200);
  });
});

describe('delivery', () => {
  it('POSTs JSON arrays to the exact path, replaying the init records emitted before the subscription', async () => {
    const { env, probe } = await startWithProbes(
      {
        listener: { telemetry: { path: '/in/telemetry?x=1', host: 'sandbox' } },
      },
      { env: { FIXTURE_INIT_LOG: 'hello from init' } },
    );
    await env.invoke({});
    await env.shutdown();
    const first = probe.of('listener', 'telemetry')[0]?.data;
    expect(first.path).toBe('/in/telemetry?x=1');
    expect(first.contentType).toBe('application/json');
    const records = delivered(probe, 'listener');
    expect(records[0]?.type).toBe('platform.initStart');
    expect(records.map((r) => r.type)).toContain('platform.initReport');
    const initLog = records.find((r) => r.type === 'function');
    expect(initLog?.record).toMatch(/\tundefined\tINFO\thello from init$/);
    for (const r of records) expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('delivers only the subscribed types', async () => {
    const { env, probe } = await startWithProbes({ logsonly: { telemetry: { types: ['function'] } } });
    await env.invoke({ action: 'log', lines: ['a', 'b'] });
    await env.invoke({ action: 'log', lines: ['c'] });
    await env.shutdown();
    const records = delivered(probe, 'logsonly');
    expect(records.map((r) => String(r.record).split('\t').pop())).toEqual(['a', 'b', 'c']);
    expect(new Set(records.map((r) => r.type))).toEqual(new Set(['function']));
  });

  it('makes extension stdout lines extension records', async () => {
    const { env, probe } = await startWithProbes({
      talker: { telemetry: { types: ['extension'] }, onInvoke: { log: true } },
    });
    const r = await env.invoke({});
    await env.shutdown();
    const records = delivered(probe, 'talker');
    expect(records.map((x) => x.type)).toContain('extension');
    expect(records.filter((x) => x.type === 'extension').map((x) => x.record)).toContain(
      `talker handled ${r.requestId}`,
    );
  });

  it('delivers each invoke in order: start, function logs, runtimeDone, then report', async () => {
    const { env, probe } = await startWithProbes({
      order: { telemetry: {}, onInvoke: { waitRuntimeDone: true } },
    });
    const a = await env.invoke({ action: 'log', lines: ['first', 'second'] });
    const b = await env.invoke({ action: 'log', lines: ['third'] });
    await env.shutdown();
    const records = delivered(probe, 'order');
    for (const [r, logs] of [
      [a, 2],
      [b, 1],
    ] as const) {
      const seq = forRequest(records, r.requestId).map((x) => x.type);
      expect(seq).toEqual([
        'platform.start',
        ...Array<string>(logs).fill('function'),
        'platform.runtimeDone',
        'platform.report',
      ]);
    }
    // The environment's own log has the same order.
    expect(forRequest([...env.telemetry], a.requestId).map((x) => x.type)).toEqual(
      forRequest(records, a.requestId).map((x) => x.type),
    );
  });

  it('never delivers invoke N platform.report during invoke N: it waits, frozen, for the next thaw', async () => {
    const { env, probe } = await startWithProbes({
      waiter: { telemetry: {}, onInvoke: { waitRuntimeDone: true } },
    });
    const n = await env.invoke({});
    // The extension saw runtimeDone(N) within invoke N (it waited for it before calling next).
    expect(probe.of('waiter', 'runtimeDone').map((m) => m.data.requestId)).toContain(n.requestId);
    const hasReport = (): boolean =>
      delivered(probe, 'waiter').some(
        (r) => r.type === 'platform.report' && (r.record as { requestId: string }).requestId === n.requestId,
      );
    await sleep(400);
    expect(hasReport()).toBe(false);
    await env.invoke({});
    await probe.waitFor(() => hasReport());
  });

  it('delivers NDJSON to a TCP destination', async () => {
    const { env, probe } = await startWithProbes({ tcp: { telemetry: { protocol: 'TCP' } } });
    const r = await env.invoke({});
    await env.shutdown();
    const records = delivered(probe, 'tcp');
    expect(forRequest(records, r.requestId).map((x) => x.type)).toEqual([
      'platform.start',
      'platform.runtimeDone',
      'platform.report',
    ]);
    expect(probe.of('tcp', 'telemetry').every((m) => m.data.protocol === 'TCP')).toBe(true);
  });

  it('gives JSON-format logs as objects for schema 2022-12-13 and as strings for 2022-07-01', async () => {
    const { env, probe } = await startWithProbes(
      {
        newschema: { telemetry: { types: ['function'], schemaVersion: '2022-12-13' } },
        oldschema: { telemetry: { types: ['function'], schemaVersion: '2022-07-01' } },
      },
      { env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' } },
    );
    const r = await env.invoke({ action: 'log', lines: ['structured'] });
    await env.shutdown();
    const newRec = delivered(probe, 'newschema').find((x) => typeof x.record === 'object');
    const oldRec = delivered(probe, 'oldschema')[0];
    expect(newRec?.record).toMatchObject({ message: 'structured', requestId: r.requestId, level: 'INFO' });
    expect(typeof oldRec?.record).toBe('string');
    expect(JSON.parse(oldRec?.record as string)).toMatchObject({ message: 'structured' });
  });

  it('drops logs for a consumer that falls behind and reports platform.logsDropped', async () => {
    const { env, probe } = await startWithProbes(
      {
        slow: {
          telemetry: {
            types: ['platform', 'function'],
            buffering: { maxItems: 1000, timeoutMs: 25 },
            respondDelayMs: 1000,
          },
          // Each invoke keeps the environment thawed a while, so the slow deliveries progress.
          onInvoke: { sleepMs: 800 },
          onShutdown: { graceMs: 1500 },
        },
      },
      { timeoutMs: 10_000 },
    );
    await env.invoke({ action: 'log', count: 3000 });
    for (let i = 0; i < 4; i++) await env.invoke({});
    await env.shutdown();
    const records = delivered(probe, 'slow');
    const drops = records
      .filter((r) => r.type === 'platform.logsDropped')
      .map((r) => r.record as { droppedRecords: number; droppedBytes: number; reason: string });
    expect(drops.length).toBeGreaterThan(0);
    expect(drops[0]?.reason).toMatch(/fallen behind/);
    const droppedRecords = drops.reduce((n, d) => n + d.droppedRecords, 0);
    expect(droppedRecords).toBeGreaterThan(0);
    expect(drops.every((d) => d.droppedBytes > 0)).toBe(true);
    // Everything the function logged is either delivered or counted as dropped.
    const functionRecords = records.filter((r) => r.type === 'function').length;
    expect(functionRecords + droppedRecords).toBe(3000);
    // The environment's own log has the drop records too.
    expect(env.telemetry.filter((t) => t.type === 'platform.logsDropped')).toHaveLength(drops.length);
  });
});
