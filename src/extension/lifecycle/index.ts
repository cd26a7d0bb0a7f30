// Public surface of lifecycle/: the loop main.ts runs, and the Lambda API clients.
export {
  createExtensionsApiClient,
  type ExtensionsApiClient,
  ExtensionsApiError,
  type InvokeEvent,
  type LifecycleEvent,
  type RegisterResult,
  type ShutdownEvent,
} from './extensions-api.js';
export { type ExtensionDeps, runExtension } from './run.js';
export {
  startTelemetryListener,
  subscribeTelemetry,
  type TelemetryEvent,
  type TelemetryListener,
} from './telemetry-api.js';
