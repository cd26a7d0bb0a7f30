// The zero-code wrapper's handler module (dist/layer/otel-relay/zero-code.mjs). /opt/otel-relay-handler
// points `_HANDLER` here and keeps the function's own in OTEL_RELAY_ORIGINAL_HANDLER. At Init this
// module sets up the SDK (traces, metrics, logs to the extension over loopback), turns on the selected
// instrumentations (lazily: see instrumentations.ts), marks the process so an otelRelay()/wrapHandler()
// in the function's code steps aside, loads the function's handler as the runtime would, and exports
// it wrapped by the same invocation core as the middleware.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trace } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { RelayLog } from '../middleware/log.js';
import { setupOtelRelay } from '../middleware/setup.js';
import { traceHandler } from '../middleware/wrap.js';
import { markZeroCode } from '../middleware/zero-code-mark.js';
import {
  type InstrumentationName,
  installInstrumentations,
  platformHosts,
  selectInstrumentations,
} from './instrumentations.js';
import { HandlerLoadError, loadHandler } from './resolve-handler.js';

const log = new RelayLog();
const env = process.env;
const original = env.OTEL_RELAY_ORIGINAL_HANDLER;
if (!original) {
  throw new HandlerLoadError(
    'MalformedHandlerName',
    'otel-relay zero-code: OTEL_RELAY_ORIGINAL_HANDLER is not set; set AWS_LAMBDA_EXEC_WRAPPER=' +
      '/opt/otel-relay-handler instead of pointing the handler at this file',
  );
}
const taskRoot = env.LAMBDA_TASK_ROOT ?? process.cwd();

async function init(): Promise<unknown> {
  // OTEL_SDK_DISABLED=true: the function runs exactly as without the wrapper.
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true')
    return loadHandler(taskRoot, original as string);
  markZeroCode();
  const sdk = setupOtelRelay().catch((err: unknown) => {
    log.once('zero-code-setup', 'warn', `zero-code: ${(err as Error).message}`);
  });
  const here = dirname(fileURLToPath(import.meta.url));
  const req = createRequire(import.meta.url);
  const platform = platformHosts(env);
  const factory = (name: InstrumentationName) => (): Instrumentation =>
    (req(join(here, 'zero-code', `${name}.cjs`)) as { create(p: Set<string>): Instrumentation }).create(
      platform,
    );
  const names: InstrumentationName[] = [
    'http',
    'undici',
    'aws-sdk',
    'pg',
    'ioredis',
    'redis',
    'mysql2',
    'mongodb',
    'kafkajs',
  ];
  const factories = Object.fromEntries(names.map((n) => [n, factory(n)])) as Record<
    InstrumentationName,
    () => Instrumentation
  >;
  installInstrumentations(selectInstrumentations(env, log), factories, (name, instrumentation) => {
    instrumentation.setTracerProvider(trace.getTracerProvider());
    if (name === 'http') {
      // The builtins are loaded already: a require passes them through the instrumentation's hook,
      // and the ESM named exports (`import { request } from 'node:http'`) are brought up to date.
      req('node:http');
      req('node:https');
      syncBuiltinESMExports();
    }
  });
  await sdk;
  return loadHandler(taskRoot, original as string);
}

const userHandler = await init();

/** The function's handler, traced. */
export const handler = zeroCodeEnabled() ? traceHandler(userHandler as never) : userHandler;

function zeroCodeEnabled(): boolean {
  return env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true';
}
