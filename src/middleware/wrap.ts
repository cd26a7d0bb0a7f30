// wrapHandler(): the same invocation tracing for handlers without middy. The handler runs inside
// `context.with`, so user spans join the invocation trace with any AsyncLocalStorage context manager.
// The wrapper keeps the handler's style: async stays async; callback-style stays callback-style, so the
// runtime's callbackWaitsForEmptyEventLoop semantics are unchanged.
import { context } from '@opentelemetry/api';
import { resolveConfig } from './config.js';
import { type InvocationScope, InvocationTracer } from './invocation.js';
import type {
  AsyncLambdaHandler,
  CallbackLambdaHandler,
  LambdaCallback,
  LambdaContext,
  LambdaHandler,
  OtelRelayOptions,
} from './types.js';

/**
 * Wraps a Lambda handler (async or callback-style) with the invocation span, local flush and
 * "invocation done" hand-off. The result or error of the handler is passed through unchanged.
 *
 * @example
 * import { wrapHandler } from 'lambda-otel-relay/middleware';
 * export const handler = wrapHandler(async (event, context) => ({ statusCode: 200, body: 'ok' }));
 */
export function wrapHandler<TEvent, TResult>(
  handler: AsyncLambdaHandler<TEvent, TResult>,
  options?: OtelRelayOptions,
): AsyncLambdaHandler<TEvent, TResult>;
export function wrapHandler<TEvent, TResult>(
  handler: CallbackLambdaHandler<TEvent, TResult>,
  options?: OtelRelayOptions,
): CallbackLambdaHandler<TEvent, TResult>;
export function wrapHandler<TEvent, TResult>(
  handler: LambdaHandler<TEvent, TResult>,
  options?: OtelRelayOptions,
): LambdaHandler<TEvent, TResult> {
  if (typeof handler !== 'function') {
    throw new TypeError('wrapHandler: expected the Lambda handler function as first argument');
  }
  const config = resolveConfig(options);
  const core = new InvocationTracer(config);

  /** Runs the handler in the invocation's context and settles with its outcome; never loses either. */
  const run = async (
    event: TEvent,
    lambdaContext: LambdaContext,
    invoke: (scope: InvocationScope) => Promise<TResult>,
  ): Promise<{ ok: true; result: TResult } | { ok: false; error: unknown }> => {
    const ready = core.ready();
    if (ready) await ready;
    const scope = core.start(event, lambdaContext);
    let outcome: { ok: true; result: TResult } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, result: await context.with(scope.context, () => invoke(scope)) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await core.complete(scope, outcome.ok ? { result: outcome.result } : { error: outcome.error });
    return outcome;
  };

  if (handler.length >= 3) {
    const callbackHandler = handler as CallbackLambdaHandler<TEvent, TResult>;
    const wrappedCallback: CallbackLambdaHandler<TEvent, TResult> = (event, lambdaContext, callback) => {
      const invoke = () =>
        new Promise<TResult>((resolve, reject) => {
          const done: LambdaCallback<TResult> = (error, result) => {
            if (error !== undefined && error !== null) reject(error);
            else resolve(result as TResult);
          };
          // A callback handler may also return a promise (mixed style); the first to settle wins.
          const returned = callbackHandler(event, lambdaContext, done) as unknown;
          if (returned && typeof (returned as Promise<TResult>).then === 'function') {
            (returned as Promise<TResult>).then(resolve, reject);
          }
        });
      void run(event, lambdaContext, invoke)
        .then((o) => (o.ok ? callback(null, o.result) : callback(o.error as Error | string)))
        // `run` never rejects; this rethrows, outside the promise, only what the callback itself threw.
        .catch((err: unknown) =>
          process.nextTick(() => {
            throw err;
          }),
        );
    };
    return wrappedCallback;
  }

  const asyncHandler = handler as AsyncLambdaHandler<TEvent, TResult>;
  const wrappedAsync: AsyncLambdaHandler<TEvent, TResult> = async (event, lambdaContext) => {
    const o = await run(event, lambdaContext, () => Promise.resolve(asyncHandler(event, lambdaContext)));
    if (o.ok) return o.result;
    throw o.error;
  };
  return wrappedAsync;
}
