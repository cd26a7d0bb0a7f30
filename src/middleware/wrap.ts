// wrapHandler(): the same invocation tracing for handlers without middy. The handler runs inside
// `context.with`, so user spans join the invocation trace with any AsyncLocalStorage context manager.
// The wrapper keeps the handler's style: async stays async; callback-style stays callback-style, so the
// runtime's callbackWaitsForEmptyEventLoop semantics are unchanged.
import { context } from '@opentelemetry/api';
import { resolveConfig } from './config.js';
import { type InvocationScope, InvocationTracer, TIMEOUT_PACKAGE } from './invocation.js';
import { RelayLog } from './log.js';
import type {
  AsyncLambdaHandler,
  CallbackLambdaHandler,
  LambdaCallback,
  LambdaContext,
  LambdaHandler,
  OtelRelayOptions,
} from './types.js';
import { zeroCodeActive } from './zero-code-mark.js';

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
  if (zeroCodeActive()) {
    // The zero-code wrapper already traces, flushes and hands off every invocation of this process.
    if (typeof handler !== 'function') {
      throw new TypeError('wrapHandler: expected the Lambda handler function as first argument');
    }
    new RelayLog(options?.log).write(
      'info',
      'wrapHandler: the zero-code wrapper (AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler) traces this ' +
        'function; wrapHandler steps aside and its options are not used',
    );
    return handler;
  }
  return traceHandler(handler, options);
}

/** wrapHandler without the zero-code check: what the zero-code wrapper itself uses. */
export function traceHandler<TEvent, TResult>(
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
  ): Promise<Outcome<TResult>> => {
    const ready = core.ready();
    if (ready) await ready;
    const scope = core.start(event, lambdaContext);
    const early = earlyTimeout(config.timeoutEarlyMs, lambdaContext);
    const handled = (async (): Promise<Outcome<TResult>> => {
      try {
        return { ok: true, result: await context.with(scope.context, () => invoke(scope)) };
      } catch (error) {
        return { ok: false, error };
      }
    })();
    const first = await (early ? Promise.race([handled, early.fired]) : handled);
    early?.cancel();
    if (first === TIMED_OUT) {
      // Lambda stops the invocation soon: end, flush and hand off now, before answering the runtime.
      const error = timeoutError(config.timeoutEarlyMs);
      core.end(scope, { error });
      await core.finish(scope);
      return { ok: false, error };
    }
    await core.complete(scope, first.ok ? { result: first.result } : { error: first.error });
    return first;
  };

  const asStreaming = (target: StreamingHandler): StreamingHandler =>
    async function otelRelayStreamingHandler(event, responseStream, lambdaContext) {
      // The invocation ends when the handler settles; the runtime then checks the stream is finished.
      const o = await run(event as TEvent, lambdaContext, () =>
        Promise.resolve(target(event, responseStream, lambdaContext) as TResult),
      );
      if (o.ok) return o.result;
      throw o.error;
    };

  // awslambda.streamifyResponse(fn) marks `fn`; the wrapper keeps the marks so the runtime streams.
  if (isStreamingHandler(handler)) {
    const wrapped = asStreaming(handler as unknown as StreamingHandler);
    for (const key of Object.getOwnPropertySymbols(handler)) {
      (wrapped as unknown as Record<symbol, unknown>)[key] = (handler as unknown as Record<symbol, unknown>)[
        key
      ];
    }
    return wrapped as unknown as LambdaHandler<TEvent, TResult>;
  }

  if (handler.length >= 3) {
    const callbackHandler = handler as CallbackLambdaHandler<TEvent, TResult>;
    const streamingCall = asStreaming(handler as unknown as StreamingHandler);
    const wrappedCallback: CallbackLambdaHandler<TEvent, TResult> = (event, lambdaContext, callback) => {
      // streamifyResponse(wrapHandler(fn)): the runtime calls us as (event, responseStream, context).
      if (isResponseStream(lambdaContext) && isLambdaContext(callback)) {
        return streamingCall(event, lambdaContext, callback) as never;
      }
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

type Outcome<T> = { ok: true; result: T } | { ok: false; error: unknown };
type StreamingHandler = (event: unknown, responseStream: unknown, context: LambdaContext) => unknown;

/** The mark awslambda.streamifyResponse puts on a handler. */
export const STREAMING_MARK = Symbol.for('aws.lambda.runtime.handler.streaming');

export function isStreamingHandler(handler: unknown): boolean {
  return (
    typeof handler === 'function' && Boolean((handler as unknown as Record<symbol, unknown>)[STREAMING_MARK])
  );
}

function isResponseStream(v: unknown): boolean {
  const s = v as { write?: unknown; end?: unknown } | null;
  return typeof s === 'object' && s !== null && typeof s.write === 'function' && typeof s.end === 'function';
}

function isLambdaContext(v: unknown): v is LambdaContext {
  const c = v as Partial<LambdaContext> | null;
  return typeof c === 'object' && c !== null && typeof c.getRemainingTimeInMillis === 'function';
}

const TIMED_OUT = Symbol('timed out');

/** Fires `timeoutEarlyMs` before the invocation's deadline; undefined when off or the deadline is unknown. */
function earlyTimeout(
  timeoutEarlyMs: number,
  lambdaContext: LambdaContext | undefined,
): { fired: Promise<typeof TIMED_OUT>; cancel(): void } | undefined {
  const remaining = lambdaContext?.getRemainingTimeInMillis?.();
  if (timeoutEarlyMs <= 0 || typeof remaining !== 'number' || !Number.isFinite(remaining)) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const fired = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, remaining - timeoutEarlyMs));
  });
  return { fired, cancel: () => clearTimeout(timer) };
}

function timeoutError(timeoutEarlyMs: number): Error {
  const error = new Error(
    `the invocation was about to time out; its span was ended and flushed ${timeoutEarlyMs} ms before the ` +
      'Lambda timeout (wrapHandler timeoutEarlyInMillis), and the handler result that comes later is discarded',
    { cause: { package: TIMEOUT_PACKAGE } },
  );
  error.name = 'TimeoutError';
  return error;
}
