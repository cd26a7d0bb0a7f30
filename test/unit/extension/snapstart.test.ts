// The relay before a SnapStart snapshot: its first `next` waits for platform.initRuntimeDone, then what
// Init sent is exported (and pooled sockets dropped) so no restored copy can export it again.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  flushBeforeSnapshot,
  InitRuntimeDoneWatch,
  SNAPSTART_INIT_LIMIT_MS,
  SNAPSTART_INIT_MARGIN_MS,
  type SnapshotFlushDeps,
} from '../../../src/extension/lifecycle/snap-start.js';
import {
  eventually,
  type FakeCollector,
  type FakeLambdaApi,
  manualClock,
  recordingLog,
  startFakeCollector,
  startFakeLambdaApi,
  startRelay,
  traceRequest,
} from './fakes.js';

const initRuntimeDone = (status = 'success') => ({
  time: new Date().toISOString(),
  type: 'platform.initRuntimeDone',
  record: { initializationType: 'snap-start', phase: 'init', status },
});

describe('InitRuntimeDoneWatch', () => {
  it('resolves a waiter when platform.initRuntimeDone arrives and ignores other platform events', async () => {
    // Prepare
    const watch = new InitRuntimeDoneWatch();
    const clock = manualClock();
    const waiting = watch.wait(clock, clock.now() + 10_000);
    // Act
    watch.observe([{ time: '', type: 'platform.initStart', record: {} }]);
    const before = watch.seen;
    watch.observe([initRuntimeDone('timeout')]);
    // Assess
    expect(before).toBeUndefined();
    expect(await waiting).toBe(true);
    expect(watch.seen).toBe('timeout');
    expect(await watch.wait(clock, clock.now())).toBe(true);
  });

  it('resolves false at its deadline when the event never comes', async () => {
    const watch = new InitRuntimeDoneWatch();
    const clock = manualClock();
    expect(await watch.wait(clock, clock.now() + 20)).toBe(false);
    expect(await watch.wait(clock, clock.now() - 1)).toBe(false);
  });
});

describe('flushBeforeSnapshot', () => {
  function deps(over: Partial<SnapshotFlushDeps> = {}) {
    const clock = manualClock();
    const calls: string[] = [];
    const flushDeadlines: number[] = [];
    const log = recordingLog();
    const d: SnapshotFlushDeps = {
      clock,
      log,
      watch: new InitRuntimeDoneWatch(),
      subscribed: true,
      startedAt: clock.now(),
      flushTimeoutMs: 1_000,
      flush: async (deadline) => {
        calls.push('flush');
        flushDeadlines.push(deadline);
      },
      buffered: () => ({ traces: 0, metrics: 0, logs: 0 }),
      resetConnections: () => {
        calls.push('reset');
      },
      ...over,
    };
    return { d, clock, calls, flushDeadlines, log };
  }

  it('flushes only after platform.initRuntimeDone, then drops pooled sockets', async () => {
    // Prepare
    const { d, calls, flushDeadlines, clock, log } = deps();
    // Act
    const outcome = flushBeforeSnapshot(d);
    await new Promise((r) => setImmediate(r));
    const beforeEvent = [...calls];
    d.watch.observe([initRuntimeDone()]);
    const result = await outcome;
    // Assess
    expect(beforeEvent).toEqual([]);
    expect(calls).toEqual(['flush', 'reset']);
    expect(flushDeadlines).toEqual([clock.now() + 1_000]);
    expect(result).toMatchObject({ initRuntimeDone: true, leftInSnapshot: 0 });
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('stops waiting one flush budget before the Init limit and says what that means', async () => {
    // Prepare: the relay started long ago, so 30 ms are left before the wait must end.
    const { d, calls, log, clock } = deps({ flushTimeoutMs: 500 });
    d.startedAt = clock.now() - (SNAPSTART_INIT_LIMIT_MS - SNAPSTART_INIT_MARGIN_MS - 500 - 30);
    // Act
    const result = await flushBeforeSnapshot(d);
    // Assess
    expect(result.initRuntimeDone).toBe(false);
    expect(calls).toEqual(['flush', 'reset']);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: expect.stringContaining('platform.initRuntimeDone did not arrive'),
      }),
    );
  });

  it('flushes at once without a Telemetry API subscription, with a warning', async () => {
    const { d, calls, log } = deps({ subscribed: false });
    const result = await flushBeforeSnapshot(d);
    expect(result.initRuntimeDone).toBe(false);
    expect(calls).toEqual(['flush', 'reset']);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: expect.stringContaining('no Telemetry API subscription'),
      }),
    );
  });

  it('warns with the counts when items are still buffered at the snapshot', async () => {
    const { d, log } = deps({ buffered: () => ({ traces: 3, metrics: 0, logs: 2 }) });
    d.watch.observe([initRuntimeDone()]);
    const result = await flushBeforeSnapshot(d);
    expect(result.leftInSnapshot).toBe(5);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: expect.stringContaining('3 spans, 2 log records accepted during Init could not be exported'),
      }),
    );
  });
});

describe('extension under SnapStart', () => {
  let api: FakeLambdaApi;
  let collector: FakeCollector;
  let spoolDir: string;

  beforeEach(async () => {
    api = await startFakeLambdaApi();
    collector = await startFakeCollector();
    spoolDir = mkdtempSync(join(tmpdir(), 'relay-snap-spool-'));
  });
  afterEach(async () => {
    await api.close();
    await collector.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  function start(env: Record<string, string>) {
    return startRelay({ api, collector, spoolDir }, env);
  }

  function postTraces(port: number, body: Uint8Array) {
    return new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/traces',
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const shutdown = () => ({
    eventType: 'SHUTDOWN',
    shutdownReason: 'spindown',
    deadlineMs: Date.now() + 2_000,
  });

  it('holds its first next until platform.initRuntimeDone and exports what Init sent before it', async () => {
    // Prepare
    const ext = start({ AWS_LAMBDA_INITIALIZATION_TYPE: 'snap-start', OTEL_RELAY_FLUSH: 'end' });
    await eventually(() => api.subscription !== undefined, 'Telemetry API subscription');
    await eventually(() => {
      try {
        return ext.core().httpPort !== undefined;
      } catch {
        return false;
      }
    }, 'relay ready');
    // Act: the function sends during Init; the runtime's Init then ends.
    expect(await postTraces(ext.core().httpPort!, await traceRequest(3, 'init'))).toBe(200);
    const beforeInitDone = { nextCalls: api.nextCalls, exported: collector.items('traces') };
    await api.sendTelemetry([initRuntimeDone()]);
    await api.waitForNext(1);
    // Assess: nothing left for the snapshot, and next came only after the export.
    expect(beforeInitDone).toEqual({ nextCalls: 0, exported: 0 });
    expect(collector.items('traces')).toBe(3);
    expect(ext.core().buffer.isEmpty()).toBe(true);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    expect(collector.items('traces')).toBe(3);
  });

  it('calls its first next without waiting for platform.initRuntimeDone on demand', async () => {
    const ext = start({ AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', OTEL_RELAY_FLUSH: 'end' });
    await api.waitForNext(1);
    expect(ext.core().buffer.isEmpty()).toBe(true);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
  });
});
