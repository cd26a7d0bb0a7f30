// SnapStart: Init ends with the runtime held in GET /runtime/restore/next
// (its before-snapshot hooks done) and every extension parked in /extension/event/next; the snapshot is
// emulated by stopping every process (SIGSTOP) for at least `snapshotMs` of wall time; the restore gives
// the environment a fresh platform-side network (pooled telemetry connections are dropped), thaws it,
// answers restore/next, and runs the Restore phase (after-restore hooks, 10 s limit, billed) until the
// runtime calls /runtime/invocation/next. Extensions get no RESTORE event: their parked /next simply
// answers with the INVOKE that follows.
//
// What cannot be reproduced with real processes: CLOCK_MONOTONIC of a restored microVM can jump
// backwards, while here it keeps running; wall time does jump forward by the snapshot's life, because
// the processes are stopped while it passes.
import { round3 } from '../clock.js';
import type { RestoreResult } from '../types.js';
import { freeze, thaw } from './freeze.js';
import {
  DEFAULT_SNAPSHOT_MS,
  type Failure,
  RESTORE_TIMEOUT_MS,
  type Sandbox,
  SNAPSHOT_HOOK_TIMEOUT_MS,
} from './sandbox.js';

/** The end of a successful SnapStart Init: every process stops, and a restore is due. */
export async function takeSnapshot(env: Sandbox): Promise<void> {
  await freeze(env);
  env.snapshotAt = Date.now();
  env.events.emit('snapshot');
}

/**
 * The Restore phase, at the first invoke after a snapshot. Resolves with how it went; on failure the
 * caller resets the environment (`env.failure` says why).
 */
export async function restoreSnapshot(env: Sandbox): Promise<RestoreResult> {
  const opts = env.cfg.snapStart ?? {};
  const snapshotAt = env.snapshotAt ?? Date.now();
  env.snapshotAt = undefined;
  const hookError = await runSnapshotHook(
    env,
    opts.onSnapshot,
    opts.hookTimeoutMs ?? SNAPSHOT_HOOK_TIMEOUT_MS,
  );
  // The snapshot lives at least snapshotMs of wall time, during which nothing in it runs.
  const left = snapshotAt + (opts.snapshotMs ?? DEFAULT_SNAPSHOT_MS) - Date.now();
  if (left > 0) await new Promise<void>((r) => setTimeout(r, left));
  const snapshotMs = round3(Date.now() - snapshotAt);

  // A restored microVM has a new network: connections the platform pooled before the snapshot are gone.
  env.relay.resetConnections();
  env.phase = 'restore';
  env.failure = undefined;
  const start = env.clock.now();
  const deadline = start + (opts.restoreTimeoutMs ?? RESTORE_TIMEOUT_MS);
  thaw(env);
  env.relay.emit('platform.restoreStart', {
    functionName: env.cfg.functionName,
    functionVersion: env.cfg.functionVersion,
    runtimeVersion: `nodejs:${env.nodeMajor}.local`,
    instanceMaxMemory: env.cfg.memoryMb,
  });
  const parked = env.restoreParked;
  env.restoreParked = undefined;
  // An empty 200: the runtime now runs its after-restore hooks, then asks for its first invoke.
  parked?.raw(200, '', {});
  const runtimeWaits = (): boolean => env.runtimeParked.some((r) => !r.done);
  const done = await env.until(() => env.failure !== undefined || runtimeWaits(), deadline);
  const durationMs = round3(env.clock.now() - start);
  // Set by the API handlers or a crash while we waited (TypeScript cannot see that).
  const failure = env.failure as Failure | undefined;
  let result: RestoreResult;
  if (failure) {
    result = {
      status: failure.errorType === 'Runtime.ExitError' ? 'failure' : 'error',
      errorType: failure.errorType,
      errorMessage: failure.message,
      durationMs,
      snapshotMs,
    };
  } else if (!done) {
    result = {
      status: 'timeout',
      errorType: 'Runtime.RestoreTimeout',
      errorMessage: `the Restore phase did not complete within its limit (${durationMs} ms): SnapStartTimeoutException`,
      durationMs,
      snapshotMs,
    };
  } else {
    result = { status: 'success', durationMs, snapshotMs };
  }
  const errorType = result.errorType ? { errorType: result.errorType } : {};
  env.relay.emit('platform.restoreRuntimeDone', { status: result.status, ...errorType });
  env.relay.emit('platform.restoreReport', { status: result.status, ...errorType, metrics: { durationMs } });
  if (result.status === 'success') env.pendingRestoreMs = durationMs;
  env.phase = 'idle';
  env.events.emit('restore', result);
  // The environment is restored either way; the caller still hears that its hook failed.
  if (hookError) throw hookError;
  return result;
}

/** Runs the caller's onSnapshot hook within its bound; returns its failure rather than throwing. */
async function runSnapshotHook(
  env: Sandbox,
  hook: (() => Promise<void> | void) | undefined,
  timeoutMs: number,
): Promise<Error | undefined> {
  if (!hook) return undefined;
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = env.clock.setTimeout(
      () => reject(new Error(`snapStart.onSnapshot did not settle within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([Promise.resolve().then(hook), timeout]);
    return undefined;
  } catch (err) {
    // The caller's hook failing is the caller's problem: the restore goes on, and the note says why.
    env.note(`snapStart.onSnapshot failed; restoring anyway: ${String(err)}`);
    return new Error(`snapStart.onSnapshot failed: ${(err as Error).message}`, { cause: err });
  } finally {
    cancel?.();
  }
}
