// The local Lambda emulator: a programmatic API for tests and the core of `lambda-otel-relay local`.
//
// Inside: environment.ts (LambdaEnvironment, the public face) over environment/ (sandbox.ts: the state
// and its waits; init.ts, invoke.ts, managed-instances.ts, snap-start.ts, freeze.ts, shutdown.ts: the lifecycle;
// runtime-api.ts, extensions-api.ts, telemetry-api.ts, routes.ts: the three APIs' handlers),
// api-server.ts (the HTTP server and long polls), telemetry.ts (subscriptions, batching, delivery),
// processes.ts (spawn, process groups, output, /proc), layout.ts (/opt, extension discovery,
// variables), wire.ts (pure parsing of API bodies and errors), runtime/bootstrap.ts (the emulated
// Node.js runtime), run-local.ts (the CLI's core).
//
// @example
//   const env = await LambdaEnvironment.start({ codeDir: 'fn', handler: 'index.handler', layers: ['dist/layer'] });
//   try {
//     const r = await env.invoke({ hello: 'world' });
//     console.log(r.status, r.durationMs, r.postRuntimeMs);
//   } finally {
//     await env.shutdown();
//   }
//
// SnapStart: Init, then a snapshot (every process stopped), then the Restore phase at the first invoke.
//   const snap = await LambdaEnvironment.start({
//     codeDir: 'fn', handler: 'index.handler', layers: ['dist/layer'], mode: 'snap-start',
//     snapStart: { snapshotMs: 1_500, onSnapshot: () => collector.restart() },
//   });
//   const first = await snap.invoke({}); // first.restoreDurationMs; extensions saw no RESTORE event

export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export {
  defaultRuntimeBootstrap,
  EnvironmentTerminatedError,
  LambdaEnvironment,
  TooManyRequestsError,
} from './environment.js';
export type { InvocationLine, LocalRunOptions, LocalRunOutput, ShutdownLine } from './run-local.js';
export { runLocal } from './run-local.js';
export type {
  EnvironmentEvents,
  EnvironmentMode,
  EnvironmentProcess,
  ExtensionExitState,
  ExtensionShutdownState,
  InitializationType,
  InitResult,
  InvocationError,
  InvocationResult,
  InvocationStatus,
  InvokeOptions,
  LocalFunctionConfig,
  OutputLine,
  ProcessRole,
  RestoreResult,
  ShutdownResult,
  SnapStartOptions,
  TelemetryRecord,
} from './types.js';
