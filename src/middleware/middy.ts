// The middy middleware (middy 4–7). One publish function serves `after` and `onError`; the invocation
// lives in request.internal under a namespaced key, so an early return from another middleware, an
// error or middy's early timeout all end, flush and hand off the same invocation exactly once.
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { resolveConfig } from './config.js';
import { type ContextCell, enterInvocationContext } from './context-manager.js';
import { type InvocationScope, InvocationTracer } from './invocation.js';
import { RelayLog } from './log.js';
import type { MiddyMiddleware, MiddyRequest, OtelRelayOptions } from './types.js';
import { zeroCodeActive } from './zero-code-mark.js';

/** Key of the invocation scope in middy's `request.internal`. */
export const MIDDY_INTERNAL_KEY = 'lambda-otel-relay:invocation';
/**
 * A cleanup function in request.internal, as powertools does it: a middleware that returns early
 * from `before` (middy then skips `after`) calls it, or `cleanupOtelRelay(request)`, to end and flush.
 */
export const MIDDY_CLEANUP_KEY = 'lambda-otel-relay:cleanup';

/**
 * Ends, flushes and hands off the invocation of `request` now. For middlewares that return early from
 * `before`: middy then runs no `after` hooks. Safe to call more than once.
 */
export async function cleanupOtelRelay(request: { internal: Record<string, unknown> }): Promise<void> {
  const cleanup = request.internal[MIDDY_CLEANUP_KEY];
  if (typeof cleanup === 'function') await (cleanup as () => Promise<void>)();
}

/**
 * middy middleware: a SERVER span per invocation (FaaS semantic conventions, trigger detection, W3C
 * context from HTTP headers, SQS/SNS messages as links), then a local flush and the "invocation done"
 * signal to the extension. Use it first, so user spans made with @opentelemetry/api join the trace.
 *
 * @example
 * import middy from '@middy/core';
 * import { otelRelay } from 'lambda-otel-relay/middleware';
 * export const handler = middy(async (event) => ({ statusCode: 200, body: 'ok' })).use(otelRelay());
 */
export function otelRelay<TEvent = unknown, TResult = unknown>(
  options?: OtelRelayOptions,
): MiddyMiddleware<TEvent, TResult> {
  if (zeroCodeActive()) {
    // The zero-code wrapper already traces, flushes and hands off every invocation of this process.
    new RelayLog(options?.log).write(
      'info',
      'otelRelay: the zero-code wrapper (AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler) traces this ' +
        'function; the middleware steps aside and its options are not used',
    );
    return {};
  }
  const config = resolveConfig(options);
  const core = new InvocationTracer(config);
  // Also keyed by the request object itself: middy lets `plugin.internal` be one object shared by
  // every request, and concurrent invocations must not find each other's scope there.
  const scopes = new WeakMap<object, { scope: InvocationScope; cell: ContextCell | undefined }>();

  // Not async until it must be: the context has to be entered before the first await to reach the handler.
  const otelRelayBefore = (request: MiddyRequest<TEvent, TResult>): Promise<void> | undefined => {
    const entered = enterInvocationContext(ROOT_CONTEXT);
    const cell = typeof entered === 'object' ? entered : undefined;
    const begin = () => {
      const scope = core.start(request.event, request.context);
      scopes.set(request, { scope, cell });
      request.internal[MIDDY_INTERNAL_KEY] = scope;
      request.internal[MIDDY_CLEANUP_KEY] = () => publish(request);
      if (cell) {
        cell.ctx = scope.context;
      } else if (enterInvocationContext(scope.context) === 'unsupported') {
        config.log.once(
          'no-context-manager',
          'warn',
          'no AsyncLocalStorage context manager is registered, so spans made in the handler do not join ' +
            'the invocation trace; call setupOtelRelay() or register one',
        );
      }
    };
    const ready = core.ready();
    if (ready) return ready.then(begin);
    begin();
    return undefined;
  };

  const publish = async (request: MiddyRequest<TEvent, TResult>): Promise<void> => {
    const state = scopes.get(request);
    if (!state || state.scope.ended) return;
    const { scope, cell } = state;
    // The invocation is over: code that runs later in this flow no longer belongs to it.
    if (cell) cell.ctx = ROOT_CONTEXT;
    await core.complete(
      scope,
      request.error !== undefined && request.error !== null
        ? { error: request.error }
        : { result: request.response },
    );
  };

  const otelRelayAfter = (request: MiddyRequest<TEvent, TResult>) => publish(request);
  const otelRelayOnError = (request: MiddyRequest<TEvent, TResult>) => publish(request);
  return { before: otelRelayBefore, after: otelRelayAfter, onError: otelRelayOnError };
}
