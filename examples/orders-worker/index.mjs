// Example function: an SQS consumer traced with wrapHandler (no middy). The batch span links to every
// message's sender (a `traceparent` message attribute); withMessageSpan gives each message its own
// span, linked to its sender, as the messaging semantic conventions describe.
import { trace } from '@opentelemetry/api';
import { withMessageSpan, wrapHandler } from 'lambda-otel-relay/middleware';

export const handler = wrapHandler(async (event) => {
  const batchItemFailures = [];
  for (const record of event.Records ?? []) {
    try {
      await withMessageSpan(record, async () => {
        const body = JSON.parse(record.body);
        trace.getActiveSpan()?.setAttribute('order.id', String(body.orderId ?? 'unknown'));
      });
    } catch {
      // Recorded on the message's span; SQS retries only this message.
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
});
