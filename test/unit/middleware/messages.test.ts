import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvocationContextManager, withMessageSpan, wrapHandler } from '../../../src/middleware/index.js';
import * as ev from '../../fixtures/middleware/events.js';
import { inMemoryTracing } from '../../fixtures/middleware/harness.js';

const tracing = inMemoryTracing();
beforeAll(() => {
  context.setGlobalContextManager(new InvocationContextManager());
  trace.setGlobalTracerProvider(tracing.provider);
});
beforeEach(() => tracing.exporter.reset());

// Hand-off off: these tests look at spans only.
const options = { signalDone: false, flush: [] };

describe('withMessageSpan', () => {
  it('gives each SQS message a CONSUMER span under the batch span, linked to its sender', async () => {
    const senders = [ev.traceparentFor(1), ev.traceparentFor(2)];
    const event = ev.sqs(senders.map((s) => ({ traceparent: s.header })));
    const handler = wrapHandler(async (e: typeof event) => {
      const out = [];
      for (const record of e.Records) out.push(await withMessageSpan(record, async () => record.messageId));
      return out;
    }, options);

    const ids = await handler(event, ev.lambdaContext('m-1'));

    const server = tracing.byName('orders-api');
    const batch = tracing.spans().find((s) => s.parentSpanContext?.spanId === server.spanContext().spanId)!;
    expect(batch.name).toBe('process orders-queue');
    const children = tracing
      .spans()
      .filter((s) => s.parentSpanContext?.spanId === batch.spanContext().spanId);
    expect(children.map((s) => s.attributes['messaging.message.id'])).toEqual(ids);
    children.forEach((s, i) => {
      expect(s.kind).toBe(SpanKind.CONSUMER);
      expect(s.links.map((l) => l.context.spanId)).toEqual([senders[i]!.spanId]);
      expect(s.attributes).toMatchObject({
        'messaging.system': 'aws_sqs',
        'messaging.destination.name': 'orders-queue',
      });
    });
  });

  it('records and rethrows what the message processing throws', async () => {
    const event = ev.sns(ev.TRACEPARENT);
    const boom = new Error('bad message');
    await expect(
      withMessageSpan(event.Records[0], () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    const span = tracing.byName('process order-events');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad message' });
    expect(span.attributes).toMatchObject({
      'messaging.system': 'aws.sns',
      'messaging.message.id': '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
    });
    expect(span.links[0]?.context.traceId).toBe(ev.TRACE_ID);
  });

  it('makes spans started inside the callback children of the message span', async () => {
    const [record] = ev.sqs([{}]).Records;
    await withMessageSpan(record, () => trace.getTracer('user').startSpan('inner').end());
    expect(tracing.byName('inner').parentSpanContext?.spanId).toBe(
      tracing.byName('process orders-queue').spanContext().spanId,
    );
  });
});
