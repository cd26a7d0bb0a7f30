// The one core both ways in share (middy middleware and wrapHandler): start the invocation's spans
// from the event and Lambda context, and at the end record the outcome, flush locally under a deadline,
// and hand off to the extension. Every piece of per-invocation state lives in the InvocationScope the
// caller holds (request.internal for middy, a closure for the wrapper), never at module scope, so
// concurrent invocations in one process (Lambda Managed Instances) stay apart.
import {
  type Attributes,
  type Context,
  INVALID_SPAN_CONTEXT,
  metrics,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { processColdStart } from './coldstart.js';
import type { RelayConfig } from './config.js';
import { type ExtensionHandoff, handoffFor } from './handoff.js';
import { errorMessage } from './log.js';
import { extractParentContext, linksFromMessages } from './propagation.js';
import { ATTR, parseFunctionArn } from './semconv.js';
import { installedSdk, type OtelRelaySdk, setupOtelRelay } from './setup.js';
import { detectTrigger, type TriggerInfo } from './trigger.js';
import type { Flushable, LambdaContext } from './types.js';

export const INSTRUMENTATION_SCOPE = 'lambda-otel-relay';
/** Kept free at the end of the invocation's time so the flush never makes it time out. */
export const FLUSH_SAFETY_MS = 2;
/** What the done signal may take when the flush used up its budget (a loopback round trip is < 1 ms). */
export const DONE_MIN_TIMEOUT_MS = 50;

/** How an invocation ended, as the caller saw it. */
export interface InvocationOutcome {
  result?: unknown;
  error?: unknown;
}

/** One invocation in flight. */
export interface InvocationScope {
  /** Empty when the context carried none (then no done signal is sent). */
  readonly requestId: string;
  readonly trigger: TriggerInfo;
  /** The SERVER span of the invocation. */
  readonly span: Span;
  /** The CONSUMER span of an SQS/SNS batch, child of `span`. */
  readonly batchSpan: Span | undefined;
  /** The context the handler runs in: the batch span if any, else the invocation span. */
  readonly context: Context;
  readonly lambdaContext: Partial<LambdaContext>;
  ended: boolean;
}

/** Whether a tracer provider has been registered globally (a ProxyTracerProvider with a real delegate). */
export function hasGlobalTracerProvider(): boolean {
  const global = trace.getTracerProvider();
  if (!(global instanceof ProxyTracerProvider)) return true;
  return global.getDelegate() !== new ProxyTracerProvider().getDelegate();
}

/** The package name early-timeout errors carry in `cause.package`, like middy's. */
export const TIMEOUT_PACKAGE = 'lambda-otel-relay';

/**
 * An early-timeout error: middy's `timeoutEarlyResponse` or wrapHandler's `timeoutEarlyInMillis`
 * (name TimeoutError, cause.package '@middy/core' or 'lambda-otel-relay').
 */
export function isTimeout(err: unknown): err is Error {
  if (!(err instanceof Error) || err.name !== 'TimeoutError') return false;
  const cause = err.cause as { package?: unknown } | undefined;
  return cause?.package === '@middy/core' || cause?.package === TIMEOUT_PACKAGE;
}

/**
 * `error.type` of a thrown value: the Error's name, else `_OTHER` (a thrown string or object has no
 * type the conventions could name).
 */
export function errorType(err: unknown): string {
  return err instanceof Error && err.name ? err.name : '_OTHER';
}

/** Sets ERROR status and `error.type` on `span`. */
function markError(span: Span, err: unknown): void {
  span.setAttribute(ATTR.errorType, errorType(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : describe(err) });
}

/** ERROR status, `error.type` and one exception event, for Errors and thrown non-Errors alike. */
export function recordError(span: Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  else span.recordException(describe(err));
  markError(span, err);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export class InvocationTracer {
  private readonly handoff: ExtensionHandoff;
  private tracer: Tracer | undefined;
  private flushables: Flushable[] | undefined;
  /** True when the flush targets are the SDK setupOtelRelay made, i.e. they export to the extension. */
  private flushesToExtension = false;
  private readying: Promise<void> | undefined;

  constructor(private readonly config: RelayConfig) {
    this.handoff = handoffFor(config.endpoint, config.log);
    // Set up at init (module scope, where the factory is called), not inside the first invocation.
    if (config.autoSetup && !config.tracerProvider && !hasGlobalTracerProvider()) {
      this.readying = this.autoSetup();
    }
  }

  /** Resolves when auto-setup (if any) is done; never rejects. Cheap after the first invocation. */
  ready(): Promise<void> | undefined {
    return this.readying;
  }

  private async autoSetup(): Promise<void> {
    try {
      await setupOtelRelay({ endpoint: this.config.endpoint.origin });
    } catch (err) {
      this.config.log.once('setup-failed', 'warn', errorMessage(err), {
        cause: errorMessage((err as Error).cause),
      });
    } finally {
      this.readying = undefined;
    }
  }

  private getTracer(): Tracer {
    this.tracer ??= (this.config.tracerProvider ?? trace.getTracerProvider()).getTracer(
      INSTRUMENTATION_SCOPE,
    );
    return this.tracer;
  }

  /**
   * Starts the spans of one invocation. Never throws: a broken event still gets an invocation span,
   * and if tracing itself fails the handler runs untraced (telemetry must not fail the function).
   */
  start(event: unknown, lambdaContext: LambdaContext | undefined): InvocationScope {
    const lc = lambdaContext ?? ({} as Partial<LambdaContext>);
    try {
      return this.startSpans(event, lc);
    } catch (err) {
      this.config.log.once(
        'start-failed',
        'warn',
        'could not start the invocation span; this invocation is not traced',
        {
          error: errorMessage(err),
        },
      );
      const span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
      return {
        requestId: lc.awsRequestId ?? '',
        trigger: { source: 'unknown', trigger: 'other', attributes: {} },
        span,
        batchSpan: undefined,
        context: trace.setSpan(ROOT_CONTEXT, span),
        lambdaContext: lc,
        ended: false,
      };
    }
  }

  private startSpans(event: unknown, lambdaContext: Partial<LambdaContext>): InvocationScope {
    const tracer = this.getTracer();
    const trigger = detectTrigger(event);
    const parent = extractParentContext(
      trigger.headers,
      this.config.xray ? process.env._X_AMZN_TRACE_ID : undefined,
    );
    const attributes: Attributes = {
      ...trigger.attributes,
      [ATTR.faasInvocationId]: lambdaContext.awsRequestId,
      [ATTR.faasColdstart]: processColdStart.take(this.config.clock.now()),
    };
    const arn = lambdaContext.invokedFunctionArn;
    if (arn) {
      attributes[ATTR.awsLambdaInvokedArn] = arn;
      const parsed = parseFunctionArn(arn);
      if (parsed) {
        attributes[ATTR.cloudResourceId] = parsed.resourceId;
        attributes[ATTR.cloudAccountId] = parsed.accountId;
      }
    }
    const span = tracer.startSpan(
      trigger.spanName ?? lambdaContext.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'invocation',
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
    let ctx = trace.setSpan(parent, span);
    let batchSpan: Span | undefined;
    if (trigger.batch) {
      const links = linksFromMessages(trigger.batch.messages, this.config.messageLinks);
      batchSpan = tracer.startSpan(
        trigger.batch.name,
        { kind: SpanKind.CONSUMER, attributes: trigger.batch.attributes, links },
        ctx,
      );
      ctx = trace.setSpan(ctx, batchSpan);
    }
    return {
      requestId: lambdaContext.awsRequestId ?? '',
      trigger,
      span,
      batchSpan,
      context: ctx,
      lambdaContext,
      ended: false,
    };
  }

  /** Records the outcome and ends the spans (once; later calls do nothing). */
  end(scope: InvocationScope, outcome: InvocationOutcome): void {
    if (scope.ended) return;
    scope.ended = true;
    try {
      this.recordOutcome(scope, outcome);
    } catch (err) {
      this.config.log.once('end-failed', 'warn', 'could not record the invocation outcome on its span', {
        error: errorMessage(err),
      });
    }
  }

  private recordOutcome(scope: InvocationScope, outcome: InvocationOutcome): void {
    const { span, batchSpan } = scope;
    if (outcome.error !== undefined) {
      const err = outcome.error;
      if (isTimeout(err)) {
        for (const s of batchSpan ? [batchSpan, span] : [span]) {
          s.setAttribute(ATTR.errorType, 'timeout');
          s.setStatus({
            code: SpanStatusCode.ERROR,
            message: 'the invocation timed out (timeoutEarlyInMillis)',
          });
        }
      } else {
        // The exception event goes on the span the handler ran in (the batch span, if any), once;
        // the invocation span gets the status and error.type.
        recordError(batchSpan ?? span, err);
        if (batchSpan) markError(span, err);
      }
    } else if (scope.trigger.trigger === 'http') {
      const status = (outcome.result as { statusCode?: unknown } | null | undefined)?.statusCode;
      if (typeof status === 'number') {
        span.setAttribute(ATTR.httpResponseStatusCode, status);
        // HTTP server spans: only 5xx is an error of the server.
        if (status >= 500) {
          span.setAttribute(ATTR.errorType, String(status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
    }
    batchSpan?.end();
    span.end();
  }

  private resolveFlushables(): Flushable[] {
    if (this.flushables) return this.flushables;
    if (this.config.flush) {
      this.flushables = this.config.flush;
      return this.flushables;
    }
    // setupOtelRelay's SDK if it is installed, else whatever global providers can flush.
    const sdk = installedSdk();
    if (sdk && !this.config.tracerProvider) {
      this.flushesToExtension = true;
      this.flushables = [{ forceFlush: () => sdk.then((s: OtelRelaySdk) => s.forceFlush()) }];
      return this.flushables;
    }
    let tracerProvider: unknown = this.config.tracerProvider ?? trace.getTracerProvider();
    if (tracerProvider instanceof ProxyTracerProvider) tracerProvider = tracerProvider.getDelegate();
    const found = [tracerProvider, metrics.getMeterProvider()];
    this.flushables = found.filter(
      (f): f is Flushable => typeof (f as Partial<Flushable> | undefined)?.forceFlush === 'function',
    );
    return this.flushables;
  }

  /**
   * Ends the invocation and hands it off: awaited with 'before-response'; started and left running
   * with 'after-response', so the caller can return the result now. Never throws.
   */
  complete(scope: InvocationScope, outcome: InvocationOutcome): Promise<void> | undefined {
    this.end(scope, outcome);
    if (this.config.handoff === 'before-response') return this.finish(scope);
    // Not even the synchronous start of the flush (span serialisation) runs before the runtime has
    // the result: setImmediate lets the response go out first.
    setImmediate(() => void this.finish(scope));
    return undefined;
  }

  /**
   * After `end`: flushes the function's buffered telemetry to the extension and then signals
   * "invocation done", together bounded by min(flushTimeoutMs, remaining time - margin). Never throws:
   * telemetry trouble is logged and never replaces the handler's result.
   */
  async finish(scope: InvocationScope): Promise<void> {
    const { clock, log } = this.config;
    const remaining = scope.lambdaContext.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
    const budget = Math.max(0, Math.min(this.config.flushTimeoutMs, remaining - FLUSH_SAFETY_MS));
    const deadline = clock.now() + budget;
    const flushables = this.resolveFlushables();
    // With no extension, flushing our own exporters only meets a refused connection.
    const skipFlush = this.handoff.absent && this.flushesToExtension;
    if (flushables.length > 0 && !skipFlush && budget > 0) {
      const outcome = await withDeadline(Promise.all(flushables.map((f) => f.forceFlush())), budget).catch(
        (err: unknown) => ({ error: err }),
      );
      if (outcome === 'timeout') {
        log.once(
          'flush-timeout',
          'warn',
          `the local flush did not finish within ${budget} ms; what it had not handed to the extension goes ` +
            'out with the next invocation (or is lost if the environment shuts down first)',
          { requestId: scope.requestId },
        );
      } else if (outcome !== 'done' && !(this.flushesToExtension && refused(outcome.error))) {
        // (A refused connection to the extension is reported once, by the hand-off that follows.)
        log.once(
          'flush-error',
          'warn',
          'the local flush failed; spans of this invocation may not reach the extension',
          { requestId: scope.requestId, error: errorMessage(outcome.error) },
        );
      }
    }
    if (this.config.signalDone && scope.requestId) {
      // Even after a flush that ran out of its budget the signal is worth sending (the extension then
      // stops waiting; late data is buffered for its next flush), as long as the invocation has time.
      const remainingNow = scope.lambdaContext.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
      const left = Math.min(
        Math.max(deadline - clock.now(), DONE_MIN_TIMEOUT_MS),
        remainingNow - FLUSH_SAFETY_MS,
      );
      if (left > 0) await this.handoff.signalDone(scope.requestId, left);
    }
  }
}

function refused(err: unknown): boolean {
  return errorMessage(err).includes('ECONNREFUSED');
}

/** Waits for `work` at most `ms`; the timer is unref'd so it never keeps a frozen process busy. */
function withDeadline(work: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref?.();
  });
  return Promise.race([work.then(() => 'done' as const), timeout]).finally(() => clearTimeout(timer));
}
