// Shutdown and reset: SIGTERM/SIGKILL of the runtime within its share of the
// budget, SHUTDOWN to the subscribers, SIGKILL at the deadline. A crash or timeout takes the same path
// as a reset; on Managed Instances a crash terminates the environment instead.
import { rmSync } from 'node:fs';
import { round3 } from '../clock.js';
import type { ExtensionShutdownState, ShutdownResult } from '../types.js';
import { deliver } from './extensions-api.js';
import { thaw } from './freeze.js';
import {
  type Failure,
  OUT_OF_MEMORY,
  REAP_MS,
  RUNTIME_SHUTDOWN_SHARE_MS,
  removeWorkDir,
  type Sandbox,
  SHUTDOWN_BUDGET_MS,
} from './sandbox.js';

/** A process died outside shutdown: fail what is running, or reset an idle environment. */
export function onCrash(env: Sandbox, crash: Failure): void {
  // Whichever process the kernel killed for memory, the environment went over its memory size.
  const failure = env.outOfMemory()
    ? {
        errorType: OUT_OF_MEMORY,
        message: `${crash.message}: the kernel killed it, the environment went over its memory size (${env.cfg.memoryMb} MB)`,
      }
    : crash;
  env.note(`${failure.errorType}: ${failure.message}`);
  if (env.mode === 'managed-instances') {
    // On Lambda Managed Instances a crash terminates the whole environment; there is no reset.
    env.failure ??= failure;
    env.terminated = true;
    env.terminationReason = `${failure.errorType} terminated the environment (Managed Instances have no reset): ${failure.message}`;
    env.poke();
    if (env.phase !== 'init') {
      void env.serial(async () => {
        const result = await shutdownProcesses(env, 'failure');
        env.events.emit('terminated', result);
      });
    }
    return;
  }
  if (env.phase === 'init' || env.phase === 'restore' || env.phase === 'invoke') {
    env.failure ??= failure;
    env.poke();
    return;
  }
  // Idle (frozen or between invokes): reset now, so SHUTDOWN subscribers hear about it. An invoke
  // that gets in first performs the same reset before anything else.
  if (env.pendingReset) return;
  env.pendingReset = true;
  void env.serial(() => resetIfPending(env));
}

/** Performs the reset an idle crash asked for, once, before anything else runs. */
export async function resetIfPending(env: Sandbox): Promise<void> {
  if (!env.pendingReset) return;
  env.pendingReset = false;
  const result = await shutdownProcesses(env, 'failure');
  env.needsInit = true;
  env.events.emit('reset', result);
}

/** The shutdown sequence with its budget; used for the final shutdown and for every reset. */
export async function shutdownProcesses(env: Sandbox, reason: string): Promise<ShutdownResult> {
  const previousPhase = env.phase;
  env.phase = 'shutdown';
  thaw(env);
  // Whatever the platform buffered (the last invoke's report) goes out before the SHUTDOWN event.
  env.relay.flushAll();
  const start = env.clock.now();
  const registered = env.slots.filter((s) => s.id !== undefined);
  const anyExternal = registered.some((s) => !s.internal);
  const budget = anyExternal
    ? SHUTDOWN_BUDGET_MS.external
    : registered.length
      ? SHUTDOWN_BUDGET_MS.internalOnly
      : SHUTDOWN_BUDGET_MS.none;
  const deadline = start + budget;
  const deadlineMs = Math.floor(Date.now() + budget);
  const runtime = env.runtime;

  // 1-2. The runtime first: SIGTERM when any extension is registered, SIGKILL after its share.
  if (runtime?.alive) {
    if (registered.length) {
      runtime.signal('SIGTERM');
      const share = anyExternal ? RUNTIME_SHUTDOWN_SHARE_MS : budget;
      await Promise.race([runtime.exited, env.sleep(share)]);
    }
    if (runtime.alive) runtime.signal('SIGKILL');
    await Promise.race([runtime.exited, env.sleep(REAP_MS)]);
  }
  // 3. SHUTDOWN to the subscribers; everything else is killed now.
  const body = JSON.stringify({ eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs });
  for (const s of env.slots) {
    if (s.internal || !s.proc?.alive) continue;
    // An extension that reported init/exit error is on its way out: it gets until the deadline.
    if (s.reportedError) continue;
    if (s.id && s.events.includes('SHUTDOWN')) deliver(s, { body, headers: {} });
    else s.proc.signal('SIGKILL');
  }
  // 4. SIGKILL whatever is still alive at the deadline.
  const external = env.slots.filter((s) => !s.internal && s.proc);
  await env.until(() => external.every((s) => !s.proc?.alive), deadline);
  // deadlineMs is wall-clock time as the extensions read it: never SIGKILL before it has passed.
  while (external.some((s) => s.proc?.alive) && Date.now() < deadlineMs) {
    await env.sleep(Math.max(1, deadlineMs - Date.now()));
  }
  for (const s of external) if (s.proc?.alive) s.proc.signal('SIGKILL');
  await Promise.race([Promise.all(external.map((s) => s.proc?.exited)), env.sleep(REAP_MS)]);

  const extensions: ExtensionShutdownState[] = external.map((s) => {
    const exit = s.proc?.exit;
    const state = s.crashed
      ? 'Crashed'
      : exit && exit.code === 0 && !s.proc?.killedByPlatform
        ? 'Exited'
        : 'ShutdownFailed';
    return { name: s.name, state, exitCode: exit?.code ?? null, signal: exit?.signal ?? null };
  });
  const result: ShutdownResult = {
    reason,
    durationMs: round3(env.clock.now() - start),
    deadlineMs,
    runtime: runtime ? { exitCode: runtime.exit?.code ?? null, signal: runtime.exit?.signal ?? null } : null,
    extensions,
  };
  env.relay.unsubscribeAll();
  for (const r of env.runtimeParked) r.error(410, 'Runtime.Gone', 'the environment was shut down');
  env.runtimeParked = [];
  env.restoreParked?.error(410, 'Runtime.Gone', 'the environment was shut down');
  env.restoreParked = undefined;
  // A snapshot dies with its processes: the next invoke re-runs Init and takes a new one.
  env.snapshotAt = undefined;
  env.pendingRestoreMs = undefined;
  env.runtime = undefined;
  env.slots = [];
  env.generation++;
  env.needsInit = true;
  env.phase = previousPhase === 'dead' ? 'dead' : 'idle';
  env.note(
    `shutdown (${reason}) in ${result.durationMs} ms: ${extensions.map((e) => `${e.name}=${e.state}`).join(', ') || 'no extensions'}`,
  );
  return result;
}

/** The APIs stop answering and /opt goes; /tmp stays for the caller to inspect. */
export async function close(env: Sandbox): Promise<void> {
  env.phase = 'dead';
  env.terminated = true;
  env.poke();
  env.relay.close();
  const server = env.server;
  env.server = undefined;
  if (server) await server.close();
  await env.ns?.close();
  rmSync(env.optDir, { recursive: true, force: true });
  if (!env.ownsTmp) removeWorkDir(env.workDir);
  // The groups can go once the kernel has taken their last task out; SIGKILLed ones take a moment.
  const groups = env.cgroups;
  if (groups) {
    const deadline = env.clock.now() + REAP_MS;
    while (!groups.remove() && env.clock.now() < deadline) await env.sleep(20);
  }
}
