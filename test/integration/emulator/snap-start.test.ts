// SnapStart mode: Init with the runtime's before-snapshot hooks ending
// in GET /runtime/restore/next, a snapshot during which every process is stopped, the Restore phase
// (after-restore hooks, its limit, restore/error) with its telemetry records, and extensions that get
// no RESTORE event.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import type { LambdaEnvironment, RestoreResult, TelemetryRecord } from '../../../src/local/index.js';
import { fn, processState, startEnv, startFunction, startWithProbes } from './helpers.js';

const SNAP = { codeDir: fn('snapstart'), handler: 'index.handler', mode: 'snap-start' } as const;

interface HookRun {
  name: string;
  at: number;
}

const platformTypes = (env: LambdaEnvironment): string[] =>
  env.telemetry
    .map((r) => r.type)
    .filter((t) => t.startsWith('platform.') && t !== 'platform.telemetrySubscription');

const recordOf = (env: LambdaEnvironment, type: string): Record<string, unknown> | undefined =>
  env.telemetry.find((r: TelemetryRecord) => r.type === type)?.record as Record<string, unknown> | undefined;

function get(runtimeApi: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`http://${runtimeApi}${path}`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`GET ${path} got no answer within 5 s`)));
    req.on('error', reject);
  });
}

describe('snap-start mode', () => {
  it('takes the snapshot at the end of Init with every process stopped, and restores before the first invoke', async () => {
    // Prepare
    const stateDuringSnapshot: string[] = [];
    let envRef: LambdaEnvironment | undefined;
    const { env } = await startWithProbes(
      { watcher: { telemetry: { types: ['platform'] } } },
      {
        ...SNAP,
        snapStart: {
          snapshotMs: 300,
          onSnapshot: () => {
            for (const p of envRef?.processes() ?? [])
              stateDuringSnapshot.push(`${p.name}:${processState(p.pid)}`);
          },
        },
      },
    );
    envRef = env;
    expect(env.lastInit).toMatchObject({ phase: 'init', status: 'success' });
    expect(env.awaitingRestore).toBe(true);
    expect(env.isFrozen).toBe(true);
    // Act
    const restores: RestoreResult[] = [];
    env.on('restore', (r) => restores.push(r));
    const r = await env.invoke({});
    // Assess
    expect(stateDuringSnapshot.sort()).toEqual(['function:T', 'watcher:T']);
    expect(r.status).toBe('success');
    expect(r.initDurationMs).toBeUndefined();
    expect(restores).toEqual([expect.objectContaining({ status: 'success' })]);
    expect(restores[0]?.snapshotMs).toBeGreaterThanOrEqual(300);
    expect(r.restoreDurationMs).toBe(restores[0]?.durationMs);
    expect(env.awaitingRestore).toBe(false);
    expect(platformTypes(env)).toEqual([
      'platform.initStart',
      'platform.initRuntimeDone',
      'platform.extension',
      'platform.initReport',
      'platform.restoreStart',
      'platform.restoreRuntimeDone',
      'platform.restoreReport',
      'platform.start',
      'platform.runtimeDone',
      'platform.report',
    ]);
  });

  it('reports initializationType snap-start and the restore records in the schema of the Telemetry API', async () => {
    // Prepare
    const env = await startFunction({ ...SNAP, snapStart: { snapshotMs: 0 }, functionName: 'snappy' });
    // Act
    const r = await env.invoke({});
    // Assess
    for (const type of ['platform.initStart', 'platform.initRuntimeDone', 'platform.initReport']) {
      expect(recordOf(env, type), type).toMatchObject({ initializationType: 'snap-start', phase: 'init' });
    }
    expect(recordOf(env, 'platform.restoreStart')).toMatchObject({
      functionName: 'snappy',
      functionVersion: '$LATEST',
      runtimeVersion: expect.stringMatching(/^nodejs:\d+/),
    });
    expect(recordOf(env, 'platform.restoreRuntimeDone')).toEqual({ status: 'success' });
    const report = recordOf(env, 'platform.restoreReport');
    expect(report).toEqual({ status: 'success', metrics: { durationMs: r.restoreDurationMs } });
    const invokeReport = env.recordsFor(r.requestId).find((t) => t.type === 'platform.report');
    const metrics = (invokeReport?.record as { metrics?: Record<string, number> } | undefined)?.metrics ?? {};
    expect(metrics.restoreDurationMs).toBe(r.restoreDurationMs);
    expect(metrics).not.toHaveProperty('initDurationMs');
    expect(metrics.billedDurationMs).toBe(Math.ceil(r.durationMs + (r.restoreDurationMs ?? 0)));
    // Only the first invoke after a restore carries it.
    const second = await env.invoke({});
    expect(second.restoreDurationMs).toBeUndefined();
    expect(env.telemetry.filter((t) => t.type === 'platform.restoreStart')).toHaveLength(1);
  });

  it('sets AWS_LAMBDA_INITIALIZATION_TYPE=snap-start for the runtime and every extension', async () => {
    // Prepare
    const { env, probe } = await startWithProbes({ looker: {} }, { ...SNAP, snapStart: { snapshotMs: 0 } });
    // Act
    const r = await env.invoke({});
    // Assess
    expect((r.response as { initializationType: string }).initializationType).toBe('snap-start');
    expect(probe.of('looker', 'register')[0]?.data.env.AWS_LAMBDA_INITIALIZATION_TYPE).toBe('snap-start');
    expect(env.variables('extension').AWS_LAMBDA_INITIALIZATION_TYPE).toBe('snap-start');
  });

  it('gives extensions no RESTORE event: a /next parked before the snapshot answers with the INVOKE', async () => {
    // Prepare
    const { env, probe } = await startWithProbes(
      { parked: {}, shutdownOnly: { events: ['SHUTDOWN'] } },
      { ...SNAP, snapStart: { snapshotMs: 200 } },
    );
    expect(probe.of('parked', 'event')).toEqual([]);
    // Act
    const r = await env.invoke({});
    await env.shutdown();
    // Assess
    const events = probe.of('parked', 'event').map((m) => m.data.event.eventType);
    expect(events).toEqual(['INVOKE', 'SHUTDOWN']);
    expect(probe.event('parked', 'INVOKE').event.requestId).toBe(r.requestId);
    expect(probe.of('shutdownOnly', 'event').map((m) => m.data.event.eventType)).toEqual(['SHUTDOWN']);
  });

  it('delivers telemetry over new platform connections after the restore (a restored microVM has a new network)', async () => {
    // Prepare: a slow Init, so part of the telemetry is delivered before the snapshot.
    let portsBeforeSnapshot: number[] = [];
    const { env, probe } = await startWithProbes(
      { listener: { telemetry: { types: ['platform'] } } },
      {
        ...SNAP,
        env: { FIXTURE_INIT_SLEEP_MS: '300' },
        snapStart: {
          snapshotMs: 100,
          onSnapshot: () => {
            portsBeforeSnapshot = probe.of('listener', 'telemetry').map((m) => m.data.remotePort);
          },
        },
      },
    );
    // Act
    const r = await env.invoke({});
    await env.shutdown();
    // Assess
    expect(r.status).toBe('success');
    expect(portsBeforeSnapshot.length).toBeGreaterThan(0);
    const after = probe
      .of('listener', 'telemetry')
      .slice(portsBeforeSnapshot.length)
      .map((m) => m.data.remotePort);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((p) => portsBeforeSnapshot.includes(p))).toEqual([]);
    const delivered = probe
      .of('listener', 'telemetry')
      .flatMap((m) => m.data.batch.map((t: TelemetryRecord) => t.type));
    expect(delivered).toEqual(expect.arrayContaining(['platform.restoreStart', 'platform.restoreReport']));
  });

  it('runs before-snapshot hooks in reverse order during Init and after-restore hooks in order after the snapshot', async () => {
    // Prepare
    const env = await startFunction({ ...SNAP, snapStart: { snapshotMs: 400 } });
    // Act
    const r = await env.invoke({});
    // Assess
    const hooks = (r.response as { hooks: HookRun[] }).hooks;
    expect(hooks.map((h) => h.name)).toEqual([
      'init',
      'before-snapshot-B',
      'before-snapshot-A',
      'after-restore-A',
      'after-restore-B',
      'invoke',
    ]);
    // Wall time passed while the processes were stopped: the restored code sees it jump.
    const before = hooks.find((h) => h.name === 'before-snapshot-A')?.at ?? 0;
    const after = hooks.find((h) => h.name === 'after-restore-A')?.at ?? 0;
    expect(after - before).toBeGreaterThanOrEqual(400);
  });

  it('fails Init with Runtime.BeforeSnapshotError when a before-snapshot hook throws', async () => {
    // Act
    const env = await startFunction({ ...SNAP, env: { FIXTURE_BEFORE_SNAPSHOT_THROW: '1' } });
    // Assess
    expect(env.lastInit).toMatchObject({ status: 'error', errorType: 'Runtime.BeforeSnapshotError' });
    expect(env.awaitingRestore).toBe(false);
    expect(recordOf(env, 'platform.initReport')).toMatchObject({
      initializationType: 'snap-start',
      status: 'error',
      errorType: 'Runtime.BeforeSnapshotError',
    });
  });

  it('fails the invoke and resets when an after-restore hook reports restore/error, then restores a new snapshot', async () => {
    // Prepare
    const env = await startFunction({
      ...SNAP,
      snapStart: { snapshotMs: 0 },
      env: { FIXTURE_AFTER_RESTORE_THROW: '1' },
    });
    const resets: string[] = [];
    env.on('reset', (s) => resets.push(s.reason));
    // Act
    const failed = await env.invoke({});
    const next = await env.invoke({});
    // Assess
    expect(failed).toMatchObject({ status: 'failure', errorType: 'Runtime.AfterRestoreError' });
    expect(failed.error?.errorMessage).toContain('Restore phase failed');
    expect(resets).toEqual(['failure']);
    const restoreDone = env.telemetry
      .filter((t) => t.type === 'platform.restoreRuntimeDone')
      .map((t) => t.record);
    expect(restoreDone).toEqual([
      { status: 'error', errorType: 'Runtime.AfterRestoreError' },
      { status: 'success' },
    ]);
    expect(next.status).toBe('success');
    expect(next.restoreDurationMs).toBeGreaterThan(0);
    expect(env.telemetry.filter((t) => t.type === 'platform.initStart')).toHaveLength(2);
  });

  it('times out the Restore phase at its limit and resets', async () => {
    // Prepare
    const env = await startFunction({
      ...SNAP,
      snapStart: { snapshotMs: 0, restoreTimeoutMs: 300 },
      env: { FIXTURE_AFTER_RESTORE_SLEEP_MS: '5000' },
    });
    // Act
    const r = await env.invoke({});
    // Assess
    expect(r).toMatchObject({ status: 'timeout', errorType: 'Runtime.RestoreTimeout' });
    expect(recordOf(env, 'platform.restoreReport')).toMatchObject({
      status: 'timeout',
      errorType: 'Runtime.RestoreTimeout',
    });
    expect(r.restoreDurationMs).toBeGreaterThanOrEqual(300);
    expect((await env.invoke({})).status).toBe('success');
  });

  it('answers restore/next with 403 outside snap-start mode and restore/error outside the Restore phase', async () => {
    // Prepare
    const onDemand = await startFunction();
    const snap = await startEnv({ ...SNAP, snapStart: { snapshotMs: 0 } });
    await snap.invoke({});
    // Act
    const wrongMode = await get(onDemand.runtimeApi, '/2018-06-01/runtime/restore/next');
    const afterInit = await get(snap.runtimeApi, '/2018-06-01/runtime/restore/next');
    // Assess
    expect(wrongMode.status).toBe(403);
    expect(JSON.parse(wrongMode.body)).toMatchObject({ errorType: 'InvalidStateTransition' });
    expect(afterInit.status).toBe(403);
  });

  it('shuts a snapshot that was never restored down: SHUTDOWN is the only event its extensions get', async () => {
    // Prepare
    const { env, probe } = await startWithProbes({ waiter: {} }, { ...SNAP, snapStart: { snapshotMs: 0 } });
    // Act
    const s = await env.shutdown();
    // Assess
    expect(s.extensions).toEqual([expect.objectContaining({ name: 'waiter', state: 'Exited' })]);
    expect(probe.of('waiter', 'event').map((m) => m.data.event.eventType)).toEqual(['SHUTDOWN']);
    expect(env.awaitingRestore).toBe(false);
  });

  it('rejects snapStart options without snap-start mode', async () => {
    await expect(startFunction({ snapStart: { snapshotMs: 10 } })).rejects.toThrow(
      "snapStart options were given but mode is on-demand; set mode: 'snap-start'",
    );
  });
});
