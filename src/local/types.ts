// Public types of the local Lambda emulator. Other folders (extension tests, middleware tests, peers,
// the demo) code against these; keep them stable and documented.

/** `AWS_LAMBDA_INITIALIZATION_TYPE` / `initializationType`: an open union, as the platform adds values. */
export type InitializationType =
  | 'on-demand'
  | 'provisioned-concurrency'
  | 'snap-start'
  | 'lambda-managed-instances'
  | (string & {});

/**
 * How the environment is run: classic on-demand (freeze between invokes), Lambda Managed Instances, or
 * SnapStart (Init, a snapshot while every process is stopped, then a Restore phase before the first invoke).
 */
export type EnvironmentMode = 'on-demand' | 'managed-instances' | 'snap-start';

/** SnapStart mode: how the snapshot and the Restore phase are emulated. */
export interface SnapStartOptions {
  /**
   * How long every process stays stopped between the end of Init and the restore (the snapshot's
   * life), at least; the restore happens at the first invoke after that. Default 1000.
   */
  snapshotMs?: number;
  /**
   * Runs while the snapshot is taken (every process stopped), before the restore: e.g. a test restarts
   * the collector here so the relay's kept-alive sockets are dead after the restore, as they are in
   * Lambda. Awaited, within `hookTimeoutMs`.
   */
  onSnapshot?: () => Promise<void> | void;
  /** Bound on `onSnapshot`. Default 60_000. */
  hookTimeoutMs?: number;
  /** Limit of the Restore phase (after-restore hooks). Default 10_000, as in Lambda. */
  restoreTimeoutMs?: number;
}

export interface LocalFunctionConfig {
  /** The function code ("LAMBDA_TASK_ROOT"). */
  codeDir: string;
  /** "file.export", e.g. "index.handler"; ESM (.mjs / type:module) and CommonJS. */
  handler: string;
  /** Directories laid over /opt in order (later layers win); each may hold extensions/<name>. */
  layers?: string[];
  /** Function timeout, default 3000. */
  timeoutMs?: number;
  /** Default 128. */
  memoryMb?: number;
  /** Customer variables: given to the runtime and to every extension (like NODE_OPTIONS in Lambda). */
  env?: Record<string, string>;
  /** Default 'on-demand'. */
  mode?: EnvironmentMode;
  /** Snap-start only: the snapshot and the Restore phase. */
  snapStart?: SnapStartOptions;
  /** Managed-instances only: concurrent invocations per environment (AWS_LAMBDA_MAX_CONCURRENCY). Default 4. */
  maxConcurrency?: number;
  functionName?: string;
  functionVersion?: string;
  region?: string;
  accountId?: string;
  /** This environment's /tmp (created if absent; kept across resets). Every process gets TMPDIR=tmpDir. */
  tmpDir?: string;
  /** Node binary for the runtime, and first on PATH for extensions (Node 20/22/24 tests). */
  nodePath?: string;
  /** Init limit. Default 10_000 on-demand; max(130_000, timeoutMs) on managed instances and snap-start. */
  initTimeoutMs?: number;
  /** Override of the emulated runtime's bootstrap (default: dist/local/runtime.mjs). */
  runtimeBootstrap?: string;
  /** Called with every line any process of the environment writes (already labelled). Default: kept only. */
  onOutput?: (line: OutputLine) => void;
  /**
   * 'lambda': the environment is charged what Lambda charges (its own cgroups: a CPU quota of
   * memoryMb/1,769 of a CPU during invocations, 2 CPUs during Init, the memory limit enforced,
   * Max Memory Used as the group's peak, OOM kills as Runtime.OutOfMemory). 'none' (default here;
   * the CLI and the benches default to 'lambda'): full speed, as before. Where cgroups cannot be used,
   * one output line says so and the environment runs without the model.
   */
  costModel?: CostModel;
  /** The CFS period of the CPU quota under the cost model, in ms. Default 20. */
  cpuPeriodMs?: number;
  /**
   * 'host' (default): the host's network; a mount namespace (when allowed) gives the environment /opt
   * at its real path, a private /tmp and an /etc/hosts where sandbox.localdomain resolves to 127.0.0.1.
   * 'isolated': its own network namespace as well, reaching the host over a link-local veth pair
   * (OTEL_RELAY_EMULATOR_HOST inside, the address host peers must listen on).
   */
  network?: NetworkMode;
  /**
   * false: no mount namespace in 'host' network mode (the processes see the host's /opt, /tmp and
   * /etc/hosts; the layers are at the emulator's merged optDir). Default true.
   */
  mountNamespace?: boolean;
}

/** See LocalFunctionConfig.costModel. */
export type CostModel = 'lambda' | 'none';
/** See LocalFunctionConfig.network. */
export type NetworkMode = 'host' | 'isolated';

/** CPU time each process of the environment used during one invocation, in ms. */
export interface InvocationCpu {
  runtime: number;
  extensions: Record<string, number>;
}

export type InvocationStatus = 'success' | 'error' | 'timeout' | 'failure';

export interface InvocationError {
  errorType: string;
  errorMessage: string;
  /** Stack lines, as the Node.js runtime sends them. */
  trace?: string[];
}

export interface InvocationResult {
  requestId: string;
  /**
   * success: the runtime posted a response; error: the runtime posted /error (handled function error);
   * timeout: the function or an INVOKE extension ran past the deadline (the environment was reset);
   * failure: a process crashed or init failed (the environment was reset).
   */
  status: InvocationStatus;
  /** The parsed response body the runtime posted (even when the invoke later timed out or failed). */
  response?: unknown;
  /** The function's error body for `error`; the platform error (e.g. Runtime.ExitError) otherwise. */
  error?: InvocationError;
  /** `errorType` of platform.report, e.g. "Runtime.ExitError", "Extension.Crash", "Sandbox.Timedout". */
  errorType?: string;
  /** Milliseconds from invoke start until the client had the response (or error); absent if it never came. */
  responseMs?: number;
  /** platform.report durationMs: runtime time plus post-runtime extension time. */
  durationMs: number;
  /** PostRuntimeExtensionsDuration: from the runtime's next `next` to the last INVOKE extension's `next`. */
  postRuntimeMs: number;
  billedDurationMs: number;
  maxMemoryUsedMB: number;
  /** On the invocation that ran init (a cold start, or a re-init after a reset). */
  initDurationMs?: number;
  /** Snap-start: on the invocation that followed a restore (platform.report restoreDurationMs). */
  restoreDurationMs?: number;
  /**
   * CPU time of each process during this invocation (including a suppressed Init it ran): from the
   * process's own cpuacct group under the cost model, else from /proc (10 ms resolution).
   */
  cpuMs?: InvocationCpu;
}

/** Snap-start: how one Restore phase went (platform.restoreReport). */
export interface RestoreResult {
  status: 'success' | 'error' | 'timeout' | 'failure';
  errorType?: string;
  /** What went wrong, for people. */
  errorMessage?: string;
  durationMs: number;
  /** How long the processes were stopped for the snapshot (wall time). */
  snapshotMs: number;
}

export type ExtensionExitState = 'Exited' | 'ShutdownFailed' | 'Crashed';

export interface ShutdownResult {
  /** Lowercase, as on the wire: 'spindown' | 'timeout' | 'failure'. */
  reason: string;
  durationMs: number;
  /** The deadlineMs sent in the SHUTDOWN event (epoch ms). */
  deadlineMs: number;
  runtime: { exitCode: number | null; signal: string | null } | null;
  extensions: ExtensionShutdownState[];
}

export interface ExtensionShutdownState {
  name: string;
  state: ExtensionExitState;
  exitCode: number | null;
  signal: string | null;
}

/** One Telemetry API record, exactly as delivered to subscribers. */
export interface TelemetryRecord {
  time: string;
  type: string;
  record: unknown;
}

export interface OutputLine {
  /** 'runtime', 'extension', or 'platform' for the emulator's own notes (resets, init failures). */
  role: ProcessRole | 'platform';
  /** Extension name, or 'function' for the runtime. */
  name: string;
  stream: 'stdout' | 'stderr' | 'telemetry';
  text: string;
}

export type ProcessRole = 'runtime' | 'extension';

export interface EnvironmentProcess {
  role: ProcessRole;
  name: string;
  pid: number;
}

export interface InvokeOptions {
  /** Sent as Lambda-Runtime-Client-Context (JSON). */
  clientContext?: unknown;
  /** Sent as Lambda-Runtime-Cognito-Identity. */
  identity?: { cognitoIdentityId: string; cognitoIdentityPoolId: string };
  /** Sent as Lambda-Runtime-Aws-Tenant-Id (tenant isolation mode) and in platform.start. */
  tenantId?: string;
  /** Invoked qualifier (alias or version) appended to the ARN. */
  qualifier?: string;
  /** Fixed X-Amzn-Trace-Id for this invoke; generated otherwise. */
  traceId?: string;
  /** Called as soon as the client would have the response (before post-runtime extension work). */
  onResponse?: (response: { status: 'success' | 'error'; body: unknown }) => void;
}

export interface InitResult {
  phase: 'init' | 'invoke';
  status: 'success' | 'error' | 'timeout';
  errorType?: string;
  /** What went wrong, for people: which process, which exit code or error. */
  errorMessage?: string;
  durationMs: number;
}

/** Events of a LambdaEnvironment, for tests. */
export interface EnvironmentEvents {
  /** Every process was SIGSTOPped (on-demand, after an invoke). */
  frozen: [];
  /** Every process was SIGCONTed. */
  thawed: [];
  /** The environment was reset after a timeout or crash (processes shut down; init re-runs on the next invoke). */
  reset: [ShutdownResult];
  /** Managed instances: a crash terminated the environment (no reset); invoke() now throws. */
  terminated: [ShutdownResult];
  /** An init phase ended. */
  init: [InitResult];
  /** Snap-start: Init is done and every process is stopped (the snapshot). */
  snapshot: [];
  /** Snap-start: a Restore phase ended. */
  restore: [RestoreResult];
  /** A platform/function/extension record was generated. */
  telemetry: [TelemetryRecord];
}
