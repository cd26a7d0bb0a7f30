// The lifecycle manager: register → (config, receivers, Telemetry API) → the event loop.
// Whatever goes wrong after `register`, the extension keeps calling `next`: a telemetry fault must
// never become a function fault (pass-through mode).

import type { Clock, DeliveryFactory, Logger, SignalExporter } from '../export/types.js';
import { errorText } from '../log.js';
import { readSetting } from '../settings/registry.js';
import { EXTENSION_NAME, isManagedInstances } from '../settings/startup.js';
import type { RelayConfig } from '../settings/types.js';
import type { RelayCore } from './core.js';
import {
  createExtensionsApiClient,
  type ExtensionsApiClient,
  ExtensionsApiError,
  type LifecycleEvent,
} from './extensions-api.js';
import type { LookupAll } from './loopback.js';
import { isSnapStartInit } from './snap-start.js';

export interface ExtensionDeps {
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  log: Logger & { setLevel?(level: RelayConfig['logLevel']): void };
  /** Defaults to a client of AWS_LAMBDA_RUNTIME_API. */
  api?: ExtensionsApiClient;
  /**
   * The identifier when the launcher has registered already (it does so before Node boots, so the
   * runtime's Init is not held up by it); `register` is then skipped.
   */
  extensionId?: string;
  createDelivery?: DeliveryFactory;
  createExporter?: (config: RelayConfig, clock: Clock) => SignalExporter;
  /** Resolves exporter hostnames for the self-loop check (default: dns.lookup, every address). */
  lookup?: LookupAll;
  /** Loads the part of the extension that is not needed before `register` (kept off the first ms). */
  loadCore?: () => Promise<typeof import('./core.js')>;
  /** Called once the relay runs (tests read bound ports and counters from it). */
  onReady?: (core: RelayCore) => void;
}

/** Runs until SHUTDOWN; resolves with the process exit code. */
export async function runExtension(deps: ExtensionDeps): Promise<number> {
  const { env, log } = deps;
  const startedAt = deps.clock.now();
  const runtimeApi = env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi && !deps.api) {
    log.error('AWS_LAMBDA_RUNTIME_API is not set: not running inside Lambda; exiting');
    return 1;
  }
  const api = deps.api ?? createExtensionsApiClient(runtimeApi!, deps.extensionId);
  // Decided before config is read: it changes what may be registered (SHUTDOWN only on Managed Instances).
  // Problems are reported once, by the full config load after `register`.
  const managedInstances = isManagedInstances(env);
  const name = readSetting(env, EXTENSION_NAME, []);

  // 1. Register before anything else: the runtime does not start until every extension has.
  let extensionId: string;
  let functionName: string | undefined;
  let functionVersion: string | undefined;
  if (deps.extensionId) {
    extensionId = deps.extensionId;
    functionName = env.AWS_LAMBDA_FUNCTION_NAME;
    functionVersion = env.AWS_LAMBDA_FUNCTION_VERSION;
  } else
    try {
      const reg = await api.register(name, managedInstances ? ['SHUTDOWN'] : ['INVOKE', 'SHUTDOWN']);
      extensionId = reg.extensionId;
      functionName = reg.functionName ?? env.AWS_LAMBDA_FUNCTION_NAME;
      functionVersion = reg.functionVersion ?? env.AWS_LAMBDA_FUNCTION_VERSION;
    } catch (err) {
      log.error(
        'could not register with the Extensions API; the relay is not running and accepts no telemetry',
        {
          error: err,
        },
      );
      return 1;
    }

  // 2. Everything else. A failure here leaves the extension in pass-through mode.
  let core: RelayCore | undefined;
  try {
    const mod = await (deps.loadCore ?? (() => import('./core.js')))();
    core = await mod.RelayCore.start({
      env,
      clock: deps.clock,
      log,
      extensionId,
      runtimeApi,
      managedInstances,
      functionName,
      functionVersion,
      createDelivery: deps.createDelivery,
      createExporter: deps.createExporter,
      lookup: deps.lookup,
    });
    deps.onReady?.(core);
  } catch (err) {
    log.error(
      'otel-relay could not start; running in pass-through mode: the function is unaffected, its telemetry is not collected',
      { error: err },
    );
    core = undefined;
  }

  // 3. SnapStart: Init data must leave before the snapshot, or every restored copy exports it again.
  // A fault here costs only duplicates: `next` is still called.
  if (core && isSnapStartInit(env)) {
    try {
      await core.beforeSnapshot(startedAt);
    } catch (err) {
      log.error(
        'SnapStart: could not export Init telemetry before the snapshot; it stays buffered and may be exported once per restored environment',
        { error: err },
      );
    }
  }

  // 4. The event loop. Bounded by the platform: SHUTDOWN always comes, and `next` failing ends it.
  let faults = 0;
  for (;;) {
    let event: LifecycleEvent;
    try {
      core?.beforeNext();
      event = await nextWithRetry(api);
      core?.afterNext();
    } catch (err) {
      log.error('event/next failed; the extension exits', { error: err });
      await core?.close().catch(() => {});
      return 1;
    }
    try {
      if (event.eventType === 'INVOKE') {
        await core?.onInvoke(event);
      } else {
        await core?.onShutdown(event);
        return 0;
      }
    } catch (err) {
      faults++;
      // One line for the first fault, then a reminder now and then: never a log flood per invocation.
      if (faults === 1 || faults % 100 === 0) {
        log.error(
          `otel-relay internal fault (${faults} so far); continuing so the function is not affected`,
          {
            error: errorText(err),
          },
        );
      }
      if (event.eventType === 'SHUTDOWN') return 0;
    }
  }
}

/**
 * `next`, retried a few times (bounded: 3 attempts over ~300 ms) when the connection to the local API
 * fails; an answer with an error status is final. Exiting instead would be Extension.Crash, which
 * resets the function's environment.
 */
async function nextWithRetry(api: ExtensionsApiClient): Promise<LifecycleEvent> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.next();
    } catch (err) {
      const answered = err instanceof ExtensionsApiError && err.status !== undefined;
      if (answered || attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
