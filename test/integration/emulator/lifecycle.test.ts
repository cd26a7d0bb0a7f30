// Freeze/thaw, the invoke release, post-runtime time, timeouts, crashes, resets and shutdown, with
// real processes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentTerminatedError, type ShutdownResult } from '../../../src/local/index.js';
import { processState, sleep, startFunction, startWithProbes, tempDir } from './helpers.js';

async function waitForFile(path: string, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (existsSync(path)) return true;
    await sleep(20);
  }
  return existsSync(path);
}

describe('freeze and thaw', () => {
  it('stops every process between invokes, so a timer in a frozen extension does not fire', async () => {
    const { env, probe } = await startWithProbes({ ticker: { timerMs: 50 } });
    let frozen = 0;
    env.on('frozen', () => frozen++);
    await env.invoke({});
    expect(env.isFrozen).toBe(true);
    expect(frozen).toBe(1);
    const procs = env.processes();
    expect(procs.map((p) => p.role).sort()).toEqual(['extension', 'runtime']);
    for (const p of procs) expect(processState(p.pid), `${p.name} state`).toBe('T');
    // A tick report already on the wire when the freeze came may still land; then nothing can.
    await sleep(150);
    const before = probe.of('ticker', 'tick').length;
    await sleep(600);
    expect(probe.of('ticker', 'tick').length).toBe(before);
    await env.invoke({});
    await probe.waitFor(() => probe.of('ticker', 'tick').length > before);
  });

  it('keeps a function timer from firing while frozen and fires it after the thaw', async () => {
    const env = await startFunction();
    await env.invoke({ action: 'timer', file: 'fired', ms: 1000 });
    await sleep(1500);
    expect(existsSync(join(env.tmpDir, 'fired'))).toBe(false);
    const thawedAt = Date.now();
    // The overdue timer fires as soon as the runtime runs again (here, during a short sleep).
    await env.invoke({ action: 'sleep', ms: 50 });
    expect(await waitForFile(join(env.tmpDir, 'fired'))).toBe(true);
    expect(Number(readFileSync(join(env.tmpDir, 'fired'), 'utf8'))).toBeGreaterThanOrEqual(thawedAt - 5);
  });
});

describe('invoke', () => {
  it('releases INVOKE to extensions while the handler runs (the handler waits for the extension)', async () => {
    const { env, probe } = await startWithProbes({ toucher: { onInvoke: { touch: 'ext-saw-invoke' } } });
    const r = await env.invoke({ action: 'wait-file', file: 'ext-saw-invoke', ms: 2000 });
    expect(r.response).toEqual({ found: true });
    const event = probe.of('toucher', 'event')[0]?.data;
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers['lambda-extension-event-identifier']).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.event).toMatchObject({
      eventType: 'INVOKE',
      requestId: r.requestId,
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:local-function',
      tracing: { type: 'X-Amzn-Trace-Id' },
    });
    expect(event.event.deadlineMs).toBeGreaterThan(event.receivedAt);
    expect(readFileSync(join(env.tmpDir, 'ext-saw-invoke'), 'utf8')).toBe(r.requestId);
  });

  it('measures post-runtime extension time and bills it', async () => {
    const { env } = await startWithProbes({ slowpost: { onInvoke: { sleepMs: 300 } } });
    await env.invoke({});
    const r = await env.invoke({});
    expect(r.status).toBe('success');
    expect(r.postRuntimeMs).toBeGreaterThanOrEqual(250);
    expect(r.durationMs).toBeGreaterThanOrEqual(r.postRuntimeMs);
    expect(r.responseMs).toBeLessThanOrEqual(r.durationMs);
    expect(r.billedDurationMs).toBe(Math.ceil(r.durationMs));
    expect(r.maxMemoryUsedMB).toBeGreaterThan(0);
    const report = env.telemetry.find(
      (t) => t.type === 'platform.report' && (t.record as { requestId: string }).requestId === r.requestId,
    )?.record as { metrics: Record<string, number>; spans: { name: string; durationMs: number }[] };
    expect(report.metrics).toMatchObject({
      durationMs: r.durationMs,
      billedDurationMs: r.billedDurationMs,
      memorySizeMB: 128,
      maxMemoryUsedMB: r.maxMemoryUsedMB,
    });
    expect(report.metrics.initDurationMs).toBeUndefined();
    expect(report.spans).toEqual([
      expect.objectContaining({ name: 'extensionOverhead', durationMs: r.postRuntimeMs }),
    ]);
  });

  it('reports the init duration on the cold start only and bills it', async () => {
    const env = await startFunction();
    const cold = await env.invoke({});
    const warm = await env.invoke({});
    expect(cold.initDurationMs).toBe(env.lastInit?.durationMs);
    expect(cold.billedDurationMs).toBe(Math.ceil(cold.durationMs + (cold.initDurationMs ?? 0)));
    expect(warm.initDurationMs).toBeUndefined();
  });

  it('does not wait for SHUTDOWN-only extensions, which get no INVOKE', async () => {
    const { env, probe } = await startWithProbes({ onlyshutdown: { events: ['SHUTDOWN'] } });
    await env.invoke({});
    await env.invoke({});
    const s = await env.shutdown();
    const events = probe.of('onlyshutdown', 'event').map((m) => m.data.event.eventType);
    expect(events).toEqual(['SHUTDOWN']);
    expect(s.extensions).toEqual([{ name: 'onlyshutdown', state: 'Exited', exitCode: 0, signal: null }]);
  });

  it('turns an extension that never calls next into a timeout, with a reset (SHUTDOWN reason timeout)', async () => {
    const { env, probe } = await startWithProbes(
      {
        stuck: { onInvoke: { stuckOnce: true } },
        watcher: {},
      },
      { timeoutMs: 1500 },
    );
    const resets: ShutdownResult[] = [];
    env.on('reset', (s) => resets.push(s));
    const r = await env.invoke({ n: 1 });
    expect(r.status).toBe('timeout');
    // The client had its response; the environment still timed out.
    expect((r.response as { event: unknown }).event).toEqual({ n: 1 });
    const shutdown = probe.event('watcher', 'SHUTDOWN')?.event;
    expect(shutdown).toMatchObject({ eventType: 'SHUTDOWN', shutdownReason: 'timeout' });
    expect(resets[0]?.reason).toBe('timeout');
    expect(resets[0]?.extensions.find((e) => e.name === 'stuck')).toMatchObject({
      state: 'ShutdownFailed',
      signal: 'SIGKILL',
    });
    // The next invoke re-runs Init (every extension registers again) and succeeds.
    const next = await env.invoke({ n: 2 });
    expect(next.status).toBe('success');
    expect(probe.of('watcher', 'register')).toHaveLength(2);
    expect(env.lastInit).toMatchObject({ phase: 'invoke', status: 'success' });
  });
});

describe('crashes and resets', () => {
  it('resets after an extension crash (Extension.Crash), re-runs Init and keeps /tmp', async () => {
    const { env, probe } = await startWithProbes({
      crasher: { onInvoke: { exitOn: 2, exitCode: 0 } },
      watcher: {},
    });
    expect((await env.invoke({ action: 'tmp-write', file: 'kept.txt', content: 'survives' })).status).toBe(
      'success',
    );
    const crashed = await env.invoke({});
    expect(crashed).toMatchObject({ status: 'failure', errorType: 'Extension.Crash' });
    const shutdown = probe.event('watcher', 'SHUTDOWN')?.event;
    expect(shutdown?.shutdownReason).toBe('failure');
    const after = await env.invoke({ action: 'tmp-read', file: 'kept.txt' });
    expect(after.response).toEqual({ exists: true, content: 'survives' });
    expect(env.lastInit).toMatchObject({ phase: 'invoke', status: 'success' });
    const initStarts = env.telemetry.filter((t) => t.type === 'platform.initStart').map((t) => t.record);
    expect(initStarts).toMatchObject([{ phase: 'init' }, { phase: 'invoke' }]);
  });

  it('resets when a process is SIGKILLed while frozen, and the next invoke succeeds', async () => {
    const { env, probe } = await startWithProbes({ victim: {} });
    await env.invoke({});
    const reset = new Promise<ShutdownResult>((resolve) => env.once('reset', resolve));
    const victim = env.processes().find((p) => p.name === 'victim');
    process.kill(victim?.pid as number, 'SIGKILL');
    const s = await reset;
    expect(s.reason).toBe('failure');
    expect(s.extensions).toEqual([{ name: 'victim', state: 'Crashed', exitCode: null, signal: 'SIGKILL' }]);
    const r = await env.invoke({});
    expect(r.status).toBe('success');
    expect(probe.of('victim', 'register')).toHaveLength(2);
  });
});

describe('runtime killed while frozen', () => {
  it('resets with Runtime.ExitError semantics and re-runs Init at the next invoke', async () => {
    const env = await startFunction();
    const first = await env.invoke({});
    const reset = new Promise<ShutdownResult>((resolve) => env.once('reset', resolve));
    const runtime = env.processes().find((p) => p.role === 'runtime');
    process.kill(runtime?.pid as number, 'SIGKILL');
    const s = await reset;
    expect(s).toMatchObject({ reason: 'failure', runtime: { exitCode: null, signal: 'SIGKILL' } });
    const next = await env.invoke({});
    expect(next.status).toBe('success');
    // A new runtime process: module scope was loaded again.
    expect((next.response as { loadedAt: number }).loadedAt).toBeGreaterThan(
      (first.response as { loadedAt: number }).loadedAt,
    );
    expect(env.lastInit).toMatchObject({ phase: 'invoke', status: 'success' });
  });
});

describe('shutdown', () => {
  it('SIGTERMs the runtime, sends SHUTDOWN with a 2 s deadline, and SIGKILLs a hanging extension at it', async () => {
    const dir = tempDir('sigterm-');
    const { env, probe } = await startWithProbes(
      {
        hangs: { onShutdown: { hang: true } },
        clean: { onShutdown: { sleepMs: 100 } },
        failing: { onShutdown: { exitCode: 3 } },
      },
      { env: { FIXTURE_SIGTERM_FILE: join(dir, 'sigterm') } },
    );
    await env.invoke({});
    const before = Date.now();
    const s = await env.shutdown('SPINDOWN');
    expect(existsSync(join(dir, 'sigterm'))).toBe(true);
    expect(s.reason).toBe('spindown');
    expect(s.runtime).toEqual({ exitCode: 0, signal: null });
    const byName = Object.fromEntries(s.extensions.map((e) => [e.name, e]));
    expect(byName.clean).toMatchObject({ state: 'Exited', exitCode: 0 });
    expect(byName.failing).toMatchObject({ state: 'ShutdownFailed', exitCode: 3 });
    expect(byName.hangs).toMatchObject({ state: 'ShutdownFailed', signal: 'SIGKILL' });
    // SIGKILL came at the deadline, not before: the shutdown lasted the whole 2 s budget.
    expect(s.durationMs).toBeGreaterThanOrEqual(2000);
    const event = probe.event('hangs', 'SHUTDOWN');
    expect(event.event).toEqual({
      eventType: 'SHUTDOWN',
      shutdownReason: 'spindown',
      deadlineMs: s.deadlineMs,
    });
    // deadlineMs is the shutdown's start + 2 s, and the hanging extension was killed only once it passed.
    expect(s.deadlineMs).toBeGreaterThanOrEqual(before + 2000);
    expect(s.deadlineMs).toBeLessThanOrEqual(Date.now());
    expect(s.deadlineMs).toBeGreaterThan(event.receivedAt);
    await expect(env.invoke({})).rejects.toBeInstanceOf(EnvironmentTerminatedError);
  });

  it('SIGKILLs the runtime at once when no extension is registered', async () => {
    const dir = tempDir('sigterm-');
    const env = await startFunction({ env: { FIXTURE_SIGTERM_FILE: join(dir, 'sigterm') } });
    await env.invoke({});
    const s = await env.shutdown();
    expect(s.runtime).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(existsSync(join(dir, 'sigterm'))).toBe(false);
  });

  it('leaves no process behind after dispose', async () => {
    const { env } = await startWithProbes({ a: {} });
    await env.invoke({});
    const pids = env.processes().map((p) => p.pid);
    expect(pids).toHaveLength(2);
    await env.dispose();
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});
