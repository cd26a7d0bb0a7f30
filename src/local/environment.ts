// One emulated Lambda execution environment. It follows /work/shared/lambda-platform.md: the
// Init sequence (extensions register, then the runtime starts), invoke release to the runtime and the
// INVOKE subscribers at once, freeze (SIGSTOP of every process group) once all are parked in `next`,
// timeouts and crashes as resets, the shutdown budget with SIGTERM/SHUTDOWN/SIGKILL, and the Telemetry
// API records in the platform's order.
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiRequest, type ApiServer, type Reply, startApiServer } from './api-server.js';
import { type Clock, round3, systemClock } from './clock.js';
import {
  discoverExtensions,
  extensionVariables,
  logStreamName,
  mergeLayers,
  nodeMajorOf,
  runtimeVariables,
} from './layout.js';
import { checkExecutable, isStopped, LaunchError, ManagedProcess, peakMemoryKb } from './processes.js';
import { parseSubscription, TelemetryRelay } from './telemetry.js';
import type {
  EnvironmentEvents,
  EnvironmentProcess,
  ExtensionShutdownState,
  InitResult,
  InvocationResult,
  InvocationStatus,
  InvokeOptions,
  LocalFunctionConfig,
  OutputLine,
  ShutdownResult,
  TelemetryRecord,
} from './types.js';
import {
  type EventName,
  header,
  normaliseErrorType,
  parseJson,
  parseRegistration,
  toInvocationError,
  UUID_RE,
} from './wire.js';

/** Internal and external extensions together (Extensions API). */
export const MAX_EXTENSIONS = 10;
/** Shutdown budgets (Extensions API / execution environment docs). */
export const SHUTDOWN_BUDGET_MS = { external: 2_000, internalOnly: 500, none: 0 } as const;
/** The runtime's share of the budget when an external extension is registered (the docs' 300 ms). */
export const RUNTIME_SHUTDOWN_SHARE_MS = 300;
/** Lambda Managed Instances: init may take max(130 s, function timeout). */
const LMI_MIN_INIT_MS = 130_000;
/** How long freeze() waits for the kernel to show the processes stopped. */
const FREEZE_CONFIRM_MS = 500;
/** How long to wait for an already SIGKILLed process to be reaped before giving up on it. */
const REAP_MS = 2_000;

type Phase = 'init' | 'idle' | 'invoke' | 'shutdown' | 'dead';

interface PendingEvent {
  body: string;
  headers: Record<string, string>;
}

interface ExtensionSlot {
  name: string;
  internal: boolean;
  path?: string;
  proc?: ManagedProcess;
  id?: string;
  events: EventName[];
  ready: boolean;
  parked?: Reply;
  pending?: PendingEvent;
  /** `Extension.InitError` / `Extension.ExitError` once the extension reported one. */
  reportedError?: string;
  crashed: boolean;
}

interface RuntimeResponse {
  status: 'success' | 'error';
  body: unknown;
  /** Normalised platform errorType for /error. */
  errorType?: string;
  startedAt: number;
  receivedAt: number;
  bytes: number;
}

interface Invocation {
  requestId: string;
  start: number;
  deadlineMs: number;
  traceId: string;
  arn: string;
  event: string;
  opts: InvokeOptions;
  releasedAt?: number;
  response?: RuntimeResponse;
  runtimeNextAt?: number;
  runtimeDoneEmitted: boolean;
  extensionNext: Map<string, number>;
  timedOut: boolean;
}

interface Failure {
  errorType: string;
  message: string;
}

/**
 * Work directories (merged /opt, and /tmp unless the caller named one) the emulator made in this
 * process. They outlive shutdown, so a test can read /tmp afterwards, and go when the process exits.
 */
const ownedWorkDirs = new Set<string>();
let exitCleanupInstalled = false;
function ownWorkDir(dir: string): void {
  ownedWorkDirs.add(dir);
  if (exitCleanupInstalled) return;
  exitCleanupInstalled = true;
  process.once('exit', () => {
    for (const d of ownedWorkDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** invoke() on managed instances when every runtime worker is busy. */
export class TooManyRequestsError extends Error {
  override readonly name = 'TooManyRequestsError';
}

/** invoke() after shutdown(), dispose() or (managed instances) a crash that terminated the environment. */
export class EnvironmentTerminatedError extends Error {
  override readonly name = 'EnvironmentTerminatedError';
}

/** Finds the emulated runtime: next to the bundled CLI, or in <repo>/dist when run from src. */
export function defaultRuntimeBootstrap(): string {
  const candidates = [
    fileURLToPath(new URL('./local/runtime.mjs', import.meta.url)),
    fileURLToPath(new URL('../../dist/local/runtime.mjs', import.meta.url)),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      `the emulated Node.js runtime is not built (looked for ${candidates.join(', ')}); run \`node layer/build.mjs\``,
    );
  }
  return found;
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** One emulated Lambda execution environment: real processes, real freeze. */
export class LambdaEnvironment extends EventEmitter<EnvironmentEvents> {
  readonly tmpDir: string;
  /** The merged /opt of this environment (symlinks into the layers). */
  readonly optDir: string;
  readonly mode: 'on-demand' | 'managed-instances';

  private readonly clock: Clock;
  private readonly cfg: Required<
    Pick<
      LocalFunctionConfig,
      'timeoutMs' | 'memoryMb' | 'functionName' | 'functionVersion' | 'region' | 'accountId' | 'initTimeoutMs'
    >
  > &
    LocalFunctionConfig;
  private readonly relay: TelemetryRelay;
  private readonly workDir: string;
  private readonly ownsTmp: boolean;
  private server: ApiServer | undefined;
  private runtimeEnv: Record<string, string> = {};
  private extensionEnv: Record<string, string> = {};
  private readonly bootstrap: string;
  private readonly nodePath: string;
  private readonly nodeMajor: number;
  private readonly outputLines: string[] = [];

  private phase: Phase = 'init';
  private generation = 0;
  private slots: ExtensionSlot[] = [];
  private runtime: ManagedProcess | undefined;
  private runtimeParked: Reply[] = [];
  private runtimeReady = false;
  private runtimeInitError: string | undefined;
  private registrationOpen = false;
  private subscriptionOpen = false;
  private failure: Failure | undefined;
  private needsInit = true;
  private coldInitMs: number | undefined;
  private frozen = false;
  private terminated = false;
  private closing = false;
  private terminationReason = 'the environment has been shut down; start a new one';
  private pendingReset = false;
  private finalShutdown: Promise<ShutdownResult> | undefined;
  private current: Invocation | undefined;
  private readonly inflight = new Map<string, Invocation>();
  private readonly queued: Invocation[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly waiters = new Set<() => void>();
  private initResult: InitResult | undefined;
  private readonly startedAt: number;

  private constructor(config: LocalFunctionConfig, clock: Clock) {
    super();
    this.clock = clock;
    this.startedAt = clock.now();
    this.mode = config.mode ?? 'on-demand';
    const timeoutMs = config.timeoutMs ?? 3_000;
    this.cfg = {
      ...config,
      codeDir: resolve(config.codeDir),
      timeoutMs,
      memoryMb: config.memoryMb ?? 128,
      functionName: config.functionName ?? 'local-function',
      functionVersion: config.functionVersion ?? '$LATEST',
      region: config.region ?? 'us-east-1',
      accountId: config.accountId ?? '123456789012',
      initTimeoutMs:
        config.initTimeoutMs ??
        (this.mode === 'managed-instances' ? Math.max(LMI_MIN_INIT_MS, timeoutMs) : 10_000),
    };
    if (!existsSync(this.cfg.codeDir) || !statSync(this.cfg.codeDir).isDirectory()) {
      throw new Error(`codeDir ${this.cfg.codeDir} is not a directory: there is no function code to run`);
    }
    this.bootstrap = config.runtimeBootstrap ?? defaultRuntimeBootstrap();
    this.nodePath = config.nodePath ? resolve(config.nodePath) : process.execPath;
    this.nodeMajor = nodeMajorOf(this.nodePath);
    // Everything that can fail on bad input is checked above: from here on, close() cleans up.
    this.workDir = mkdtempSync(join(tmpdir(), 'lambda-env-'));
    ownWorkDir(this.workDir);
    this.optDir = join(this.workDir, 'opt');
    this.ownsTmp = config.tmpDir === undefined;
    this.tmpDir = config.tmpDir ? resolve(config.tmpDir) : join(this.workDir, 'tmp');
    mkdirSync(this.tmpDir, { recursive: true });
    this.relay = new TelemetryRelay({
      clock,
      onRecord: (rec) => this.emit('telemetry', rec),
      onDeliveryError: (name, err) =>
        this.note(`telemetry delivery to ${name} failed after retries; batch dropped: ${String(err)}`),
    });
  }

  /**
   * Runs Init (extensions register, runtime inits). Resolves even when Init fails or times out, as
   * Lambda then retries it at the first invoke: see `lastInit`.
   */
  static async start(config: LocalFunctionConfig, clock: Clock = systemClock): Promise<LambdaEnvironment> {
    const env = new LambdaEnvironment(config, clock);
    try {
      mergeLayers(config.layers ?? [], env.optDir);
      env.server = await startApiServer(
        (req, reply) => env.route(req, reply),
        () => clock.now(),
      );
      const runtimeApi = env.runtimeApi;
      env.runtimeEnv = runtimeVariables({
        functionName: env.cfg.functionName,
        functionVersion: env.cfg.functionVersion,
        memoryMb: env.cfg.memoryMb,
        region: env.cfg.region,
        initializationType: env.initializationType,
        runtimeApi,
        codeDir: env.cfg.codeDir,
        optDir: env.optDir,
        tmpDir: env.tmpDir,
        handler: env.cfg.handler,
        nodePath: env.nodePath,
        nodeMajor: env.nodeMajor,
        runtimeDir: dirname(env.bootstrap),
        maxConcurrency: env.mode === 'managed-instances' ? env.maxConcurrency : undefined,
        customer: config.env ?? {},
        logStreamName: logStreamName(env.cfg.functionVersion, clock.now(), hex(16)),
      });
      env.extensionEnv = extensionVariables(env.runtimeEnv);
      const result = await env.runInit('init', clock.now() + env.cfg.initTimeoutMs);
      if (result.status === 'success') env.coldInitMs = result.durationMs;
      else if (env.mode === 'managed-instances') {
        env.terminated = true;
        env.terminationReason = `init failed (${result.errorType ?? result.status}); a Managed Instances environment is not repaired`;
      }
      if (result.status === 'success') await env.freeze();
    } catch (err) {
      await env.dispose();
      throw err;
    }
    return env;
  }

  // ---------------------------------------------------------------- public surface

  /** Every record the platform generated, in order. */
  get telemetry(): readonly TelemetryRecord[] {
    return this.relay.records;
  }

  /** The last init phase (the cold start, or a re-init after a reset). */
  get lastInit(): InitResult | undefined {
    return this.initResult;
  }

  /** The port of this environment's Runtime/Extensions/Telemetry API (AWS_LAMBDA_RUNTIME_API). */
  get runtimeApi(): string {
    return `127.0.0.1:${this.server?.port ?? 0}`;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** The variables the runtime / an extension process is started with. */
  variables(role: 'runtime' | 'extension'): Readonly<Record<string, string>> {
    return role === 'runtime' ? this.runtimeEnv : this.extensionEnv;
  }

  async invoke(event: unknown, opts: InvokeOptions = {}): Promise<InvocationResult> {
    if (this.terminated || this.closing || this.phase === 'dead') {
      throw new EnvironmentTerminatedError(this.terminationReason);
    }
    if (this.mode === 'managed-instances') return this.invokeManaged(event, opts);
    return this.serial(() => this.invokeOnDemand(event, opts));
  }

  /** Shuts the environment down (SIGTERM runtime, SHUTDOWN to extensions, SIGKILL at the deadline). */
  shutdown(reason = 'spindown'): Promise<ShutdownResult> {
    if (!this.finalShutdown) {
      this.closing = true;
      this.finalShutdown = this.serial(async () => {
        const result = await this.shutdownProcesses(reason.toLowerCase());
        await this.close();
        return result;
      });
    }
    return this.finalShutdown;
  }

  /**
   * Kills every process at once (SIGKILL) and closes the APIs; safe to call any time, e.g. in afterEach.
   * The environment's /tmp is kept (tests inspect it) unless `removeTmp` is set and the emulator made it.
   */
  async dispose(opts: { removeTmp?: boolean } = {}): Promise<void> {
    const procs = this.allProcesses();
    for (const p of procs) p.signal('SIGKILL');
    await Promise.race([Promise.all(procs.map((p) => p.exited)), this.sleep(REAP_MS)]);
    await this.close();
    if (opts.removeTmp && this.ownsTmp) {
      rmSync(this.workDir, { recursive: true, force: true });
      ownedWorkDirs.delete(this.workDir);
    }
  }

  processes(): EnvironmentProcess[] {
    return this.allProcesses()
      .filter((p) => p.alive && p.pid > 0)
      .map((p) => ({ role: p.role, name: p.name, pid: p.pid }));
  }

  /** Captured stdout/stderr/log lines of every process, labelled. */
  output(): string {
    return this.outputLines.join('\n');
  }

  /**
   * The records of one invocation, in order: platform records carrying its requestId, and function
   * logs that name it (text logs carry the requestId as their second field, JSON logs as a property).
   */
  recordsFor(requestId: string): TelemetryRecord[] {
    return this.relay.records.filter((r) => {
      if (typeof r.record === 'string') return r.type === 'function' && r.record.includes(`\t${requestId}\t`);
      return (r.record as { requestId?: unknown } | null)?.requestId === requestId;
    });
  }

  /** Resolves with the first record (already generated or to come) that matches, or rejects at the timeout. */
  waitForRecord(match: (r: TelemetryRecord) => boolean, timeoutMs = 10_000): Promise<TelemetryRecord> {
    const found = this.relay.records.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolveWait, reject) => {
      const onRecord = (r: TelemetryRecord): void => {
        if (!match(r)) return;
        this.off('telemetry', onRecord);
        cancel();
        resolveWait(r);
      };
      const cancel = this.clock.setTimeout(() => {
        this.off('telemetry', onRecord);
        reject(new Error(`no matching telemetry record within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('telemetry', onRecord);
    });
  }

  // ---------------------------------------------------------------- init

  private get initializationType(): string {
    return this.mode === 'managed-instances' ? 'lambda-managed-instances' : 'on-demand';
  }

  private get maxConcurrency(): number {
    return Math.max(1, this.cfg.maxConcurrency ?? 4);
  }

  private async runInit(phase: 'init' | 'invoke', deadline: number): Promise<InitResult> {
    this.phase = 'init';
    this.generation++;
    this.failure = undefined;
    this.runtimeReady = false;
    this.runtimeInitError = undefined;
    this.runtimeParked = [];
    this.slots = [];
    const start = this.clock.now();
    const initializationType = this.initializationType;
    this.relay.markInitStart();
    this.relay.emit('platform.initStart', {
      initializationType,
      phase,
      functionName: this.cfg.functionName,
      functionVersion: this.cfg.functionVersion,
      runtimeVersion: `nodejs:${this.nodeMajor}.local`,
    });
    this.registrationOpen = true;
    this.subscriptionOpen = true;

    let timedOut = false;
    const step = async (cond: () => boolean): Promise<boolean> => {
      if (this.failure || timedOut) return false;
      const ok = await this.until(() => this.failure !== undefined || cond(), deadline);
      if (!ok) timedOut = true;
      return ok && this.failure === undefined;
    };

    // 1. Launch every extension; Lambda execs them directly, alphabetically.
    for (const ext of discoverExtensions(this.optDir)) {
      const slot: ExtensionSlot = {
        name: ext.name,
        internal: false,
        path: ext.path,
        events: [],
        ready: false,
        crashed: false,
      };
      this.slots.push(slot);
      try {
        checkExecutable(ext.path);
        this.launchExtension(slot);
      } catch (err) {
        const message = err instanceof LaunchError ? err.message : String(err);
        this.failure = {
          errorType: 'Extension.LaunchError',
          message: `extension ${ext.name} could not start: ${message}`,
        };
        break;
      }
    }
    // 2. The runtime starts only after every external extension has registered.
    let runtimeStarted = false;
    if (await step(() => this.slots.every((s) => s.internal || s.id !== undefined))) {
      this.launchRuntime();
      runtimeStarted = true;
      await step(() => this.runtimeReady);
    }
    if (runtimeStarted) {
      const status = this.runtimeReady ? 'success' : timedOut && !this.failure ? 'timeout' : 'error';
      this.relay.emit('platform.initRuntimeDone', {
        initializationType,
        phase,
        status,
        ...(status === 'error' && this.failure ? { errorType: this.failure.errorType } : {}),
      });
    }
    // 3. Every registered extension (SHUTDOWN-only ones too) must call /next.
    if (runtimeStarted && this.runtimeReady) await step(() => this.slots.every((s) => !s.id || s.ready));
    this.registrationOpen = false;
    this.subscriptionOpen = false;

    const status: InitResult['status'] = this.failure ? 'error' : timedOut ? 'timeout' : 'success';
    const durationMs = round3(this.clock.now() - start);
    if (status === 'success') {
      for (const s of this.slots) {
        if (s.id) this.relay.emit('platform.extension', { name: s.name, state: 'Ready', events: s.events });
      }
    }
    this.relay.emit('platform.initReport', {
      initializationType,
      phase,
      status,
      ...(this.failure ? { errorType: this.failure.errorType } : {}),
      metrics: { durationMs },
    });
    const result: InitResult = {
      phase,
      status,
      durationMs,
      ...(this.failure ? { errorType: this.failure.errorType, errorMessage: this.failure.message } : {}),
      ...(status === 'timeout'
        ? { errorMessage: `Init did not complete within its limit (${durationMs} ms)` }
        : {}),
    };
    this.initResult = result;
    this.emit('init', result);
    if (status === 'success') {
      this.needsInit = false;
      this.phase = 'idle';
    } else {
      const reason = status === 'timeout' ? 'timeout' : 'failure';
      const failure = this.failure;
      if (failure) this.note(`init failed (${failure.errorType}): ${failure.message}`);
      else this.note(`init timed out after ${durationMs} ms`);
      const shutdown = await this.shutdownProcesses(reason);
      this.emit('reset', shutdown);
      this.needsInit = true;
    }
    return result;
  }

  private launchExtension(slot: ExtensionSlot): void {
    const generation = this.generation;
    const proc = new ManagedProcess({
      role: 'extension',
      name: slot.name,
      command: slot.path as string,
      args: [],
      env: this.extensionEnv,
      cwd: this.optDir,
      onLine: (stream, text) => {
        this.captureLine({ role: 'extension', name: slot.name, stream, text });
        this.relay.emit('extension', text);
      },
    });
    slot.proc = proc;
    void proc.exited.then((exit) => {
      this.poke();
      if (generation !== this.generation || this.phase === 'shutdown' || this.phase === 'dead') return;
      slot.crashed = true;
      const errorType = slot.reportedError ?? 'Extension.Crash';
      this.onCrash({
        errorType,
        message: `extension ${slot.name} exited (code ${exit.code}, signal ${exit.signal}) before SHUTDOWN`,
      });
    });
  }

  private launchRuntime(): void {
    const generation = this.generation;
    const wrapper = this.runtimeEnv.AWS_LAMBDA_EXEC_WRAPPER;
    const command = wrapper ?? this.nodePath;
    const args = wrapper ? [this.nodePath, this.bootstrap] : [this.bootstrap];
    const proc = new ManagedProcess({
      role: 'runtime',
      name: 'function',
      command,
      args,
      env: { ...this.runtimeEnv, _LAMBDA_TELEMETRY_LOG_FD: '3' },
      cwd: this.cfg.codeDir,
      logFd: true,
      onLine: (stream, text) => {
        this.captureLine({ role: 'runtime', name: 'function', stream, text });
        this.relay.emit('function', text);
      },
      onFrame: (frame) => {
        const text = frame.text.endsWith('\n') ? frame.text.slice(0, -1) : frame.text;
        this.captureLine({ role: 'runtime', name: 'function', stream: 'telemetry', text });
        let record: unknown = text;
        if (frame.json) {
          try {
            record = JSON.parse(text);
          } catch {
            record = text;
          }
        }
        this.relay.emit('function', record, frame.timeMs);
      },
    });
    this.runtime = proc;
    void proc.exited.then((exit) => {
      this.poke();
      if (generation !== this.generation || this.phase === 'shutdown' || this.phase === 'dead') return;
      const errorType =
        this.phase === 'init' && this.runtimeInitError ? this.runtimeInitError : 'Runtime.ExitError';
      this.onCrash({
        errorType,
        message: `Runtime exited with error: ${exit.signal ? `signal: ${exit.signal}` : `exit status ${exit.code}`}`,
      });
    });
  }

  /** A process died outside shutdown: fail what is running, or reset an idle environment. */
  private onCrash(failure: Failure): void {
    this.note(`${failure.errorType}: ${failure.message}`);
    if (this.mode === 'managed-instances') {
      // On Lambda Managed Instances a crash terminates the whole environment; there is no reset.
      this.failure ??= failure;
      this.terminated = true;
      this.terminationReason = `${failure.errorType} terminated the environment (Managed Instances have no reset): ${failure.message}`;
      this.poke();
      if (this.phase !== 'init') {
        void this.serial(async () => {
          const result = await this.shutdownProcesses('failure');
          this.emit('terminated', result);
        });
      }
      return;
    }
    if (this.phase === 'init' || this.phase === 'invoke') {
      this.failure ??= failure;
      this.poke();
      return;
    }
    // Idle (frozen or between invokes): reset now, so SHUTDOWN subscribers hear about it. An invoke
    // that gets in first performs the same reset before anything else.
    if (this.pendingReset) return;
    this.pendingReset = true;
    void this.serial(() => this.resetIfPending());
  }

  private async resetIfPending(): Promise<void> {
    if (!this.pendingReset) return;
    this.pendingReset = false;
    const result = await this.shutdownProcesses('failure');
    this.needsInit = true;
    this.emit('reset', result);
  }

  // ---------------------------------------------------------------- invoke (on-demand)

  private newInvocation(event: unknown, opts: InvokeOptions): Invocation {
    const start = this.clock.now();
    const epochSeconds = Math.floor(Date.now() / 1000)
      .toString(16)
      .padStart(8, '0');
    const arn = `arn:aws:lambda:${this.cfg.region}:${this.cfg.accountId}:function:${this.cfg.functionName}${
      opts.qualifier ? `:${opts.qualifier}` : ''
    }`;
    return {
      requestId: randomUUID(),
      start,
      deadlineMs: Math.floor(Date.now() + this.cfg.timeoutMs),
      traceId: opts.traceId ?? `Root=1-${epochSeconds}-${hex(12)};Parent=${hex(8)};Sampled=0`,
      arn,
      event: JSON.stringify(event === undefined ? {} : event),
      opts,
      runtimeDoneEmitted: false,
      extensionNext: new Map(),
      timedOut: false,
    };
  }

  private async invokeOnDemand(event: unknown, opts: InvokeOptions): Promise<InvocationResult> {
    if (this.terminated || this.phase === 'dead') {
      throw new EnvironmentTerminatedError(this.terminationReason);
    }
    await this.resetIfPending();
    const inv = this.newInvocation(event, opts);
    // The deadline in the clock's time base (the wire carries epoch ms).
    const deadline = inv.start + this.cfg.timeoutMs;
    // From here a crash fails this invoke (it no longer resets an idle environment).
    this.phase = 'invoke';
    this.failure = undefined;
    this.thaw();
    this.emitStart(inv);
    let initDurationMs: number | undefined;
    if (this.needsInit) {
      // A "suppressed init": Lambda re-runs Init inside this invoke, within the function timeout.
      const init = await this.runInit('invoke', deadline);
      initDurationMs = init.durationMs;
      if (init.status !== 'success') {
        const status: InvocationStatus = init.status === 'timeout' ? 'timeout' : 'failure';
        const durationMs = round3(this.clock.now() - inv.start);
        const errorType = init.errorType ?? 'Sandbox.Timedout';
        this.relay.emit('platform.report', {
          requestId: inv.requestId,
          status: init.status,
          ...(init.errorType ? { errorType: init.errorType } : {}),
          metrics: this.reportMetrics(durationMs, 0, undefined),
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
    } else if (this.coldInitMs !== undefined) {
      initDurationMs = this.coldInitMs;
      this.coldInitMs = undefined;
    }
    const coldStart = initDurationMs !== undefined && this.initResult?.phase === 'init';

    this.phase = 'invoke';
    this.current = inv;
    this.inflight.set(inv.requestId, inv);
    this.release(inv);
    const invokeSubscribers = (): ExtensionSlot[] =>
      this.slots.filter((s) => s.id && s.events.includes('INVOKE'));
    const complete = await this.until(
      () =>
        this.failure !== undefined ||
        (inv.runtimeNextAt !== undefined && invokeSubscribers().every((s) => inv.extensionNext.has(s.name))),
      deadline,
    );
    const endAt = this.clock.now();
    const failure = this.failure as Failure | undefined;
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

    const runtimeNextAt = inv.runtimeNextAt;
    const lastExtensionNext = Math.max(...inv.extensionNext.values(), runtimeNextAt ?? 0);
    const finishedAt =
      status === 'success' || status === 'error'
        ? Math.max(runtimeNextAt ?? endAt, lastExtensionNext)
        : endAt;
    const postRuntimeMs =
      runtimeNextAt === undefined
        ? 0
        : round3(Math.max(0, (status === 'timeout' ? endAt : lastExtensionNext) - runtimeNextAt));
    const durationMs = round3(finishedAt - inv.start);
    if (!inv.runtimeDoneEmitted) {
      inv.runtimeDoneEmitted = true;
      this.relay.emit('platform.runtimeDone', {
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
    const maxMemoryUsedMB = this.maxMemoryMb();
    const billedDurationMs = Math.ceil(durationMs + (coldStart ? (initDurationMs ?? 0) : 0));
    this.relay.emit('platform.report', {
      requestId: inv.requestId,
      status,
      ...(errorType && status !== 'timeout' && status !== 'success' ? { errorType } : {}),
      metrics: {
        ...this.reportMetrics(durationMs, maxMemoryUsedMB, coldStart ? initDurationMs : undefined),
        billedDurationMs,
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
    this.current = undefined;
    this.inflight.delete(inv.requestId);

    const result: InvocationResult = {
      requestId: inv.requestId,
      status,
      durationMs,
      postRuntimeMs,
      billedDurationMs,
      maxMemoryUsedMB,
    };
    if (initDurationMs !== undefined) result.initDurationMs = initDurationMs;
    if (inv.response) {
      result.responseMs = round3(inv.response.receivedAt - inv.start);
      if (inv.response.status === 'success') result.response = inv.response.body;
      else result.error = toInvocationError(inv.response.body, inv.response.errorType);
    }
    if (errorType) result.errorType = errorType;
    if (status === 'timeout' && !result.error) {
      result.error = {
        errorType: 'Sandbox.Timedout',
        errorMessage: `Task timed out after ${(this.cfg.timeoutMs / 1000).toFixed(2)} seconds`,
      };
    }
    if (status === 'failure' && failure && !result.error) {
      result.error = { errorType: failure.errorType, errorMessage: failure.message };
    }

    if (status === 'timeout' || status === 'failure') {
      // A timeout or a crash resets the environment: shutdown with that reason, re-init next time.
      const reset = await this.shutdownProcesses(status === 'timeout' ? 'timeout' : 'failure');
      this.needsInit = true;
      this.phase = 'idle';
      this.emit('reset', reset);
    } else {
      this.phase = 'idle';
      await this.freeze();
    }
    return result;
  }

  private emitStart(inv: Invocation): void {
    this.relay.emit('platform.start', {
      requestId: inv.requestId,
      version: this.cfg.functionVersion,
      ...(inv.opts.tenantId !== undefined ? { tenantId: inv.opts.tenantId } : {}),
      tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
    });
  }

  private reportMetrics(durationMs: number, maxMemoryUsedMB: number, initDurationMs: number | undefined) {
    return {
      durationMs,
      billedDurationMs: Math.ceil(durationMs),
      memorySizeMB: this.cfg.memoryMb,
      maxMemoryUsedMB,
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
    };
  }

  /** The runtime's /next and every INVOKE subscriber's /next are answered at the same moment. */
  private release(inv: Invocation): void {
    inv.releasedAt = this.clock.now();
    this.releaseToRuntime(inv);
    if (this.mode === 'managed-instances') return;
    const body = JSON.stringify({
      eventType: 'INVOKE',
      deadlineMs: inv.deadlineMs,
      requestId: inv.requestId,
      invokedFunctionArn: inv.arn,
      tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
    });
    for (const s of this.slots) {
      if (!s.id || !s.events.includes('INVOKE')) continue;
      this.deliver(s, {
        body,
        headers: { 'Content-Type': 'application/json', 'Lambda-Extension-Event-Identifier': randomUUID() },
      });
    }
  }

  private releaseToRuntime(inv: Invocation): void {
    while (this.runtimeParked.length) {
      const reply = this.runtimeParked.shift() as Reply;
      if (reply.done) continue;
      reply.raw(200, inv.event, this.invocationHeaders(inv));
      return;
    }
    this.queued.push(inv);
  }

  private invocationHeaders(inv: Invocation): Record<string, string> {
    const h: Record<string, string> = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': inv.requestId,
      'Lambda-Runtime-Deadline-Ms': String(inv.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': inv.arn,
      'Lambda-Runtime-Trace-Id': inv.traceId,
    };
    if (inv.opts.clientContext !== undefined)
      h['Lambda-Runtime-Client-Context'] = JSON.stringify(inv.opts.clientContext);
    if (inv.opts.identity !== undefined)
      h['Lambda-Runtime-Cognito-Identity'] = JSON.stringify(inv.opts.identity);
    if (inv.opts.tenantId !== undefined) h['Lambda-Runtime-Aws-Tenant-Id'] = inv.opts.tenantId;
    return h;
  }

  private deliver(slot: ExtensionSlot, event: PendingEvent): void {
    if (slot.parked && !slot.parked.done) {
      slot.parked.raw(200, event.body, event.headers);
      slot.parked = undefined;
    } else {
      slot.pending = event;
    }
  }

  // ---------------------------------------------------------------- invoke (managed instances)

  private async invokeManaged(event: unknown, opts: InvokeOptions): Promise<InvocationResult> {
    if (this.needsInit) {
      throw new EnvironmentTerminatedError(
        `init failed (${this.initResult?.errorType ?? this.initResult?.status}); a Managed Instances environment is not repaired`,
      );
    }
    if (this.inflight.size >= this.maxConcurrency) {
      throw new TooManyRequestsError(
        `all ${this.maxConcurrency} runtime workers are busy (AWS_LAMBDA_MAX_CONCURRENCY); the invoke was rejected`,
      );
    }
    const inv = this.newInvocation(event, opts);
    const deadline = inv.start + this.cfg.timeoutMs;
    this.inflight.set(inv.requestId, inv);
    this.emitStart(inv);
    this.release(inv);
    // The timeout is reported, not enforced: the code keeps running and its worker stays busy.
    await this.until(() => inv.response !== undefined || this.terminated, deadline);
    const endAt = this.clock.now();
    let status: InvocationStatus;
    let errorType: string | undefined;
    if (inv.response) {
      status = inv.response.status;
      errorType = inv.response.errorType;
    } else if (this.terminated) {
      status = 'failure';
      errorType = this.failure?.errorType ?? 'Runtime.ExitError';
      this.inflight.delete(inv.requestId);
    } else {
      status = 'timeout';
      inv.timedOut = true;
      errorType = 'Sandbox.Timedout';
    }
    if (inv.response) this.inflight.delete(inv.requestId);
    const durationMs = round3((inv.response?.receivedAt ?? endAt) - inv.start);
    const spans = inv.response
      ? [
          {
            name: 'responseLatency',
            start: new Date(inv.releasedAt ?? inv.start).toISOString(),
            durationMs: round3(inv.response.startedAt - (inv.releasedAt ?? inv.start)),
          },
          {
            name: 'responseDuration',
            start: new Date(inv.response.startedAt).toISOString(),
            durationMs: round3(inv.response.receivedAt - inv.response.startedAt),
          },
        ]
      : [];
    this.relay.emit('platform.report', {
      requestId: inv.requestId,
      status,
      ...(errorType && status !== 'success' && status !== 'timeout' ? { errorType } : {}),
      metrics: { durationMs },
      spans,
      tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
    });
    const result: InvocationResult = {
      requestId: inv.requestId,
      status,
      durationMs,
      postRuntimeMs: 0,
      billedDurationMs: Math.ceil(durationMs),
      maxMemoryUsedMB: this.maxMemoryMb(),
    };
    if (inv.response) {
      result.responseMs = round3(inv.response.receivedAt - inv.start);
      if (inv.response.status === 'success') result.response = inv.response.body;
      else result.error = toInvocationError(inv.response.body, inv.response.errorType);
    } else if (status === 'timeout') {
      result.error = {
        errorType: 'Sandbox.Timedout',
        errorMessage: `Task timed out after ${(this.cfg.timeoutMs / 1000).toFixed(2)} seconds`,
      };
    } else {
      result.error = {
        errorType: errorType ?? 'Runtime.ExitError',
        errorMessage: this.failure?.message ?? 'environment terminated',
      };
    }
    if (errorType) result.errorType = errorType;
    return result;
  }

  // ---------------------------------------------------------------- freeze

  private async freeze(): Promise<void> {
    if (this.mode === 'managed-instances' || this.frozen) return;
    // Delivery pauses first: nothing may reach a subscriber after the platform decided to freeze.
    this.relay.pause();
    const procs = this.allProcesses().filter((p) => p.alive);
    for (const p of procs) p.signal('SIGSTOP');
    this.frozen = true;
    // SIGSTOP is asynchronous: report "frozen" once the kernel shows every process stopped.
    const deadline = this.clock.now() + FREEZE_CONFIRM_MS;
    while (procs.some((p) => p.alive && !isStopped(p.pid)) && this.clock.now() < deadline) {
      await new Promise<void>((r) => setTimeout(r, 1));
    }
    this.emit('frozen');
  }

  private thaw(): void {
    if (!this.frozen) return;
    for (const p of this.allProcesses()) if (p.alive) p.signal('SIGCONT');
    this.frozen = false;
    this.relay.resume();
    this.emit('thawed');
  }

  // ---------------------------------------------------------------- shutdown / reset

  private async shutdownProcesses(reason: string): Promise<ShutdownResult> {
    const previousPhase = this.phase;
    this.phase = 'shutdown';
    this.thaw();
    // Whatever the platform buffered (the last invoke's report) goes out before the SHUTDOWN event.
    this.relay.flushAll();
    const start = this.clock.now();
    const registered = this.slots.filter((s) => s.id !== undefined);
    const anyExternal = registered.some((s) => !s.internal);
    const budget = anyExternal
      ? SHUTDOWN_BUDGET_MS.external
      : registered.length
        ? SHUTDOWN_BUDGET_MS.internalOnly
        : SHUTDOWN_BUDGET_MS.none;
    const deadline = start + budget;
    const deadlineMs = Math.floor(Date.now() + budget);
    const runtime = this.runtime;

    // 1-2. The runtime first: SIGTERM when any extension is registered, SIGKILL after its share.
    if (runtime?.alive) {
      if (registered.length) {
        runtime.signal('SIGTERM');
        const share = anyExternal ? RUNTIME_SHUTDOWN_SHARE_MS : budget;
        await Promise.race([runtime.exited, this.sleep(share)]);
      }
      if (runtime.alive) runtime.signal('SIGKILL');
      await Promise.race([runtime.exited, this.sleep(REAP_MS)]);
    }
    // 3. SHUTDOWN to the subscribers; everything else is killed now.
    const body = JSON.stringify({ eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs });
    for (const s of this.slots) {
      if (s.internal || !s.proc?.alive) continue;
      // An extension that reported init/exit error is on its way out: it gets until the deadline.
      if (s.reportedError) continue;
      if (s.id && s.events.includes('SHUTDOWN')) this.deliver(s, { body, headers: {} });
      else s.proc.signal('SIGKILL');
    }
    // 4. SIGKILL whatever is still alive at the deadline.
    const external = this.slots.filter((s) => !s.internal && s.proc);
    await this.until(() => external.every((s) => !s.proc?.alive), deadline);
    // deadlineMs is wall-clock time as the extensions read it: never SIGKILL before it has passed.
    while (external.some((s) => s.proc?.alive) && Date.now() < deadlineMs) {
      await this.sleep(Math.max(1, deadlineMs - Date.now()));
    }
    for (const s of external) if (s.proc?.alive) s.proc.signal('SIGKILL');
    await Promise.race([Promise.all(external.map((s) => s.proc?.exited)), this.sleep(REAP_MS)]);

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
      durationMs: round3(this.clock.now() - start),
      deadlineMs,
      runtime: runtime
        ? { exitCode: runtime.exit?.code ?? null, signal: runtime.exit?.signal ?? null }
        : null,
      extensions,
    };
    this.relay.unsubscribeAll();
    for (const r of this.runtimeParked) r.error(410, 'Runtime.Gone', 'the environment was shut down');
    this.runtimeParked = [];
    this.runtime = undefined;
    this.slots = [];
    this.generation++;
    this.needsInit = true;
    this.phase = previousPhase === 'dead' ? 'dead' : 'idle';
    this.note(
      `shutdown (${reason}) in ${result.durationMs} ms: ${extensions.map((e) => `${e.name}=${e.state}`).join(', ') || 'no extensions'}`,
    );
    return result;
  }

  private async close(): Promise<void> {
    this.phase = 'dead';
    this.terminated = true;
    this.poke();
    this.relay.close();
    const server = this.server;
    this.server = undefined;
    if (server) await server.close();
    rmSync(join(this.workDir, 'opt'), { recursive: true, force: true });
    if (!this.ownsTmp) {
      rmSync(this.workDir, { recursive: true, force: true });
      ownedWorkDirs.delete(this.workDir);
    }
  }

  // ---------------------------------------------------------------- API routing

  private route(req: ApiRequest, reply: Reply): void {
    const { method, path } = req;
    const call = `${method} ${path}`;
    const result = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (call === 'GET /2018-06-01/runtime/invocation/next') void this.runtimeNext(req, reply);
    else if (call === 'POST /2018-06-01/runtime/init/error') this.runtimeInitErrorCall(req, reply);
    else if (result && method === 'POST') {
      this.runtimeResult(decodeURIComponent(result[1] as string), result[2] as string, req, reply);
    } else if (call === 'POST /2020-01-01/extension/register') this.register(req, reply);
    else if (call === 'GET /2020-01-01/extension/event/next') this.extensionNext(req, reply);
    else if (call === 'POST /2020-01-01/extension/init/error') this.extensionError('init', req, reply);
    else if (call === 'POST /2020-01-01/extension/exit/error') this.extensionError('exit', req, reply);
    else if (call === 'PUT /2022-07-01/telemetry') this.subscribe(req, reply);
    else reply.error(404, 'NotFound', `${call} is not an API of the Lambda execution environment`);
  }

  // --- Runtime API

  private async runtimeNext(req: ApiRequest, reply: Reply): Promise<void> {
    const runtime = this.runtime;
    if (!runtime || this.phase === 'shutdown' || this.phase === 'dead') {
      reply.error(403, 'InvalidStateTransition', 'the runtime is being shut down');
      return;
    }
    // Function logs written before this call must be records before runtimeDone / initRuntimeDone.
    await runtime.drain();
    if (this.mode === 'managed-instances') {
      const next = this.queued.shift();
      if (next) reply.raw(200, next.event, this.invocationHeaders(next));
      else this.runtimeParked.push(reply);
      if (!this.runtimeReady) {
        this.runtimeReady = true;
        this.registrationOpen = false;
      }
      this.poke();
      return;
    }
    if (this.runtimeParked.some((r) => !r.done)) {
      reply.error(403, 'InvalidStateTransition', 'the runtime already waits in /next');
      return;
    }
    const inv = this.current;
    if (this.phase === 'invoke' && inv && inv.runtimeNextAt === undefined && inv.releasedAt !== undefined) {
      if (!inv.response) {
        reply.error(
          403,
          'InvalidStateTransition',
          `invocation ${inv.requestId} has no response or error yet`,
        );
        return;
      }
      inv.runtimeNextAt = req.receivedAt;
      inv.runtimeDoneEmitted = true;
      const r = inv.response;
      const releasedAt = inv.releasedAt;
      this.relay.emit('platform.runtimeDone', {
        requestId: inv.requestId,
        status: r.status,
        ...(r.errorType ? { errorType: r.errorType } : {}),
        metrics: { durationMs: round3(req.receivedAt - releasedAt), producedBytes: r.bytes },
        spans: [
          {
            name: 'responseLatency',
            start: new Date(releasedAt).toISOString(),
            durationMs: round3(r.startedAt - releasedAt),
          },
          {
            name: 'responseDuration',
            start: new Date(r.startedAt).toISOString(),
            durationMs: round3(r.receivedAt - r.startedAt),
          },
          {
            name: 'runtimeOverhead',
            start: new Date(r.receivedAt).toISOString(),
            durationMs: round3(req.receivedAt - r.receivedAt),
          },
        ],
        tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
      });
    }
    if (!this.runtimeReady) {
      this.runtimeReady = true;
      // Internal extensions may register until the runtime's first /next.
      this.registrationOpen = false;
    }
    const queued = this.queued.shift();
    if (queued) reply.raw(200, queued.event, this.invocationHeaders(queued));
    else this.runtimeParked.push(reply);
    this.poke();
  }

  private runtimeResult(id: string, kind: string, req: ApiRequest, reply: Reply): void {
    const inv = this.inflight.get(id);
    if (!inv || inv.releasedAt === undefined) {
      reply.error(400, 'InvalidRequestID', `Invalid request ID: ${id} is not the invocation in progress`);
      return;
    }
    if (inv.response) {
      if (inv.timedOut && this.mode === 'managed-instances') this.inflight.delete(id);
      reply.error(
        403,
        'InvalidStateTransition',
        `invocation ${id} already has a ${inv.response.status === 'success' ? 'response' : 'error'}`,
      );
      return;
    }
    const base = { startedAt: req.startedAt, receivedAt: req.receivedAt, bytes: req.body.length };
    if (kind === 'response') {
      const mode = req.headers['lambda-runtime-function-response-mode'];
      if (mode !== undefined && mode !== 'streaming') {
        reply.error(400, 'InvalidFunctionResponseMode', `response mode ${String(mode)} is not supported`);
        return;
      }
      if (req.tooLarge) {
        reply.error(
          413,
          'RequestEntityTooLarge',
          'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
        );
        inv.response = {
          ...base,
          status: 'error',
          errorType: 'Function.ResponseSizeTooLarge',
          body: {
            errorType: 'Function.ResponseSizeTooLarge',
            errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
          },
        };
      } else {
        const trailerType = req.trailers['lambda-runtime-function-error-type'];
        if (mode === 'streaming' && trailerType) {
          const raw = req.trailers['lambda-runtime-function-error-body'];
          inv.response = {
            ...base,
            status: 'error',
            errorType: normaliseErrorType(trailerType),
            body: parseJson(raw ? Buffer.from(raw, 'base64').toString('utf8') : ''),
          };
        } else {
          inv.response = { ...base, status: 'success', body: parseJson(req.body.toString('utf8')) };
        }
        reply.json(202, { status: 'OK' });
      }
    } else {
      inv.response = {
        ...base,
        status: 'error',
        errorType: normaliseErrorType(req.headers['lambda-runtime-function-error-type']),
        body: parseJson(req.body.toString('utf8')),
      };
      reply.json(202, { status: 'OK' });
    }
    const r = inv.response;
    if (r) inv.opts.onResponse?.({ status: r.status, body: r.body });
    if (inv.timedOut) this.inflight.delete(id);
    this.poke();
  }

  private runtimeInitErrorCall(req: ApiRequest, reply: Reply): void {
    if (this.phase !== 'init' || this.runtimeReady) {
      reply.error(403, 'InvalidStateTransition', 'init/error is only accepted during init');
      return;
    }
    const errorType = normaliseErrorType(req.headers['lambda-runtime-function-error-type']);
    this.runtimeInitError = errorType;
    const body = parseJson(req.body.toString('utf8')) as { errorMessage?: string } | undefined;
    this.failure ??= { errorType, message: String(body?.errorMessage ?? errorType) };
    reply.json(202, { status: 'OK' });
    this.poke();
  }

  // --- Extensions API

  private register(req: ApiRequest, reply: Reply): void {
    const name = header(req, 'lambda-extension-name');
    if (!name) return void reply.error(403, 'Extension.InvalidExtensionName', 'Empty extension name');
    const parsed = parseRegistration(req.body.toString('utf8'));
    if ('errorType' in parsed) return void reply.error(403, parsed.errorType, parsed.errorMessage);
    const wanted = parsed.events;
    let slot = this.slots.find((s) => s.name === name);
    if (!this.registrationOpen && !(slot && !slot.internal && this.phase === 'init')) {
      return void reply.error(
        403,
        'Extension.RegistrationClosed',
        'registration is closed: the runtime is already initialised',
      );
    }
    if (slot?.id) {
      return void reply.error(
        403,
        'Extension.InvalidExtensionState',
        `extension ${name} is already registered`,
      );
    }
    const lmi = this.mode === 'managed-instances';
    if (slot) {
      if (lmi && wanted.includes('INVOKE')) {
        return void reply.error(
          403,
          'Extension.InvalidEventType',
          'extensions cannot subscribe to INVOKE on Lambda Managed Instances',
        );
      }
    } else {
      // A name that is not a launched executable is an internal extension (RIE's rule).
      if (lmi && wanted.length) {
        return void reply.error(
          403,
          'Extension.InvalidEventType',
          'internal extensions cannot subscribe to events on Lambda Managed Instances',
        );
      }
      if (wanted.includes('SHUTDOWN')) {
        return void reply.error(
          403,
          'Extension.InvalidEventType',
          'internal extensions cannot subscribe to SHUTDOWN',
        );
      }
    }
    if (this.slots.filter((s) => s.id).length >= MAX_EXTENSIONS) {
      return void reply.error(
        403,
        'Extension.TooManyExtensions',
        `at most ${MAX_EXTENSIONS} extensions can register`,
      );
    }
    if (!slot) {
      slot = { name, internal: true, events: [], ready: false, crashed: false };
      this.slots.push(slot);
    }
    slot.id = randomUUID();
    slot.events = wanted;
    const features = (header(req, 'lambda-extension-accept-feature') ?? '').split(',').map((f) => f.trim());
    reply.json(
      200,
      {
        functionName: this.cfg.functionName,
        functionVersion: this.cfg.functionVersion,
        handler: this.cfg.handler,
        ...(features.includes('accountId') ? { accountId: this.cfg.accountId } : {}),
      },
      { 'Lambda-Extension-Identifier': slot.id },
    );
    this.poke();
  }

  private identify(req: ApiRequest, reply: Reply): ExtensionSlot | undefined {
    const id = header(req, 'lambda-extension-identifier');
    if (!id)
      return void reply.error(
        403,
        'Extension.MissingExtensionIdentifier',
        'Lambda-Extension-Identifier header is required',
      );
    if (!UUID_RE.test(id)) {
      return void reply.error(
        403,
        'Extension.InvalidExtensionIdentifier',
        `${id} is not an extension identifier`,
      );
    }
    const slot = this.slots.find((s) => s.id === id);
    if (!slot)
      return void reply.error(
        403,
        'Extension.UnknownExtensionIdentifier',
        `no extension is registered as ${id}`,
      );
    return slot;
  }

  private extensionNext(req: ApiRequest, reply: Reply): void {
    const slot = this.identify(req, reply);
    if (!slot) return;
    if (slot.reportedError) {
      return void reply.error(
        403,
        'Extension.InvalidExtensionState',
        `extension ${slot.name} reported ${slot.reportedError}; it must exit`,
      );
    }
    if (slot.parked && !slot.parked.done)
      slot.parked.error(403, 'Extension.InvalidExtensionState', 'a newer /next replaced this one');
    slot.ready = true;
    const inv = this.current;
    if (
      inv &&
      this.phase === 'invoke' &&
      slot.events.includes('INVOKE') &&
      !inv.extensionNext.has(slot.name) &&
      !slot.pending
    ) {
      inv.extensionNext.set(slot.name, req.receivedAt);
    }
    const pending = slot.pending;
    if (pending) {
      slot.pending = undefined;
      reply.raw(200, pending.body, pending.headers);
    } else {
      slot.parked = reply;
    }
    this.poke();
  }

  private extensionError(kind: 'init' | 'exit', req: ApiRequest, reply: Reply): void {
    const slot = this.identify(req, reply);
    if (!slot) return;
    const type = header(req, 'lambda-extension-function-error-type');
    if (!type)
      return void reply.error(
        403,
        'Extension.MissingHeader',
        'Lambda-Extension-Function-Error-Type header is required',
      );
    const errorType = kind === 'init' ? 'Extension.InitError' : 'Extension.ExitError';
    slot.reportedError = errorType;
    reply.json(202, { status: 'OK' });
    if (this.phase === 'init' || this.phase === 'invoke') {
      this.failure ??= { errorType, message: `extension ${slot.name} reported ${kind}/error ${type}` };
      this.poke();
    }
  }

  // --- Telemetry API

  private subscribe(req: ApiRequest, reply: Reply): void {
    const slot = this.identify(req, reply);
    if (!slot) return;
    if (!this.subscriptionOpen) {
      return void reply.error(403, 'Telemetry.SubscriptionClosed', 'Telemetry API subscription is closed');
    }
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8'));
    } catch (err) {
      return void reply.error(
        400,
        'ValidationError',
        `subscription body is not JSON: ${(err as Error).message}`,
      );
    }
    const parsed = parseSubscription(body, { managedInstances: this.mode === 'managed-instances' });
    if ('error' in parsed) return void reply.error(400, 'ValidationError', parsed.error);
    this.relay.subscribe(slot.name, parsed.subscription);
    this.relay.emit('platform.telemetrySubscription', {
      name: slot.name,
      state: 'Subscribed',
      types: parsed.subscription.types,
    });
    reply.raw(200, JSON.stringify('OK'), { 'Content-Type': 'application/json' });
  }

  // ---------------------------------------------------------------- helpers

  private allProcesses(): ManagedProcess[] {
    const out: ManagedProcess[] = [];
    if (this.runtime) out.push(this.runtime);
    for (const s of this.slots) if (s.proc) out.push(s.proc);
    return out;
  }

  private maxMemoryMb(): number {
    let kb = 0;
    for (const p of this.allProcesses()) if (p.alive && p.pid > 0) kb += peakMemoryKb(p.pid);
    return Math.ceil(kb / 1024);
  }

  private captureLine(line: OutputLine): void {
    const label =
      line.role === 'runtime' ? 'function' : line.role === 'platform' ? 'emulator' : `extension ${line.name}`;
    if (this.outputLines.length < 100_000) this.outputLines.push(`[${label}] ${line.text}`);
    this.cfg.onOutput?.(line);
  }

  private note(text: string): void {
    this.captureLine({ role: 'platform', name: 'emulator', stream: 'stderr', text });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private poke(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves true when cond() holds, false at the deadline (clock time) or when the environment closes. */
  private until(cond: () => boolean, deadline: number): Promise<boolean> {
    return new Promise((resolveWait) => {
      if (cond()) return resolveWait(true);
      let cancel: (() => void) | undefined;
      const finish = (value: boolean): void => {
        this.waiters.delete(check);
        cancel?.();
        resolveWait(value);
      };
      const check = (): void => {
        if (cond()) finish(true);
        else if (this.phase === 'dead') finish(false);
      };
      this.waiters.add(check);
      // Timers may fire a fraction of a millisecond early: re-arm until the deadline has really passed.
      const arm = (): void => {
        const left = deadline - this.clock.now();
        if (left <= 0) finish(cond());
        else cancel = this.clock.setTimeout(arm, Math.ceil(left));
      };
      arm();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.clock.setTimeout(r, ms));
  }
}
