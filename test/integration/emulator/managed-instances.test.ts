// Lambda Managed Instances mode: SHUTDOWN-only registration, concurrent invokes in one environment,
// no freeze, no platform.runtimeDone, schema 2025-01-29 only, a crash terminates the environment.
import { describe, expect, it } from 'vitest';
import {
  EnvironmentTerminatedError,
  type ShutdownResult,
  TooManyRequestsError,
} from '../../../src/local/index.js';
import { errorTypeOf, processState, startFunction, startWithProbes } from './helpers.js';

const lmi = { mode: 'managed-instances' as const };
const schema2025 = { schemaVersion: '2025-01-29' };

describe('managed instances', () => {
  it('refuses INVOKE registration with Extension.InvalidEventType and accepts SHUTDOWN only', async () => {
    const { env, probe } = await startWithProbes(
      {
        invoker: { events: ['INVOKE', 'SHUTDOWN'] },
        shutdownonly: { events: ['SHUTDOWN'] },
      },
      { ...lmi, initTimeoutMs: 4000 },
    );
    const invoker = probe.of('invoker', 'register')[0]?.data;
    expect(invoker.status).toBe(403);
    expect(errorTypeOf(invoker)).toBe('Extension.InvalidEventType');
    expect(probe.of('shutdownonly', 'register')[0]?.data.status).toBe(200);
    expect(env.lastInit?.status).toBe('timeout');
  });

  it('runs invocations concurrently in one environment and never freezes it', async () => {
    const { env } = await startWithProbes(
      { watcher: { events: ['SHUTDOWN'], telemetry: schema2025 } },
      { ...lmi, maxConcurrency: 2 },
    );
    let frozen = 0;
    env.on('frozen', () => frozen++);
    // A waits for a file that only B writes: with one invoke at a time, A would give up.
    const a = env.invoke({ action: 'wait-file', file: 'from-b', ms: 5000 });
    const b = env.invoke({ action: 'tmp-write', file: 'from-b', content: 'b' });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.response).toEqual({ found: true });
    expect(rb.status).toBe('success');
    expect(frozen).toBe(0);
    expect(env.isFrozen).toBe(false);
    for (const p of env.processes()) {
      expect(processState(p.pid)).not.toBe('T');
    }
    await env.shutdown();
    const types = env.telemetry.map((t) => t.type);
    expect(types).not.toContain('platform.runtimeDone');
    const report = env.telemetry.find(
      (t) => t.type === 'platform.report' && (t.record as { requestId: string }).requestId === ra.requestId,
    )?.record as { metrics: Record<string, number>; spans: { name: string }[] };
    expect(Object.keys(report.metrics)).toEqual(['durationMs']);
    expect(report.spans.map((s) => s.name)).toEqual(['responseLatency', 'responseDuration']);
    const init = env.telemetry.find((t) => t.type === 'platform.initStart')?.record;
    expect(init).toMatchObject({ initializationType: 'lambda-managed-instances' });
  });

  it('accepts only Telemetry schema 2025-01-29', async () => {
    const { probe } = await startWithProbes(
      {
        old: { events: ['SHUTDOWN'], telemetry: { schemaVersion: '2022-12-13' } },
        current: { events: ['SHUTDOWN'], telemetry: schema2025 },
      },
      lmi,
    );
    const old = probe.of('old', 'subscribe')[0]?.data;
    expect(old.status).toBe(400);
    expect(errorTypeOf(old)).toBe('ValidationError');
    expect(probe.of('current', 'subscribe')[0]?.data.status).toBe(200);
  });

  it('gives AWS_LAMBDA_MAX_CONCURRENCY to the runtime alone', async () => {
    const { env, probe } = await startWithProbes(
      { envcheck: { events: ['SHUTDOWN'] } },
      { ...lmi, maxConcurrency: 3 },
    );
    const runtimeVars = ((await env.invoke({ action: 'env' })).response as { env: Record<string, string> })
      .env;
    const extVars = probe.of('envcheck', 'register')[0]?.data.env as Record<string, string>;
    expect(runtimeVars.AWS_LAMBDA_MAX_CONCURRENCY).toBe('3');
    expect(runtimeVars.AWS_LAMBDA_INITIALIZATION_TYPE).toBe('lambda-managed-instances');
    expect(extVars.AWS_LAMBDA_MAX_CONCURRENCY).toBeUndefined();
    expect(extVars.AWS_LAMBDA_INITIALIZATION_TYPE).toBe('lambda-managed-instances');
  });

  it('reports a timeout without stopping the code, whose worker stays busy', async () => {
    const env = await startFunction({ ...lmi, maxConcurrency: 1, timeoutMs: 300 });
    const r = await env.invoke({ action: 'sleep', ms: 10_000 });
    expect(r.status).toBe('timeout');
    // The only worker is still running the timed-out invoke: a new one is rejected.
    await expect(env.invoke({})).rejects.toBeInstanceOf(TooManyRequestsError);
  });

  it('terminates the environment, without a reset, when an extension crashes', async () => {
    const { env, probe } = await startWithProbes({ victim: { events: ['SHUTDOWN'] } }, { ...lmi });
    expect((await env.invoke({})).status).toBe('success');
    const terminated = new Promise<ShutdownResult>((resolve) => env.once('terminated', resolve));
    const victim = env.processes().find((p) => p.name === 'victim');
    process.kill(victim?.pid as number, 'SIGKILL');
    const s = await terminated;
    expect(s.extensions).toEqual([{ name: 'victim', state: 'Crashed', exitCode: null, signal: 'SIGKILL' }]);
    await expect(env.invoke({})).rejects.toBeInstanceOf(EnvironmentTerminatedError);
    expect(probe.of('victim', 'register')).toHaveLength(1);
  });
});
