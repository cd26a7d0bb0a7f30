// One invoke on an on-demand environment: thaw, re-run Init if a reset left
// it pending, release the event to the runtime and the INVOKE subscribers at once, wait until all of
// them are back in /next (or the deadline), report, then freeze or reset.
import { randomUUID } from 'node:crypto';
import { round3 } from '../clock.js';
import type { InvocationResult, InvocationStatus, InvokeOptions } from '../types.js';
import { toInvocationError } from '../wire.js';
import { EnvironmentTerminatedError } from './errors.js';
import { deliver } from './extensions-api.js';
import { freeze, thaw } from './freeze.js';
import { runInit } from './init.js';
import { releaseToRuntime } from './runtime-api.js';
import {
  type ExtensionSlot,
  type Failure,
  hex,
  type Invocation,
  OUT_OF_MEMORY,
  type Sandbox,
} from './sandbox.js';
import { resetIfPending, shutdownProcesses } from './shutdown.js';
import { restoreSnapshot, takeSnapshot } from './snap-start.js';

/** A fresh request id, epoch deadline, ARN and X-Ray trace header for one invoke. */
export function newInvocation(env: Sandbox, event: unknown, opts: InvokeOptions): Invocation {
  const start = env.clock.now();
  const epochSeconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  const arn = `arn:aws:lambda:${env.cfg.region}:${env.cfg.accountId}:function:${env.cfg.functionName}${
    opts.qualifier ? `:${opts.qualifier}` : ''
  }`;
  return {
    requestId: randomUUID(),
    start,
    deadlineMs: Math.floor(Date.now() + env.cfg.timeoutMs),
    traceId: opts.traceId ?? `Root=1-${epochSeconds}-${hex(12)};Parent=${hex(8)};Sampled=0`,
    arn,
    event: JSON.stringify(event === undefined ? {} : event),
    opts,
    runtimeDoneEmitted: false,
    extensionNext: new Map(),
    timedOut: false,
  };
}

/** One on-demand invoke, serialised by the caller; a timeout or crash resets the environment. */
export async function invokeOnDemand(
  env: Sandbox,
  event: unknown,
  opts: InvokeOptions,
): Promise<InvocationResult> {
  if (env.terminated || env.phase === 'dead') {
    throw new EnvironmentTerminatedError(env.terminationReason);
  }
  await resetIfPending(env);
  if (env.mode === 'snap-start') {
    const failed = await restoreBeforeInvoke(env);
    if (failed) return failed;
  }
  const inv = newInvocation(env, event, opts);
  // The deadline in the clock's time base (the wire carries epoch ms).
  const deadline = inv.start + env.cfg.timeoutMs;
  // From here a crash fails this invoke (it no longer resets an idle environment).
  env.phase = 'invoke';
  env.failure = undefined;
  env.markOomKills();
  const cpuBefore = env.cpuSnapshot();
  thaw(env);
  emitStart(env, inv);
  let initDurationMs: number | undefined;
  if (env.needsInit) {
    // A "suppressed init": Lambda re-runs Init inside this invoke, within the function timeout.
    const init = await runInit(env, 'invoke', deadline);
    initDurationMs = init.durationMs;
    if (init.status !== 'success') {
      const status: InvocationStatus = init.status === 'timeout' ? 'timeout' : 'failure';
      const durationMs = round3(env.clock.now() - inv.start);
      const errorType = init.errorType ?? 'Sandbox.Timedout';
      env.relay.emit('platform.report', {
        requestId: inv.requestId,
        status: init.status,
        ...(init.errorType ? { errorType: init.errorType } : {}),
        metrics: reportMetrics(env, durationMs, 0, undefined),
        tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
      });
      return {
        requestId: inv.requestId,
        status,
        error: {
          errorType,
          errorMessage: `init ${init.status} during the invoke: ${init.errorMessage ?? errorType}`,
        },
        errorType,
        durationMs,
        postRuntimeMs: 0,
        billedDurationMs: Math.ceil(durationMs),
        maxMemoryUsedMB: 0,
        initDurationMs,
      };
    }
  } else if (env.coldInitMs !== undefined) {
    initDurationMs = env.coldInitMs;
    env.coldInitMs = undefined;
  }
  const coldStart = initDurationMs !== undefined && env.initResult?.phase === 'init';

  env.phase = 'invoke';
  env.current = inv;
  env.inflight.set(inv.requestId, inv);
  release(env, inv);
  const invokeSubscribers = (): ExtensionSlot[] =>
    env.slots.filter((s) => s.id && s.events.includes('INVOKE'));
  const complete = await env.until(
    () =>
      env.failure !== undefined ||
      (inv.runtimeNextAt !== undefined && invokeSubscribers().every((s) => inv.extensionNext.has(s.name))),
    deadline,
  );
  const endAt = env.clock.now();
  const failure = env.failure as Failure | undefined;
  let status: InvocationStatus;
  let errorType: string | undefined;
  if (failure) {
    status = 'failure';
    errorType = failure.errorType;
  } else if (!complete) {
    status = 'timeout';
    inv.timedOut = true;
    errorType = 'Sandbox.Timedout';
  } else {
    status = inv.response?.status ?? 'error';
    errorType = inv.response?.errorType;
  }
  // Whichever process the kernel killed, going over the memory size is the function's error.
  const outOfMemory = env.outOfMemory();
  if (outOfMemory) {
    status = 'error';
    errorType = OUT_OF_MEMORY;
  }

  const runtimeNextAt = inv.runtimeNextAt;
  const lastExtensionNext = Math.max(...inv.extensionNext.values(), runtimeNextAt ?? 0);
  const finishedAt =
    status === 'success' || status === 'error' ? Math.max(runtimeNextAt ?? endAt, lastExtensionNext) : endAt;
  const postRuntimeMs =
    runtimeNextAt === undefined
      ? 0
      : round3(Math.max(0, (status === 'timeout' ? endAt : lastExtensionNext) - runtimeNextAt));
  const durationMs = round3(finishedAt - inv.start);
  if (!inv.runtimeDoneEmitted) {
    inv.runtimeDoneEmitted = true;
    env.relay.emit('platform.runtimeDone', {
      requestId: inv.requestId,
      status,
      ...(errorType && status !== 'timeout' ? { errorType } : {}),
      metrics: {
        durationMs: round3(endAt - (inv.releasedAt ?? inv.start)),
        producedBytes: inv.response?.bytes ?? 0,
      },
      tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
    });
  }
  const maxMemoryUsedMB = env.maxMemoryMb();
  // SnapStart: the Restore phase that preceded this invoke is reported (and billed) with it.
  const restoreDurationMs = env.pendingRestoreMs;
  env.pendingRestoreMs = undefined;
  const billedDurationMs = Math.ceil(
    durationMs + (coldStart ? (initDurationMs ?? 0) : 0) + (restoreDurationMs ?? 0),
  );
  env.relay.emit('platform.report', {
    requestId: inv.requestId,
    status,
    ...(errorType && status !== 'timeout' && status !== 'success' ? { errorType } : {}),
    metrics: {
      ...reportMetrics(env, durationMs, maxMemoryUsedMB, coldStart ? initDurationMs : undefined),
      billedDurationMs,
      ...(restoreDurationMs !== undefined ? { restoreDurationMs } : {}),
    },
    spans: [
      {
        name: 'extensionOverhead',
        start: new Date(runtimeNextAt ?? endAt).toISOString(),
        durationMs: postRuntimeMs,
      },
    ],
    tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
  });
  env.current = undefined;
  env.inflight.delete(inv.requestId);

  const result: InvocationResult = {
    requestId: inv.requestId,
    status,
    durationMs,
    postRuntimeMs,
    billedDurationMs,
    maxMemoryUsedMB,
    cpuMs: env.cpuSince(cpuBefore),
  };
  if (initDurationMs !== undefined) result.initDurationMs = initDurationMs;
  if (restoreDurationMs !== undefined) result.restoreDurationMs = restoreDurationMs;
  if (inv.response) {
    result.responseMs = round3(inv.response.receivedAt - inv.start);
    if (inv.response.status === 'success') result.response = inv.response.body;
    else result.error = toInvocationError(inv.response.body, inv.response.errorType);
  }
  if (errorType) result.errorType = errorType;
  if (status === 'timeout' && !result.error) {
    result.error = {
      errorType: 'Sandbox.Timedout',
      errorMessage: `Task timed out after ${(env.cfg.timeoutMs / 1000).toFixed(2)} seconds`,
    };
  }
  if (status === 'failure' && failure && !result.error) {
    result.error = { errorType: failure.errorType, errorMessage: failure.message };
  }
  if (outOfMemory) {
    result.error = {
      errorType: OUT_OF_MEMORY,
      errorMessage:
        failure?.errorType === OUT_OF_MEMORY
          ? failure.message
          : `the environment went over its memory size (${env.cfg.memoryMb} MB): the kernel killed one of its processes`,
    };
  }

  if (status === 'timeout' || status === 'failure' || outOfMemory) {
    // A timeout or a crash resets the environment: shutdown with that reason, re-init next time.
    const reset = await shutdownProcesses(env, status === 'timeout' ? 'timeout' : 'failure');
    env.needsInit = true;
    env.phase = 'idle';
    env.events.emit('reset', reset);
  } else {
    env.phase = 'idle';
    await freeze(env);
  }
  return result;
}

/**
 * SnapStart: before the first invoke after a snapshot, the Restore phase; after a reset (no snapshot
 * survives one), Init and a new snapshot first. Returns the invoke's result when either fails.
 */
async function restoreBeforeInvoke(env: Sandbox): Promise<InvocationResult | undefined> {
  const start = env.clock.now();
  const failed = (
    status: InvocationStatus,
    errorType: string,
    errorMessage: string,
    extra: Partial<InvocationResult> = {},
  ): InvocationResult => {
    const durationMs = round3(env.clock.now() - start);
    return {
      requestId: randomUUID(),
      status,
      error: { errorType, errorMessage },
      errorType,
      durationMs,
      postRuntimeMs: 0,
      billedDurationMs: Math.ceil(durationMs),
      maxMemoryUsedMB: 0,
      ...extra,
    };
  };
  if (env.needsInit) {
    const init = await runInit(env, 'init', start + env.cfg.initTimeoutMs);
    if (init.status !== 'success') {
      const errorType = init.errorType ?? 'Sandbox.Timedout';
      return failed(
        init.status === 'timeout' ? 'timeout' : 'failure',
        errorType,
        `SnapStart Init ${init.status} before the invoke: ${init.errorMessage ?? errorType}`,
        { initDurationMs: init.durationMs },
      );
    }
    await takeSnapshot(env);
  }
  if (env.snapshotAt === undefined) return undefined;
  const restore = await restoreSnapshot(env);
  if (restore.status === 'success') return undefined;
  // A failed restore discards the environment (the invoker sees SnapStartException or
  // SnapStartTimeoutException); here the next invoke re-runs Init and restores a new snapshot.
  const reset = await shutdownProcesses(env, restore.status === 'timeout' ? 'timeout' : 'failure');
  env.needsInit = true;
  env.phase = 'idle';
  env.events.emit('reset', reset);
  const errorType = restore.errorType ?? 'Runtime.Unknown';
  return failed(
    restore.status === 'timeout' ? 'timeout' : 'failure',
    errorType,
    `the Restore phase failed (${errorType}): ${restore.errorMessage ?? restore.status}`,
    { restoreDurationMs: restore.durationMs },
  );
}

/** platform.start for an invocation. */
export function emitStart(env: Sandbox, inv: Invocation): void {
  env.relay.emit('platform.start', {
    requestId: inv.requestId,
    version: env.cfg.functionVersion,
    ...(inv.opts.tenantId !== undefined ? { tenantId: inv.opts.tenantId } : {}),
    tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
  });
}

/** The metrics of a platform.report. */
export function reportMetrics(
  env: Sandbox,
  durationMs: number,
  maxMemoryUsedMB: number,
  initDurationMs: number | undefined,
) {
  return {
    durationMs,
    billedDurationMs: Math.ceil(durationMs),
    memorySizeMB: env.cfg.memoryMb,
    maxMemoryUsedMB,
    ...(initDurationMs !== undefined ? { initDurationMs } : {}),
  };
}

/** The runtime's /next and every INVOKE subscriber's /next are answered at the same moment. */
export function release(env: Sandbox, inv: Invocation): void {
  inv.releasedAt = env.clock.now();
  releaseToRuntime(env, inv);
  if (env.mode === 'managed-instances') return;
  const body = JSON.stringify({
    eventType: 'INVOKE',
    deadlineMs: inv.deadlineMs,
    requestId: inv.requestId,
    invokedFunctionArn: inv.arn,
    tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
  });
  for (const s of env.slots) {
    if (!s.id || !s.events.includes('INVOKE')) continue;
    deliver(s, {
      body,
      headers: { 'Content-Type': 'application/json', 'Lambda-Extension-Event-Identifier': randomUUID() },
    });
  }
}
