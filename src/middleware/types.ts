// Public types of the function side. The Lambda and middy shapes are declared here, not imported,
// so users without @types/aws-lambda or @middy/core pay nothing (the powertools pattern).
import type { TracerProvider } from '@opentelemetry/api';

/** The subset of the Lambda `Context` object this package reads. */
export interface LambdaContext {
  awsRequestId: string;
  invokedFunctionArn: string;
  functionName: string;
  functionVersion?: string;
  memoryLimitInMB?: string;
  logStreamName?: string;
  getRemainingTimeInMillis?: () => number;
  callbackWaitsForEmptyEventLoop?: boolean;
}

export type LambdaCallback<TResult = unknown> = (error?: Error | string | null, result?: TResult) => void;

/** An async handler: `(event, context) => Promise<result>`. */
export type AsyncLambdaHandler<TEvent = unknown, TResult = unknown> = (
  event: TEvent,
  context: LambdaContext,
) => Promise<TResult>;

/** A callback-style handler (Node.js 22 and earlier): `(event, context, callback) => void`. */
export type CallbackLambdaHandler<TEvent = unknown, TResult = unknown> = (
  event: TEvent,
  context: LambdaContext,
  callback: LambdaCallback<TResult>,
) => void;

/** Any handler shape `wrapHandler` accepts. */
export type LambdaHandler<TEvent = unknown, TResult = unknown> =
  | AsyncLambdaHandler<TEvent, TResult>
  | CallbackLambdaHandler<TEvent, TResult>;

/** Monotonic-enough wall clock in epoch milliseconds; injected so deadlines are testable. */
export interface Clock {
  now(): number;
}

/** Where one JSON log line goes; defaults to stdout. */
export type LogSink = (line: string) => void;

/** The middy request, as far as this middleware uses it (middy 4–7). */
export interface MiddyRequest<TEvent = unknown, TResult = unknown> {
  event: TEvent;
  context: LambdaContext;
  response: TResult | undefined;
  error: unknown;
  internal: Record<string, unknown>;
}

/** A middy middleware object (middy 4–7). */
export interface MiddyMiddleware<TEvent = unknown, TResult = unknown> {
  before?: (request: MiddyRequest<TEvent, TResult>) => unknown;
  after?: (request: MiddyRequest<TEvent, TResult>) => unknown;
  onError?: (request: MiddyRequest<TEvent, TResult>) => unknown;
}

/** Something whose buffered telemetry can be pushed out now (SDK providers and processors). */
export interface Flushable {
  forceFlush(): Promise<unknown>;
}

export type HandoffTiming = 'after-response' | 'before-response';

/** Options shared by `otelRelay()` and `wrapHandler()`. Every field is optional. */
export interface OtelRelayOptions {
  /**
   * Base URL of the local extension. Default `http://127.0.0.1:${OTEL_RELAY_HTTP_PORT ?? 4318}`.
   * Never taken from OTEL_EXPORTER_OTLP_ENDPOINT: in a function with the layer that variable names
   * the extension's upstream collector.
   */
  endpoint?: string;
  /** Tracer provider for the invocation span. Default: the global one (set up on first use if none). */
  tracerProvider?: TracerProvider;
  /**
   * When no tracer provider is registered, register one with `setupOtelRelay()` on first use.
   * Default true (false when OTEL_SDK_DISABLED=true). The SDK packages must then be installed in (or
   * bundled with) the function.
   */
  autoSetup?: boolean;
  /**
   * What to flush at the end of each invocation, before the "invocation done" signal. Default:
   * the providers `setupOtelRelay()` registered, else the global tracer and meter providers.
   */
  flush?: Flushable | Flushable[];
  /** Upper bound for the local flush, in ms; also capped by the invocation's remaining time. Default 1000. */
  flushTimeoutMs?: number;
  /**
   * When the local flush and the "invocation done" signal happen relative to the response:
   * - 'after-response' (default, except on Managed Instances): the handler's result goes back to the runtime at once and the flush
   *   and hand-off run right after, while the extension holds the environment unfrozen until it gets
   *   the signal. The client never waits for telemetry.
   * - 'before-response': the result is returned only after the flush and hand-off (bounded by
   *   flushTimeoutMs). The default on Lambda Managed Instances, where the extension gets no INVOKE
   *   event and cannot hold anything; use it too when no otel-relay extension holds the freeze (e.g.
   *   `endpoint` names a plain collector), so that nothing is left in flight when the environment freezes.
   */
  handoff?: HandoffTiming;
  /** Send the "invocation done" signal to the extension. Default true. */
  signalDone?: boolean;
  /**
   * Use the invocation's X-Ray header (`_X_AMZN_TRACE_ID`) as the parent when the event carries no W3C
   * context and the header is sampled (Lambda active tracing on). An unsampled header is ignored, so
   * invocations are never dropped because active tracing is off. Default false.
   */
  xray?: boolean;
  /**
   * Link SQS/SNS batch spans to the senders: the SQS `AWSTraceHeader` system attribute, else a
   * `traceparent` message attribute; each link carries `messaging.message.id`. Default true.
   */
  messageLinks?: boolean;
  /**
   * wrapHandler only (middy has `timeoutEarlyInMillis` of its own): this many ms before the Lambda
   * timeout, end the invocation span with `error.type=timeout`, flush it, signal done, and return a
   * TimeoutError to the runtime, so a timed-out invocation still leaves its span. The handler keeps
   * running until Lambda stops it; its late result is discarded. Default 0 (off).
   */
  timeoutEarlyInMillis?: number;
  /** Clock for deadlines (tests). Default `Date`. */
  clock?: Clock;
  /** Where warnings go (tests). Default stdout as JSON lines. */
  log?: LogSink;
}
