// The state of one emulated execution environment, shared by the lifecycle (init.ts, invoke.ts,
// managed-instances.ts, freeze.ts, shutdown.ts) and the API handlers (runtime-api.ts,
// extensions-api.ts, telemetry-api.ts), plus the few primitives they all use: waiting on a condition
// with a deadline, serialising lifecycle steps, and capturing output. Internal to src/local: the public
// surface is LambdaEnvironment (../environment.ts).
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ApiServer, Reply } from '../api-server.js';
import type { Clock } from '../clock.js';
import { DEFAULT_CPU_PERIOD_MS, EnvironmentCgroups, hostCgroups } from '../cost-model.js';
import { INSIDE_OPT, INSIDE_TMP, type Namespaces } from '../isolation.js';
import { nodeMajorOf } from '../layout.js';
import {
  cpuTimeMs,
  joinAndExecArgs,
  type Launcher,
  type ManagedProcess,
  peakMemoryKb,
} from '../processes.js';
import { TelemetryRelay } from '../telemetry.js';
import type {
  EnvironmentEvents,
  EnvironmentMode,
  InitResult,
  InvocationCpu,
  InvokeOptions,
  LocalFunctionConfig,
  OutputLine,
  ShutdownResult,
} from '../types.js';
import type { EventName } from '../wire.js';

/** Internal and external extensions together (Extensions API). */
export const MAX_EXTENSIONS = 10;
/** Shutdown budgets (Extensions API / execution environment docs). */
export const SHUTDOWN_BUDGET_MS = { external: 2_000, internalOnly: 500, none: 0 } as const;
/** The runtime's share of the budget when an external extension is registered (the docs' 300 ms). */
export const RUNTIME_SHUTDOWN_SHARE_MS = 300;
/** Lambda Managed Instances and SnapStart: init may take max(130 s, function timeout). */
const LONG_INIT_MIN_MS = 130_000;
/** SnapStart: the Restore phase (after-restore hooks) is limited to 10 s. */
export const RESTORE_TIMEOUT_MS = 10_000;
/** SnapStart: how long the processes stay stopped for the snapshot unless told otherwise. */
export const DEFAULT_SNAPSHOT_MS = 1_000;
/** SnapStart: bound on the caller's onSnapshot hook. */
export const SNAPSHOT_HOOK_TIMEOUT_MS = 60_000;
/** How long freeze() waits for the kernel to show the processes stopped. */
export const FREEZE_CONFIRM_MS = 500;
/** platform.report errorType when the environment went over its memory size (under the cost model). */
export const OUT_OF_MEMORY = 'Runtime.OutOfMemory';
/** How long to wait for an already SIGKILLed process to be reaped before giving up on it. */
export const REAP_MS = 2_000;

export type Phase = 'init' | 'idle' | 'restore' | 'invoke' | 'shutdown' | 'dead';

export interface PendingEvent {
  body: string;
  headers: Record<string, string>;
}

export interface ExtensionSlot {
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

export interface RuntimeResponse {
  status: 'success' | 'error';
  body: unknown;
  /** Normalised platform errorType for /error. */
  errorType?: string;
  startedAt: number;
  receivedAt: number;
  bytes: number;
}

export interface Invocation {
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

export interface Failure {
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

/** Removes a work directory now instead of at process exit. */
export function removeWorkDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  ownedWorkDirs.delete(dir);
}

/** The cpuacct leaf (and cpu snapshot key) of a process. */
function cpuLeaf(role: 'runtime' | 'extension', name: string): string {
  return role === 'runtime' ? 'runtime' : `extension-${name}`;
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export type SandboxConfig = Required<
  Pick<
    LocalFunctionConfig,
    'timeoutMs' | 'memoryMb' | 'functionName' | 'functionVersion' | 'region' | 'accountId' | 'initTimeoutMs'
  >
> &
  LocalFunctionConfig;

/** Everything one environment knows; the lifecycle and API modules read and change it. */
export class Sandbox {
  readonly tmpDir: string;
  /** The merged /opt of this environment (symlinks into the layers). */
  readonly optDir: string;
  readonly mode: EnvironmentMode;
  readonly clock: Clock;
  readonly cfg: SandboxConfig;
  readonly relay: TelemetryRelay;
  readonly workDir: string;
  readonly ownsTmp: boolean;
  readonly bootstrap: string;
  readonly nodePath: string;
  readonly nodeMajor: number;
  /** The public LambdaEnvironment: lifecycle events are emitted on it. */
  readonly events: EventEmitter<EnvironmentEvents>;
  readonly outputLines: string[] = [];

  server: ApiServer | undefined;
  runtimeEnv: Record<string, string> = {};
  extensionEnv: Record<string, string> = {};
  phase: Phase = 'init';
  generation = 0;
  slots: ExtensionSlot[] = [];
  runtime: ManagedProcess | undefined;
  runtimeParked: Reply[] = [];
  runtimeReady = false;
  runtimeInitError: string | undefined;
  registrationOpen = false;
  subscriptionOpen = false;
  failure: Failure | undefined;
  needsInit = true;
  coldInitMs: number | undefined;
  frozen = false;
  terminated = false;
  closing = false;
  terminationReason = 'the environment has been shut down; start a new one';
  pendingReset = false;
  finalShutdown: Promise<ShutdownResult> | undefined;
  current: Invocation | undefined;
  readonly inflight = new Map<string, Invocation>();
  readonly queued: Invocation[] = [];
  initResult: InitResult | undefined;
  /** Snap-start: the runtime's GET /runtime/restore/next, held across the snapshot. */
  restoreParked: Reply | undefined;
  /** Snap-start: Init ended and the processes were stopped at this wall time; a restore is due. */
  snapshotAt: number | undefined;
  /** Snap-start: the restore duration, reported on the next invoke. */
  pendingRestoreMs: number | undefined;
  /** The cost model's groups; undefined when the model is off or cgroups are not usable. */
  readonly cgroups: EnvironmentCgroups | undefined;
  /** The memory group's OOM kill count when the current Init or invoke began. */
  oomKillsMark = 0;
  /** The environment's namespaces; undefined without them (host paths and network, as before). */
  ns: Namespaces | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly waiters = new Set<() => void>();

  /** Resolves the configuration and makes the work directories; throws on bad input before making any. */
  constructor(
    config: LocalFunctionConfig,
    clock: Clock,
    events: EventEmitter<EnvironmentEvents>,
    defaultBootstrap: () => string,
  ) {
    this.clock = clock;
    this.events = events;
    this.mode = config.mode ?? 'on-demand';
    if (!['on-demand', 'managed-instances', 'snap-start'].includes(this.mode)) {
      throw new Error(
        `mode must be on-demand, managed-instances or snap-start, got ${JSON.stringify(this.mode)}`,
      );
    }
    if (config.snapStart && this.mode !== 'snap-start') {
      throw new Error(`snapStart options were given but mode is ${this.mode}; set mode: 'snap-start'`);
    }
    for (const key of ['snapshotMs', 'hookTimeoutMs', 'restoreTimeoutMs'] as const) {
      const v = config.snapStart?.[key];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new Error(`snapStart.${key} must be a non-negative number of milliseconds, got ${String(v)}`);
      }
    }
    if (config.network !== undefined && config.network !== 'host' && config.network !== 'isolated') {
      throw new Error(`network must be 'host' or 'isolated', got ${JSON.stringify(config.network)}`);
    }
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
        config.initTimeoutMs ?? (this.mode === 'on-demand' ? 10_000 : Math.max(LONG_INIT_MIN_MS, timeoutMs)),
    };
    if (!existsSync(this.cfg.codeDir) || !statSync(this.cfg.codeDir).isDirectory()) {
      throw new Error(`codeDir ${this.cfg.codeDir} is not a directory: there is no function code to run`);
    }
    this.bootstrap = config.runtimeBootstrap ?? defaultBootstrap();
    this.nodePath = config.nodePath ? resolve(config.nodePath) : process.execPath;
    this.nodeMajor = nodeMajorOf(this.nodePath);
    // Everything that can fail on bad input is checked above: from here on, close() cleans up.
    this.workDir = mkdtempSync(join(tmpdir(), 'lambda-env-'));
    ownWorkDir(this.workDir);
    this.optDir = join(this.workDir, 'opt');
    this.ownsTmp = config.tmpDir === undefined;
    this.tmpDir = config.tmpDir ? resolve(config.tmpDir) : join(this.workDir, 'tmp');
    mkdirSync(this.tmpDir, { recursive: true });
    this.cgroups = this.makeCgroups(config);
    this.relay = new TelemetryRelay({
      clock,
      onRecord: (rec) => this.events.emit('telemetry', rec),
      onDeliveryError: (name, err) =>
        this.note(`telemetry delivery to ${name} failed after retries; batch dropped: ${String(err)}`),
    });
  }

  private makeCgroups(config: LocalFunctionConfig): EnvironmentCgroups | undefined {
    const model = config.costModel ?? 'none';
    if (model === 'none') return undefined;
    if (model !== 'lambda') {
      throw new Error(`costModel must be 'lambda' or 'none', got ${JSON.stringify(model)}`);
    }
    const periodMs = config.cpuPeriodMs ?? DEFAULT_CPU_PERIOD_MS;
    if (!(Number.isFinite(periodMs) && periodMs >= 1 && periodMs <= 1_000)) {
      throw new Error(`cpuPeriodMs must be between 1 and 1000 ms, got ${String(config.cpuPeriodMs)}`);
    }
    const host = hostCgroups();
    if (!host.ok) {
      this.note(`cost model off: ${host.reason}; the environment runs at full speed`);
      return undefined;
    }
    return new EnvironmentCgroups(host.own, this.cfg.memoryMb, periodMs);
  }

  /** Marks the start of an Init or invoke for outOfMemory(). */
  markOomKills(): void {
    this.oomKillsMark = this.cgroups?.oomKills() ?? 0;
  }

  /** Whether the kernel killed a process of the environment for memory since markOomKills(). */
  outOfMemory(): boolean {
    return this.cgroups !== undefined && this.cgroups.oomKills() > this.oomKillsMark;
  }

  /** A host path as the environment's processes see it (/opt and /tmp in a mount namespace). */
  inside(hostPath: string): string {
    if (!this.ns) return hostPath;
    for (const [host, inner] of [
      [this.optDir, INSIDE_OPT],
      [this.tmpDir, INSIDE_TMP],
    ] as const) {
      if (hostPath === host) return inner;
      if (hostPath.startsWith(`${host}/`)) return `${inner}${hostPath.slice(host.length)}`;
    }
    return hostPath;
  }

  /** How a process of this environment is started: in its namespaces and its cgroups, when on. */
  launcher(role: 'runtime' | 'extension', name: string): Launcher | undefined {
    const files = this.cgroups?.procsFiles(cpuLeaf(role, name)) ?? [];
    const ns = this.ns;
    if (ns) {
      return (command, args, cwd) =>
        ns.enter(joinAndExecArgs(files, this.inside(cwd), this.inside(command), args));
    }
    if (!files.length) return undefined;
    return (command, args, cwd) => ({
      command: '/bin/sh',
      args: joinAndExecArgs(files, cwd, command, args),
      cwd,
    });
  }

  /** CPU time used so far by each process (by its cpuacct leaf, or from /proc), in ms. */
  cpuSnapshot(): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of this.allProcesses()) {
      const key = cpuLeaf(p.role, p.name);
      out.set(key, this.cgroups ? this.cgroups.cpuNs(key) / 1e6 : p.pid > 0 ? cpuTimeMs(p.pid) : 0);
    }
    return out;
  }

  /** The CPU each process used since `before` (a cpuSnapshot), for an invocation's result. */
  cpuSince(before: Map<string, number>): InvocationCpu {
    const now = this.cpuSnapshot();
    const used = (key: string): number =>
      Math.round(Math.max(0, (now.get(key) ?? 0) - (before.get(key) ?? 0)) * 1000) / 1000;
    const cpu: InvocationCpu = { runtime: used(cpuLeaf('runtime', 'function')), extensions: {} };
    for (const s of this.slots) if (s.proc) cpu.extensions[s.name] = used(cpuLeaf('extension', s.name));
    return cpu;
  }

  get initializationType(): string {
    if (this.mode === 'managed-instances') return 'lambda-managed-instances';
    return this.mode;
  }

  get maxConcurrency(): number {
    return Math.max(1, this.cfg.maxConcurrency ?? 4);
  }

  allProcesses(): ManagedProcess[] {
    const out: ManagedProcess[] = [];
    if (this.runtime) out.push(this.runtime);
    for (const s of this.slots) if (s.proc) out.push(s.proc);
    return out;
  }

  /** Max Memory Used: the memory group's peak under the cost model, else the processes' peak RSS. */
  maxMemoryMb(): number {
    if (this.cgroups) return Math.ceil(this.cgroups.peakBytes() / (1024 * 1024));
    let kb = 0;
    for (const p of this.allProcesses()) if (p.alive && p.pid > 0) kb += peakMemoryKb(p.pid);
    return Math.ceil(kb / 1024);
  }

  captureLine(line: OutputLine): void {
    const label =
      line.role === 'runtime' ? 'function' : line.role === 'platform' ? 'emulator' : `extension ${line.name}`;
    if (this.outputLines.length < 100_000) this.outputLines.push(`[${label}] ${line.text}`);
    this.cfg.onOutput?.(line);
  }

  /** A line from the emulator itself (what the platform did and why). */
  note(text: string): void {
    this.captureLine({ role: 'platform', name: 'emulator', stream: 'stderr', text });
  }

  /** Runs lifecycle steps (invokes, resets, shutdown) one after another. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Something changed (an API call, a process exit): re-check every pending until(). */
  poke(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves true when cond() holds, false at the deadline (clock time) or when the environment closes. */
  until(cond: () => boolean, deadline: number): Promise<boolean> {
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

  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.clock.setTimeout(r, ms));
  }
}
