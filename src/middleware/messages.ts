// Per-message spans for SQS and SNS batches. The semantic conventions want a span per message under
// the batch span, linked to that message's sender; only user code knows where a message's processing
// starts and ends, so this is a helper the handler calls (as the conventions suggest).
import { type Attributes, context, SpanKind, trace } from '@opentelemetry/api';
import { INSTRUMENTATION_SCOPE, recordError } from './invocation.js';
import { linksFromMessages, type MessageCarrier } from './propagation.js';
import { ATTR } from './semconv.js';

export interface MessageSpanOptions {
  /**
   * Link the span to the message's sender (SQS `AWSTraceHeader`, else a `traceparent` message
   * attribute). Default true.
   */
  link?: boolean;
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null ? (v as Rec) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The span name, attributes and link carrier of one SQS or SNS record. */
function describeRecord(record: unknown): {
  name: string;
  attributes: Attributes;
  carrier: MessageCarrier;
} {
  const r = rec(record);
  const sns = rec(r.Sns);
  const isSns = r.EventSource === 'aws:sns' || r.Sns !== undefined;
  const arn = isSns ? str(sns.TopicArn) : str(r.eventSourceARN);
  const destination = arn?.slice(arn.lastIndexOf(':') + 1);
  const attributes: Attributes = {
    [ATTR.messagingSystem]: isSns ? 'aws.sns' : 'aws_sqs',
    [ATTR.messagingOperationType]: 'process',
    [ATTR.messagingOperationName]: 'process',
  };
  if (destination) attributes[ATTR.messagingDestinationName] = destination;
  const id = isSns ? str(sns.MessageId) : str(r.messageId);
  if (id) attributes[ATTR.messagingMessageId] = id;
  const attrs = rec(isSns ? sns.MessageAttributes : r.messageAttributes);
  const value = (a: unknown) => str(rec(a).stringValue) ?? str(rec(a).Value);
  return {
    name: `process ${destination ?? 'unknown'}`,
    attributes,
    carrier: {
      traceparent: value(attrs.traceparent),
      tracestate: value(attrs.tracestate),
      awsTraceHeader: str(rec(r.attributes).AWSTraceHeader),
      messageId: id,
    },
  };
}

/**
 * Runs `fn` for one SQS or SNS record inside a CONSUMER span `process <queue|topic>`, a child of the
 * active span (the batch span otelRelay/wrapHandler started) and linked to the message's sender.
 * The span ends when `fn` settles; an error is recorded and rethrown.
 *
 * @example
 * export const handler = wrapHandler(async (event) => {
 *   for (const record of event.Records) await withMessageSpan(record, () => process(record));
 * });
 */
export async function withMessageSpan<T>(
  record: unknown,
  fn: () => T | Promise<T>,
  options: MessageSpanOptions = {},
): Promise<T> {
  const d = describeRecord(record);
  const links = linksFromMessages([d.carrier], options.link ?? true);
  const span = trace
    .getTracer(INSTRUMENTATION_SCOPE)
    .startSpan(d.name, { kind: SpanKind.CONSUMER, attributes: d.attributes, links });
  try {
    return await context.with(trace.setSpan(context.active(), span), fn);
  } catch (err) {
    recordError(span, err);
    throw err;
  } finally {
    span.end();
  }
}
