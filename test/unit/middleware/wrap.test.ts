// wrapHandler, with the standard AsyncLocalStorageContextManager from @opentelemetry/context-async-hooks
// (what NodeSDK registers), to show both ways in work with a context manager that is not ours.
import middy from '@middy/core';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { describe, expect, it } from 'vitest';
import { type LambdaContext, otelRelay, wrapHandler } from '../../../src/middleware/index.js';
import * as ev from '../../fixtures/middleware/events.js';
import { logCapture } from '../../fixtures/middleware/harness.js';
import { sleep, useInvocationHarness } from './invocation-harness.js';

const harness = useInvocationHarness(new AsyncLocalStorageContextManager());
const { tracing } = harness;

describe('wrapHandler', () => {
  it('traces an async handler, passes its result through and hands off after the flush', async () => {
    const handler = wrapHandler(
      async (event: { n: number }, ctx: LambdaContext) => {
        await sleep(1);
        trace.getTracer('user').startSpan('compute').end();
        return { doubled: event.n * 2, id: ctx.awsRequestId };
      },
      {
        endpoint: harness.receiver.endpoint,
        flush: { forceFlush: async () => void harness.receiver.events.push('flush') },
      },
    );

    const result = await handler({ n: 21 }, ev.lambdaContext('w-1'));

    expect(result).toEqual({ doubled: 42, id: 'w-1' });
    await harness.receiver.waitForDones(1);
    const server = tracing.byName('orders-api');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(tracing.byName('compute').parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(harness.receiver.events).toEqual(['flush', 'done:w-1']);
  });

  it('rethrows the handler error unchanged and records it', async () => {
    const boom = new TypeError('bad order');
    const handler = wrapHandler(
      async () => {
        throw boom;
      },
      { endpoint: harness.receiver.endpoint },
    );
    await expect(handler(ev.apiGatewayRest(), ev.lambdaContext('w-err'))).rejects.toBe(boom);
    const span = tracing.byName('GET /orders/{id}');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad order' });
    expect(span.attributes['error.type']).toBe('TypeError');
    expect(await harness.receiver.waitForDones(1)).toEqual(['w-err']);
  });

  it('keeps a callback-style handler callback-style and calls back before the hand-off by default', async () => {
    const handler = wrapHandler(
      (event: { n: number }, _ctx: LambdaContext, callback: (e?: Error | null, r?: number) => void) => {
        trace.getTracer('user').startSpan('in-callback-handler').end();
        setTimeout(() => callback(null, event.n + 1), 1);
      },
      { endpoint: harness.receiver.endpoint },
    );
    expect(handler.length).toBe(3);

    const result = await new Promise((resolve, reject) => {
      const out = handler({ n: 1 }, ev.lambdaContext('cb-1'), (err, r) => {
        harness.receiver.events.push('callback');
        if (err) reject(err);
        else resolve(r);
      });
      expect(out).toBeUndefined();
    });

    expect(result).toBe(2);
    await harness.receiver.waitForDones(1);
    expect(harness.receiver.events).toEqual(['callback', 'done:cb-1']);
    expect(tracing.byName('in-callback-handler').parentSpanContext?.spanId).toBe(
      tracing.byName('orders-api').spanContext().spanId,
    );
  });

  it('calls back after the hand-off with before-response', async () => {
    const handler = wrapHandler(
      (_e: unknown, _c: LambdaContext, callback: (e?: Error | null, r?: string) => void) =>
        callback(null, 'x'),
      { endpoint: harness.receiver.endpoint, handoff: 'before-response' },
    );
    await new Promise((resolve) =>
      handler({}, ev.lambdaContext('cb-2'), (_e, r) => {
        harness.receiver.events.push('callback');
        resolve(r);
      }),
    );
    expect(harness.receiver.events).toEqual(['done:cb-2', 'callback']);
  });

  it('passes a callback error through and records it', async () => {
    const handler = wrapHandler(
      (_e: unknown, _c: LambdaContext, callback: (e?: Error | string | null) => void) =>
        callback(new Error('declined')),
      { endpoint: harness.receiver.endpoint },
    );
    const err = await new Promise((resolve) => handler({}, ev.lambdaContext('cb-err'), (e) => resolve(e)));
    expect((err as Error).message).toBe('declined');
    expect(tracing.byName('orders-api').status.code).toBe(SpanStatusCode.ERROR);
  });

  it('keeps concurrent invocations apart', async () => {
    const handler = wrapHandler(
      async (event: { id: string; wait: number }) => {
        await sleep(event.wait);
        trace.getTracer('user').startSpan(`work-${event.id}`).end();
        return event.id;
      },
      { endpoint: harness.receiver.endpoint },
    );
    const ids = ['a', 'b', 'c'];
    expect(
      await Promise.all(ids.map((id, i) => handler({ id, wait: 6 - 2 * i }, ev.lambdaContext(id)))),
    ).toEqual(ids);
    for (const id of ids) {
      const server = tracing
        .spans()
        .find((s) => s.name === 'orders-api' && s.attributes['faas.invocation_id'] === id)!;
      expect(tracing.byName(`work-${id}`).parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    }
  });

  it('still runs the handler when called without a Lambda context, and signals nothing', async () => {
    const handler = wrapHandler(async () => 'no context', {
      endpoint: harness.receiver.endpoint,
      handoff: 'before-response',
    });
    expect(await handler({}, undefined as never)).toBe('no context');
    expect(tracing.spans()).toHaveLength(1);
    expect(harness.receiver.dones).toEqual([]);
  });

  it('runs the handler untraced when the tracer itself fails', async () => {
    const log = logCapture();
    const broken = {
      getTracer: () => ({
        startSpan: () => {
          throw new Error('tracer broke');
        },
        startActiveSpan: () => {
          throw new Error('tracer broke');
        },
      }),
    };
    const handler = wrapHandler(async () => 'still fine', {
      endpoint: harness.receiver.endpoint,
      tracerProvider: broken as never,
      log: log.sink,
    });
    expect(await handler({}, ev.lambdaContext('broken-1'))).toBe('still fine');
    expect(await handler({}, ev.lambdaContext('broken-2'))).toBe('still fine');
    expect(log.lines).toEqual([
      expect.objectContaining({ msg: expect.stringMatching(/not traced/), error: 'tracer broke' }),
    ]);
    expect(await harness.receiver.waitForDones(2)).toEqual(['broken-1', 'broken-2']);
  });

  it('rejects something that is not a function', () => {
    expect(() => wrapHandler('index.handler' as never)).toThrow(/expected the Lambda handler function/);
  });
});

describe('otelRelay with the standard AsyncLocalStorageContextManager', () => {
  it('makes user spans join the invocation when it is the first middleware', async () => {
    const handler = middy(async () => {
      await sleep(1);
      trace.getTracer('user').startSpan('user-span').end();
      return 'ok';
    }).use(otelRelay({ endpoint: harness.receiver.endpoint }));
    await handler({}, ev.lambdaContext('std-1'));
    expect(tracing.byName('user-span').parentSpanContext?.spanId).toBe(
      tracing.byName('orders-api').spanContext().spanId,
    );
  });
});
