// Trace context from Lambda events: W3C headers of HTTP triggers, message attributes of SQS/SNS
// records, and (only when configured) AWS X-Ray headers. The global propagator is asked first, so a
// user's propagator setup (b3, jaeger, ...) is honoured; a small W3C parser covers the case where no
// propagator is registered at all.
import {
  type Context,
  createTraceState,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

/** Header names lower-cased; values are the first value of a header. */
export type HeaderCarrier = Record<string, string | undefined>;

/** What one SQS/SNS message offers for linking. */
export interface MessageCarrier {
  traceparent?: string;
  tracestate?: string;
  /** SQS system attribute `AWSTraceHeader` (X-Ray format). */
  awsTraceHeader?: string;
  /** `messaging.message.id` of the link. */
  messageId?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Parses a W3C `traceparent` (and optional `tracestate`) into a remote span context. */
export function parseTraceparent(
  traceparent: string | undefined,
  tracestate?: string,
): SpanContext | undefined {
  if (!traceparent) return undefined;
  const m = TRACEPARENT.exec(traceparent.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is forbidden; version 00 must have exactly four fields.
  if (version === 'ff' || (version === '00' && rest)) return undefined;
  const ctx: SpanContext = {
    traceId: traceId as string,
    spanId: spanId as string,
    traceFlags: Number.parseInt(flags as string, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (!isSpanContextValid(ctx)) return undefined;
  if (tracestate) ctx.traceState = createTraceState(tracestate);
  return ctx;
}

/** Parses an X-Ray trace header (`Root=1-8hex-24hex;Parent=16hex;Sampled=1`) into a remote span context. */
export function parseXRayHeader(header: string | undefined): SpanContext | undefined {
  if (!header) return undefined;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled = false;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (key === 'root') root = value;
    else if (key === 'parent') parent = value.toLowerCase();
    else if (key === 'sampled') sampled = value === '1';
  }
  const [version, epoch, unique, ...extra] = root?.split('-') ?? [];
  if (version !== '1' || !epoch || !unique || extra.length > 0 || !parent) return undefined;
  const traceId = `${epoch}${unique}`.toLowerCase();
  const ctx: SpanContext = {
    traceId,
    spanId: parent,
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
  return /^[0-9a-f]{32}$/.test(traceId) && /^[0-9a-f]{16}$/.test(parent) && isSpanContextValid(ctx)
    ? ctx
    : undefined;
}

const headerGetter = {
  get: (carrier: HeaderCarrier, key: string) => carrier[key.toLowerCase()],
  keys: (carrier: HeaderCarrier) => Object.keys(carrier),
};

/**
 * The parent context for an invocation: W3C (or the propagators of OTEL_PROPAGATORS / the user's
 * setup) from the event's headers; else, only when `xray` is on, the invocation's X-Ray header
 * (`_X_AMZN_TRACE_ID`) if it is sampled; else root.
 * Always starts from ROOT_CONTEXT, never the active context: a context left active by an earlier
 * invocation must not become this one's parent.
 */
export function extractParentContext(
  headers: HeaderCarrier | undefined,
  xrayHeader: string | undefined,
): Context {
  if (headers) {
    const extracted = propagation.extract(ROOT_CONTEXT, headers, headerGetter);
    if (isSpanContextValid(trace.getSpanContext(extracted) ?? invalidContext)) return extracted;
    const own = parseTraceparent(headers.traceparent, headers.tracestate);
    if (own) return trace.setSpanContext(extracted, own);
  }
  // Only a sampled X-Ray header is a parent. Without active tracing Lambda still sets the variable,
  // with Sampled=0: taking it as parent would have a parent-based sampler drop every invocation.
  const xray = parseXRayHeader(xrayHeader);
  if (xray && xray.traceFlags & TraceFlags.SAMPLED) return trace.setSpanContext(ROOT_CONTEXT, xray);
  return ROOT_CONTEXT;
}

const invalidContext: SpanContext = { traceId: '', spanId: '', traceFlags: 0 };

/**
 * One link per message that carries context. The SQS `AWSTraceHeader` system attribute comes first:
 * the AWS Lambda conventions name it, because SQS sets it itself while message attributes depend on
 * the sender (and count against its limit of ten); a `traceparent` message attribute is the fallback.
 * Each link names its message (`messaging.message.id`).
 */
export function linksFromMessages(messages: readonly MessageCarrier[], enabled: boolean): Link[] {
  const links: Link[] = [];
  if (!enabled) return links;
  for (const m of messages) {
    const ctx = parseXRayHeader(m.awsTraceHeader) ?? parseTraceparent(m.traceparent, m.tracestate);
    if (ctx)
      links.push(
        m.messageId
          ? { context: ctx, attributes: { 'messaging.message.id': m.messageId } }
          : { context: ctx },
      );
  }
  return links;
}
