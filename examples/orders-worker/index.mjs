// Example function: an SQS consumer traced with wrapHandler (no middy). The invocation span links to
// every message's sender (a `traceparent` message attribute); each message gets its own span.
import { SpanKind, trace } from '@opentelemetry/api';
import { wrapHandler } from 'lambda-otel-relay/middleware';

const tracer = trace.getTracer('orders-worker');

export const handler = wrapHandler(async (event) => {
  const batchItemFailures = [];
  for (const record of event.Records ?? []) {
    tracer.startActiveSpan(
      'process order message',
      { kind: SpanKind.CONSUMER, attributes: { 'messaging.message.id': record.messageId } },
      (span) => {
        try {
          const body = JSON.parse(record.body);
          span.setAttribute('order.id', String(body.orderId ?? 'unknown'));
        } catch (err) {
          span.recordException(err);
          batchItemFailures.push({ itemIdentifier: record.messageId });
        } finally {
          span.end();
        }
      },
    );
  }
  return { batchItemFailures };
});
