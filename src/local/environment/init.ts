// Init: launch every extension, start the runtime once they have all
// registered, wait for every registered extension's first /next, then report. A failed or timed-out
// Init shuts everything down so the next invoke re-runs it.
import { round3 } from '../clock.js';
import { discoverExtensions } from '../layout.js';
import { checkExecutable, LaunchError, ManagedProcess } from '../processes.js';
import type { InitResult } from '../types.js';
import type { ExtensionSlot, Sandbox } from './sandbox.js';
import { onCrash, shutdownProcesses } from './shutdown.js';

/** One Init phase: at start, or suppressed inside the first invoke after a reset (phase "invoke"). */
export async function runInit(env: Sandbox, phase: 'init' | 'invoke', deadline: number): Promise<InitResult> {
  env.phase = 'init';
  env.generation++;
  env.failure = undefined;
  env.runtimeReady = false;
  env.runtimeInitError = undefined;
  env.runtimeParked = [];
  env.slots = [];
  // Init is not held to the memory share; a new generation's Max Memory Used starts from here.
  env.cgroups?.enter('init');
  env.cgroups?.resetPeak();
  env.markOomKills();
  const start = env.clock.now();
  const initializationType = env.initializationType;
  env.relay.markInitStart();
  env.relay.emit('platform.initStart', {
    initializationType,
    phase,
    functionName: env.cfg.functionName,
    functionVersion: env.cfg.functionVersion,
    runtimeVersion: `nodejs:${env.nodeMajor}.local`,
  });
  env.registrationOpen = true;
  env.subscriptionOpen = true;

  let timedOut = false;
  const step = async (cond: () => boolean): Promise<boolean> => {
    if (env.failure || timedOut) return false;
    const ok = await env.until(() => env.failure !== undefined || cond(), deadline);
    if (!ok) timedOut = true;
    return ok && env.failure === undefined;
  };

  // 1. Launch every extension; Lambda execs them directly, alphabetically.
  for (const ext of discoverExtensions(env.optDir)) {
    const slot: ExtensionSlot = {
      name: ext.name,
      internal: false,
      path: ext.path,
      events: [],
      ready: false,
      crashed: false,
    };
    env.slots.push(slot);
    try {
      checkExecutable(ext.path);
      launchExtension(env, slot);
    } catch (err) {
      const message = err instanceof LaunchError ? err.message : String(err);
      env.failure = {
        errorType: 'Extension.LaunchError',
        message: `extension ${ext.name} could not start: ${message}`,
      };
      break;
    }
  }
  // 2. The runtime starts only after every external extension has registered.
  let runtimeStarted = false;
  if (await step(() => env.slots.every((s) => s.internal || s.id !== undefined))) {
    launchRuntime(env);
    runtimeStarted = true;
    await step(() => env.runtimeReady);
  }
  if (runtimeStarted) {
    const status = env.runtimeReady ? 'success' : timedOut && !env.failure ? 'timeout' : 'error';
    env.relay.emit('platform.initRuntimeDone', {
      initializationType,
      phase,
      status,
      ...(status === 'error' && env.failure ? { errorType: env.failure.errorType } : {}),
    });
  }
  // 3. Every registered extension (SHUTDOWN-only ones too) must call /next.
  if (runtimeStarted && env.runtimeReady) await step(() => env.slots.every((s) => !s.id || s.ready));
  env.registrationOpen = false;
  env.subscriptionOpen = false;
  env.cgroups?.enter('invoke');

  const status: InitResult['status'] = env.failure ? 'error' : timedOut ? 'timeout' : 'success';
  const durationMs = round3(env.clock.now() - start);
  if (status === 'success') {
    for (const s of env.slots) {
      if (s.id) env.relay.emit('platform.extension', { name: s.name, state: 'Ready', events: s.events });
    }
  }
  env.relay.emit('platform.initReport', {
    initializationType,
    phase,
    status,
    ...(env.failure ? { errorType: env.failure.errorType } : {}),
    metrics: { durationMs },
  });
  const result: InitResult = {
    phase,
    status,
    durationMs,
    ...(env.failure ? { errorType: env.failure.errorType, errorMessage: env.failure.message } : {}),
    ...(status === 'timeout'
      ? { errorMessage: `Init did not complete within its limit (${durationMs} ms)` }
      : {}),
  };
  env.initResult = result;
  env.events.emit('init', result);
  if (status === 'success') {
    env.needsInit = false;
    env.phase = 'idle';
  } else {
    const reason = status === 'timeout' ? 'timeout' : 'failure';
    const failure = env.failure;
    if (failure) env.note(`init failed (${failure.errorType}): ${failure.message}`);
    else env.note(`init timed out after ${durationMs} ms`);
    const shutdown = await shutdownProcesses(env, reason);
    env.events.emit('reset', shutdown);
    env.needsInit = true;
  }
  return result;
}

/** Execs one extension; its exit before SHUTDOWN is Extension.Crash (or the error it reported). */
export function launchExtension(env: Sandbox, slot: ExtensionSlot): void {
  const generation = env.generation;
  const proc = new ManagedProcess({
    role: 'extension',
    name: slot.name,
    command: slot.path as string,
    args: [],
    env: env.extensionEnv,
    cwd: env.optDir,
    launcher: env.launcher('extension', slot.name),
    onLine: (stream, text) => {
      env.captureLine({ role: 'extension', name: slot.name, stream, text });
      env.relay.emit('extension', text);
    },
  });
  slot.proc = proc;
  void proc.exited.then((exit) => {
    env.poke();
    if (generation !== env.generation || env.phase === 'shutdown' || env.phase === 'dead') return;
    slot.crashed = true;
    const errorType = slot.reportedError ?? 'Extension.Crash';
    onCrash(env, {
      errorType,
      message: `extension ${slot.name} exited (code ${exit.code}, signal ${exit.signal}) before SHUTDOWN`,
    });
  });
}

/** Starts the emulated runtime (through AWS_LAMBDA_EXEC_WRAPPER when set); its exit is Runtime.ExitError. */
export function launchRuntime(env: Sandbox): void {
  const generation = env.generation;
  const wrapper = env.runtimeEnv.AWS_LAMBDA_EXEC_WRAPPER;
  const command = wrapper ?? env.nodePath;
  const args = wrapper ? [env.nodePath, env.bootstrap] : [env.bootstrap];
  const proc = new ManagedProcess({
    role: 'runtime',
    name: 'function',
    command,
    args,
    env: { ...env.runtimeEnv, _LAMBDA_TELEMETRY_LOG_FD: '3' },
    cwd: env.cfg.codeDir,
    logFd: true,
    launcher: env.launcher('runtime', 'function'),
    onLine: (stream, text) => {
      env.captureLine({ role: 'runtime', name: 'function', stream, text });
      env.relay.emit('function', text);
    },
    onFrame: (frame) => {
      const text = frame.text.endsWith('\n') ? frame.text.slice(0, -1) : frame.text;
      env.captureLine({ role: 'runtime', name: 'function', stream: 'telemetry', text });
      let record: unknown = text;
      if (frame.json) {
        try {
          record = JSON.parse(text);
        } catch {
          record = text;
        }
      }
      env.relay.emit('function', record, frame.timeMs);
    },
  });
  env.runtime = proc;
  void proc.exited.then((exit) => {
    env.poke();
    if (generation !== env.generation || env.phase === 'shutdown' || env.phase === 'dead') return;
    const errorType =
      env.phase === 'init' && env.runtimeInitError ? env.runtimeInitError : 'Runtime.ExitError';
    onCrash(env, {
      errorType,
      message: `Runtime exited with error: ${exit.signal ? `signal: ${exit.signal}` : `exit status ${exit.code}`}`,
    });
  });
}
