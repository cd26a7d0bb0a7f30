// One emulated Lambda execution environment. It follows the Lambda documentation: the
// Init sequence (extensions register, then the runtime starts), invoke release to the runtime and the
// INVOKE subscribers at once, freeze (SIGSTOP of every process group) once all are parked in `next`,
// timeouts and crashes as resets, the shutdown budget with SIGTERM/SHUTDOWN/SIGKILL, and the Telemetry
// API records in the platform's order.
//
// This file is the public face; the work is in ./environment/: sandbox.ts (the state and its waiting
// primitives), init.ts, invoke.ts, managed-instances.ts, snap-start.ts, freeze.ts, shutdown.ts (the
// lifecycle), and runtime-api.ts, extensions-api.ts, telemetry-api.ts, routes.ts (the APIs' handlers).
import { EventEmitter } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer } from './api-server.js';
import { type Clock, systemClock } from './clock.js';
import { EnvironmentTerminatedError } from './environment/errors.js';
import { freeze } from './environment/freeze.js';
import { runInit } from './environment/init.js';
import { invokeOnDemand } from './environment/invoke.js';
import { invokeManaged } from './environment/managed-instances.js';
import { route } from './environment/routes.js';
import { hex, REAP_MS, removeWorkDir, Sandbox } from './environment/sandbox.js';
import { close, shutdownProcesses } from './environment/shutdown.js';
import { takeSnapshot } from './environment/snap-start.js';
import { Namespaces, NamespacesUnavailable } from './isolation.js';
import { extensionVariables, logStreamName, mergeLayers, runtimeVariables } from './layout.js';
import type {
  EnvironmentEvents,
  EnvironmentMode,
  EnvironmentProcess,
  InitResult,
  InvocationResult,
  InvokeOptions,
  LocalFunctionConfig,
  ShutdownResult,
  TelemetryRecord,
} from './types.js';

export { EnvironmentTerminatedError, TooManyRequestsError } from './environment/errors.js';
export { MAX_EXTENSIONS, RUNTIME_SHUTDOWN_SHARE_MS, SHUTDOWN_BUDGET_MS } from './environment/sandbox.js';

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

/**
 * The environment's namespaces, unless switched off; where they cannot be made, one output line says
 * so and the environment runs with host paths and network, as without them.
 */
async function makeNamespaces(s: Sandbox, config: LocalFunctionConfig): Promise<Namespaces | undefined> {
  const network = config.network ?? 'host';
  if (network === 'host' && config.mountNamespace === false) return undefined;
  // The caller's working directory stays visible too: on the host it is the project the function,
  // layers and test extensions come from, and a checkout may well live under /tmp.
  const keep = [s.cfg.codeDir, dirname(s.bootstrap), dirname(s.nodePath), process.cwd()];
  // Paths the caller hands the environment in its variables stay where the caller sees them, also
  // inside flag lists such as NODE_OPTIONS (`--require /path/hook.cjs`).
  for (const value of Object.values(config.env ?? {})) {
    for (const path of [value, ...value.split(/[\s=]+/)].filter((p) => isAbsolute(p))) {
      if (existsSync(path)) keep.push(statSync(path).isDirectory() ? path : dirname(path));
      else if (existsSync(dirname(path))) keep.push(dirname(path));
    }
  }
  // Node resolves packages through every ancestor's node_modules, so a function in a checkout under
  // /tmp still finds the checkout's packages.
  for (const dir of [...keep]) {
    for (let d = resolve(dir); d !== dirname(d); d = dirname(d)) {
      if (existsSync(join(d, 'node_modules'))) keep.push(join(d, 'node_modules'));
    }
  }
  try {
    return await Namespaces.create({
      network,
      layers: (config.layers ?? []).map((l) => resolve(l)),
      emptyDir: s.optDir,
      tmpDir: s.tmpDir,
      workDir: s.workDir,
      keep,
    });
  } catch (err) {
    if (!(err instanceof NamespacesUnavailable)) throw err;
    s.note(`no namespaces (${err.message}): /opt, /tmp and the network are the host's`);
    return undefined;
  }
}

/** One emulated Lambda execution environment: real processes, real freeze. */
export class LambdaEnvironment extends EventEmitter<EnvironmentEvents> {
  readonly tmpDir: string;
  /** The merged /opt of this environment (symlinks into the layers). */
  readonly optDir: string;
  readonly mode: EnvironmentMode;

  private readonly s: Sandbox;

  private constructor(config: LocalFunctionConfig, clock: Clock) {
    super();
    this.s = new Sandbox(config, clock, this, defaultRuntimeBootstrap);
    this.tmpDir = this.s.tmpDir;
    this.optDir = this.s.optDir;
    this.mode = this.s.mode;
  }

  /**
   * Runs Init (extensions register, runtime inits). Resolves even when Init fails or times out, as
   * Lambda then retries it at the first invoke: see `lastInit`.
   */
  static async start(config: LocalFunctionConfig, clock: Clock = systemClock): Promise<LambdaEnvironment> {
    const env = new LambdaEnvironment(config, clock);
    const s = env.s;
    try {
      mergeLayers(config.layers ?? [], s.optDir);
      s.ns = await makeNamespaces(s, config);
      if (s.ns) s.relay.sandboxHost = s.ns.sandboxAddress;
      const emulatorHost = s.ns?.hostAddress ?? '127.0.0.1';
      s.server = await startApiServer(
        (req, reply) => route(s, req, reply),
        () => clock.now(),
        emulatorHost,
      );
      s.runtimeEnv = runtimeVariables({
        functionName: s.cfg.functionName,
        functionVersion: s.cfg.functionVersion,
        memoryMb: s.cfg.memoryMb,
        region: s.cfg.region,
        initializationType: s.initializationType,
        runtimeApi: env.runtimeApi,
        codeDir: s.cfg.codeDir,
        optDir: s.inside(s.optDir),
        tmpDir: s.inside(s.tmpDir),
        handler: s.cfg.handler,
        nodePath: s.nodePath,
        nodeMajor: s.nodeMajor,
        runtimeDir: dirname(s.bootstrap),
        maxConcurrency: s.mode === 'managed-instances' ? s.maxConcurrency : undefined,
        customer: config.env ?? {},
        logStreamName: logStreamName(s.cfg.functionVersion, clock.now(), hex(16)),
        emulatorHost,
      });
      s.extensionEnv = extensionVariables(s.runtimeEnv);
      const result = await runInit(s, 'init', clock.now() + s.cfg.initTimeoutMs);
      // SnapStart's Init runs when a version is published: it is not part of any invoke's cold start.
      if (result.status === 'success' && s.mode !== 'snap-start') s.coldInitMs = result.durationMs;
      else if (s.mode === 'managed-instances') {
        s.terminated = true;
        s.terminationReason = `init failed (${result.errorType ?? result.status}); a Managed Instances environment is not repaired`;
      }
      if (result.status === 'success') {
        if (s.mode === 'snap-start') await takeSnapshot(s);
        else await freeze(s);
      }
    } catch (err) {
      await env.dispose();
      throw err;
    }
    return env;
  }

  /** Every record the platform generated, in order. */
  get telemetry(): readonly TelemetryRecord[] {
    return this.s.relay.records;
  }

  /** The last init phase (the cold start, or a re-init after a reset). */
  get lastInit(): InitResult | undefined {
    return this.s.initResult;
  }

  /** The host:port of this environment's Runtime/Extensions/Telemetry API (AWS_LAMBDA_RUNTIME_API). */
  get runtimeApi(): string {
    return `${this.emulatorHost}:${this.s.server?.port ?? 0}`;
  }

  /**
   * The host as the environment's processes reach it (OTEL_RELAY_EMULATOR_HOST inside): 127.0.0.1, or
   * with network 'isolated' the host side of its link-local pair, where a peer it must reach listens.
   */
  get emulatorHost(): string {
    return this.s.ns?.hostAddress ?? '127.0.0.1';
  }

  /** Where sandbox.localdomain resolves inside the environment. */
  get sandboxAddress(): string {
    return this.s.ns?.sandboxAddress ?? '127.0.0.1';
  }

  /** Whether the processes run in their own mount namespace (and, with network 'isolated', network). */
  get isolation(): 'none' | 'mount' | 'mount+network' {
    const ns = this.s.ns;
    return !ns ? 'none' : ns.network === 'isolated' ? 'mount+network' : 'mount';
  }

  /**
   * Under the cost model, this environment's cgroup directories (cpu: the quota and cpu.stat; cpuacct:
   * one leaf per process; memory: the limit, peak and OOM counter); undefined without the model.
   */
  get cgroups(): Readonly<{ cpu: string; cpuacct: string; memory: string }> | undefined {
    return this.s.cgroups?.dirs;
  }

  get isFrozen(): boolean {
    return this.s.frozen;
  }

  /** Snap-start: a snapshot was taken and its restore (at the next invoke) is still to come. */
  get awaitingRestore(): boolean {
    return this.s.snapshotAt !== undefined;
  }

  /** The variables the runtime / an extension process is started with. */
  variables(role: 'runtime' | 'extension'): Readonly<Record<string, string>> {
    return role === 'runtime' ? this.s.runtimeEnv : this.s.extensionEnv;
  }

  async invoke(event: unknown, opts: InvokeOptions = {}): Promise<InvocationResult> {
    const s = this.s;
    if (s.terminated || s.closing || s.phase === 'dead') {
      throw new EnvironmentTerminatedError(s.terminationReason);
    }
    if (s.mode === 'managed-instances') return invokeManaged(s, event, opts);
    return s.serial(() => invokeOnDemand(s, event, opts));
  }

  /** Shuts the environment down (SIGTERM runtime, SHUTDOWN to extensions, SIGKILL at the deadline). */
  shutdown(reason = 'spindown'): Promise<ShutdownResult> {
    const s = this.s;
    if (!s.finalShutdown) {
      s.closing = true;
      s.finalShutdown = s.serial(async () => {
        const result = await shutdownProcesses(s, reason.toLowerCase());
        await close(s);
        return result;
      });
    }
    return s.finalShutdown;
  }

  /**
   * Kills every process at once (SIGKILL) and closes the APIs; safe to call any time, e.g. in afterEach.
   * The environment's /tmp is kept (tests inspect it) unless `removeTmp` is set and the emulator made it.
   */
  async dispose(opts: { removeTmp?: boolean } = {}): Promise<void> {
    const s = this.s;
    const procs = s.allProcesses();
    for (const p of procs) p.signal('SIGKILL');
    await Promise.race([Promise.all(procs.map((p) => p.exited)), s.sleep(REAP_MS)]);
    await close(s);
    if (opts.removeTmp && s.ownsTmp) removeWorkDir(s.workDir);
  }

  processes(): EnvironmentProcess[] {
    return this.s
      .allProcesses()
      .filter((p) => p.alive && p.pid > 0)
      .map((p) => ({ role: p.role, name: p.name, pid: p.pid }));
  }

  /** Captured stdout/stderr/log lines of every process, labelled. */
  output(): string {
    return this.s.outputLines.join('\n');
  }

  /**
   * The records of one invocation, in order: platform records carrying its requestId, and function
   * logs that name it (text logs carry the requestId as their second field, JSON logs as a property).
   */
  recordsFor(requestId: string): TelemetryRecord[] {
    return this.s.relay.records.filter((r) => {
      if (typeof r.record === 'string') return r.type === 'function' && r.record.includes(`\t${requestId}\t`);
      return (r.record as { requestId?: unknown } | null)?.requestId === requestId;
    });
  }

  /** Resolves with the first record (already generated or to come) that matches, or rejects at the timeout. */
  waitForRecord(match: (r: TelemetryRecord) => boolean, timeoutMs = 10_000): Promise<TelemetryRecord> {
    const found = this.s.relay.records.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolveWait, reject) => {
      const onRecord = (r: TelemetryRecord): void => {
        if (!match(r)) return;
        this.off('telemetry', onRecord);
        cancel();
        resolveWait(r);
      };
      const cancel = this.s.clock.setTimeout(() => {
        this.off('telemetry', onRecord);
        reject(new Error(`no matching telemetry record within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('telemetry', onRecord);
    });
  }
}
