import middy from '@middy/core';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { cleanupOtelRelay, InvocationContextManager, otelRelay } from '../../../src/middleware/index.js';
import * as ev from '../../fixtures/middleware/events.js';
import { closedPort, logCapture, startDoneReceiver } from '../../fixtures/middleware/harness.js';
import { sleep, useInvocationHarness } from './invocation-harness.js';

const harness = useInvocationHarness(new InvocationContextManager());
const { tracing } = harness;

const userTracer = () => trace.getTracer('user-code');

describe('otelRelay (middy)', () => {
  it('records an API Gateway request as a SERVER span under the caller, with user spans beneath it', async () => {
    // Prepare
    const handler = middy(async () => {
      userTracer().startActiveSpan('load-order', (s) => s.end());
      await sleep(1);
      userTracer().startSpan('after-await').end();
      return { statusCode: 200, body: '{}' };
    }).use(otelRelay({ endpoint: harness.receiver.endpoint }));

    // Act
    const result = await handler(
      ev.apiGatewayRest({ traceparent: ev.TRACEPARENT }),
      ev.lambdaContext('req-1'),
    );

    // Assess
    expect(result).toEqual({ statusCode: 200, body: '{}' });
    const server = tracing.byName('GET /orders/{id}');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(ev.TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(ev.PARENT_SPAN_ID);
    expect(server.attributes).toMatchObject({
      'faas.trigger': 'http',
      'faas.invocation_id': 'req-1',
      'aws.lambda.invoked_arn': 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live',
      'cloud.resource_id': 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api',
      'cloud.account.id': '123456789012',
      'http.route': '/orders/{id}',
      'http.response.status_code': 200,
    });
    expect(typeof server.attributes['faas.coldstart']).toBe('boolean');
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    for (const name of ['load-order', 'after-await']) {
      const child = tracing.byName(name);
      expect(child.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
      expect(child.spanContext().traceId).toBe(ev.TRACE_ID);
    }
    expect(await harness.receiver.waitForDones(1)).toEqual(['req-1']);
  });

  it('names the span after the function and starts a new trace when no context is carried', async () => {
    const handler = middy(async () => 'ok').use(otelRelay({ endpoint: harness.receiver.endpoint }));
    await handler({ orderId: 1 }, ev.lambdaContext('req-2', 30_000, ''));
    const span = tracing.byName('orders-api');
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.attributes['faas.trigger']).toBe('other');
    expect(span.attributes['cloud.resource_id']).toBe(span.attributes['aws.lambda.invoked_arn']);
  });

  it('links an SQS batch to every sender and runs the handler inside the batch span', async () => {
    const senders = [ev.traceparentFor(1), ev.traceparentFor(2), ev.traceparentFor(3)];
    const handler = middy(async (event: { Records: unknown[] }) => {
      for (const _ of event.Records) userTracer().startSpan('process-message').end();
      return { batchItemFailures: [] };
    }).use(otelRelay({ endpoint: harness.receiver.endpoint }));

    await handler(
      ev.sqs([...senders.map((s) => ({ traceparent: s.header })), {}]) as { Records: unknown[] },
      ev.lambdaContext('req-sqs'),
    );

    const server = tracing.byName('orders-api');
    const batch = tracing.byName('process orders-queue');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.attributes['faas.trigger']).toBe('pubsub');
    expect(batch.kind).toBe(SpanKind.CONSUMER);
    expect(batch.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(batch.links.map((l) => l.context.spanId)).toEqual(senders.map((s) => s.spanId));
    expect(batch.links.map((l) => l.context.traceId)).toEqual(senders.map((s) => s.traceId));
    expect(batch.attributes).toMatchObject({
      'messaging.system': 'aws_sqs',
      'messaging.batch.message_count': 4,
    });
    const perMessage = tracing.spans().filter((s) => s.name === 'process-message');
    expect(perMessage).toHaveLength(4);
    for (const s of perMessage) expect(s.parentSpanContext?.spanId).toBe(batch.spanContext().spanId);
  });

  it('links AWSTraceHeader senders by default, and not with messageLinks: false', async () => {
    const xray = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const event = ev.sqs([{ awsTraceHeader: xray }]);
    await middy(async () => 'ok').use(otelRelay({ endpoint: harness.receiver.endpoint }))(
      event,
      ev.lambdaContext('a'),
    );
    expect(tracing.byName('process orders-queue').links[0]?.context.traceId).toBe(
      '5759e988bd862e3fe1be46a994272793',
    );
    tracing.exporter.reset();
    await middy(async () => 'ok').use(
      otelRelay({ endpoint: harness.receiver.endpoint, messageLinks: false }),
    )(event, ev.lambdaContext('b'));
    expect(tracing.byName('process orders-queue').links).toEqual([]);
  });

  it('uses _X_AMZN_TRACE_ID as the parent only when xray is configured', async () => {
    process.env._X_AMZN_TRACE_ID =
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    try {
      await middy(async () => 'ok').use(otelRelay({ endpoint: harness.receiver.endpoint }))(
        {},
        ev.lambdaContext('a'),
      );
      expect(tracing.byName('orders-api').parentSpanContext).toBeUndefined();
      tracing.exporter.reset();
      await middy(async () => 'ok').use(otelRelay({ endpoint: harness.receiver.endpoint, xray: true }))(
        {},
        ev.lambdaContext('b'),
      );
      expect(tracing.byName('orders-api').parentSpanContext?.spanId).toBe('53995c3f42cd8ad8');
    } finally {
      delete process.env._X_AMZN_TRACE_ID;
    }
  });

  it('records a thrown error on the span and rethrows it unchanged, after flushing and handing off', async () => {
    const boom = new Error('payment service down');
    const handler = middy(async () => {
      throw boom;
    }).use(otelRelay({ endpoint: harness.receiver.endpoint }));

    await expect(handler(ev.apiGatewayHttp(), ev.lambdaContext('req-err'))).rejects.toBe(boom);

    const span = tracing.byName('POST /orders');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'payment service down' });
    expect(span.attributes['error.type']).toBe('Error');
    expect(span.events.map((e) => e.name)).toContain('exception');
    expect(await harness.receiver.waitForDones(1)).toEqual(['req-err']);
  });

  it('marks a 5xx HTTP response as an error but leaves a 4xx one unset', async () => {
    const respond = (statusCode: number) =>
      middy(async () => ({ statusCode })).use(otelRelay({ endpoint: harness.receiver.endpoint }))(
        ev.functionUrl(),
        ev.lambdaContext(`req-${statusCode}`),
      );
    await respond(503);
    await respond(404);
    const [s503, s404] = tracing.spans();
    expect(s503?.status.code).toBe(SpanStatusCode.ERROR);
    expect(s503?.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(s404?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records and flushes a middy early timeout from onError', async () => {
    const flushed: string[] = [];
    const handler = middy(
      async (_e: unknown, _c: unknown, { signal }: { signal: AbortSignal }) => {
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        return 'too late';
      },
      { timeoutEarlyInMillis: 300 },
    ).use(
      otelRelay({
        endpoint: harness.receiver.endpoint,
        flush: { forceFlush: async () => void flushed.push('flushed') },
      }),
    );

    const err = await handler({}, ev.lambdaContext('req-timeout', 400)).catch((e: unknown) => e);

    expect((err as Error).name).toBe('TimeoutError');
    expect(await harness.receiver.waitForDones(1)).toEqual(['req-timeout']);
    const span = tracing.byName('orders-api');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.status.message).toMatch(/timed out/);
    expect(span.attributes['error.type']).toBe('timeout');
    expect(flushed).toEqual(['flushed']);
  });

  it('ends and hands off the invocation when another middleware returns early and calls the cleanup', async () => {
    const cache = {
      before: async (request: { internal: Record<string, unknown> }) => {
        await cleanupOtelRelay(request);
        return { statusCode: 200, body: 'cached' };
      },
    };
    const handler = middy(async () => ({ statusCode: 500 }))
      .use(otelRelay({ endpoint: harness.receiver.endpoint }))
      .use(cache);

    expect(await handler(ev.apiGatewayHttp(), ev.lambdaContext('req-cached'))).toEqual({
      statusCode: 200,
      body: 'cached',
    });
    expect(tracing.spans().map((s) => s.name)).toEqual(['POST /orders']);
    expect(await harness.receiver.waitForDones(1)).toEqual(['req-cached']);
  });

  it('flushes locally before it signals done', async () => {
    const handler = middy(async () => 'ok').use(
      otelRelay({
        endpoint: harness.receiver.endpoint,
        flush: [
          { forceFlush: async () => void harness.receiver.events.push('flush:traces') },
          { forceFlush: async () => void harness.receiver.events.push('flush:metrics') },
        ],
      }),
    );
    await handler({}, ev.lambdaContext('req-order'));
    await harness.receiver.waitForDones(1);
    expect(harness.receiver.events).toEqual(['flush:traces', 'flush:metrics', 'done:req-order']);
  });

  it('returns the result before the flush finishes, and signals done once it has (after-response)', async () => {
    let release: () => void = () => {};
    const flushGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = middy(async () => 'early').use(
      otelRelay({
        endpoint: harness.receiver.endpoint,
        flush: {
          forceFlush: async () => {
            await flushGate;
            harness.receiver.events.push('flushed');
          },
        },
      }),
    );
    expect(await handler({}, ev.lambdaContext('req-early'))).toBe('early');
    harness.receiver.events.push('returned');
    release();
    await harness.receiver.waitForDones(1);
    expect(harness.receiver.events).toEqual(['returned', 'flushed', 'done:req-early']);
  });

  it('returns only after the flush and hand-off with before-response', async () => {
    const handler = middy(async () => 'late').use(
      otelRelay({
        endpoint: harness.receiver.endpoint,
        handoff: 'before-response',
        flush: { forceFlush: async () => void harness.receiver.events.push('flushed') },
      }),
    );
    expect(await handler({}, ev.lambdaContext('req-late'))).toBe('late');
    harness.receiver.events.push('returned');
    expect(harness.receiver.events).toEqual(['flushed', 'done:req-late', 'returned']);
  });

  it('returns the handler result when the flush fails, and logs it once', async () => {
    const log = logCapture();
    const handler = middy(async () => 'result').use(
      otelRelay({
        endpoint: harness.receiver.endpoint,
        log: log.sink,
        flush: {
          forceFlush: () => Promise.reject(new Error('exporter exploded')),
        },
      }),
    );
    expect(await handler({}, ev.lambdaContext('f1'))).toBe('result');
    expect(await handler({}, ev.lambdaContext('f2'))).toBe('result');
    expect(await harness.receiver.waitForDones(2)).toEqual(['f1', 'f2']);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ level: 'warn', error: 'exporter exploded' });
  });

  it('gives up on a flush that outlives flushTimeoutMs and still returns the result', async () => {
    const log = logCapture();
    const handler = middy(async () => 'result').use(
      otelRelay({
        endpoint: harness.receiver.endpoint,
        log: log.sink,
        handoff: 'before-response',
        flushTimeoutMs: 20,
        flush: { forceFlush: () => new Promise(() => {}) },
      }),
    );
    expect(await handler({}, ev.lambdaContext('slow'))).toBe('result');
    expect(log.lines[0]?.msg).toMatch(/did not finish within 20 ms/);
    // The extension is still told, so it does not wait for runtimeDone.
    expect(harness.receiver.dones).toEqual(['slow']);
  });

  it('keeps the flush inside the invocation remaining time', async () => {
    let flushes = 0;
    const handler = middy(async () => 'result', { timeoutEarlyInMillis: 0 }).use(
      otelRelay({
        endpoint: harness.receiver.endpoint,
        handoff: 'before-response',
        flush: { forceFlush: async () => void flushes++ },
      }),
    );
    // 1 ms left: less than the safety margin, so neither flush nor hand-off is attempted.
    expect(await handler({}, ev.lambdaContext('late', 1))).toBe('result');
    expect(flushes).toBe(0);
    expect(harness.receiver.dones).toEqual([]);
  });

  it('warns once and stops signalling when no extension listens', async () => {
    const log = logCapture();
    // 127.0.0.2: the refusing origin is remembered process-wide; it must not be one a later test reuses.
    const port = await closedPort('127.0.0.2');
    const handler = middy(async () => 'fine').use(
      otelRelay({ endpoint: `http://127.0.0.2:${port}`, log: log.sink, handoff: 'before-response' }),
    );
    expect(await handler({}, ev.lambdaContext('absent-0'))).toBe('fine');
    // Something listens there now; the middleware must not look again in this environment.
    const late = await startDoneReceiver(port, '127.0.0.2');
    try {
      for (let i = 1; i < 3; i++) expect(await handler({}, ev.lambdaContext(`absent-${i}`))).toBe('fine');
      expect(late.dones).toEqual([]);
    } finally {
      await late.close();
    }
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]?.msg).toMatch(/no otel-relay extension listens/);
    expect(tracing.spans()).toHaveLength(3);
  });

  it('keeps concurrent invocations apart (Managed Instances)', async () => {
    const handler = middy(async (event: { id: string; wait: number }) => {
      await sleep(event.wait);
      userTracer().startSpan(`work-${event.id}`).end();
      await sleep(event.wait);
      return event.id;
    }).use(otelRelay({ endpoint: harness.receiver.endpoint }));

    const ids = ['a', 'b', 'c', 'd'];
    const results = await Promise.all(
      ids.map((id, i) => handler({ id, wait: 8 - 2 * i }, ev.lambdaContext(`req-${id}`))),
    );

    expect(results).toEqual(ids);
    const servers = tracing.spans().filter((s) => s.name === 'orders-api');
    for (const id of ids) {
      const server = servers.find((s) => s.attributes['faas.invocation_id'] === `req-${id}`)!;
      const work = tracing.byName(`work-${id}`);
      expect(work.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    }
    expect(new Set(servers.map((s) => s.spanContext().traceId)).size).toBe(4);
    expect([...(await harness.receiver.waitForDones(4))].sort()).toEqual(ids.map((id) => `req-${id}`));
  });

  it('keeps concurrent invocations apart when middy shares one internal object between requests', async () => {
    const shared = {};
    const handler = middy(
      async (event: { id: string; wait: number }) => {
        await sleep(event.wait);
        return event.id;
      },
      { internal: shared },
    ).use(otelRelay({ endpoint: harness.receiver.endpoint }));

    await Promise.all(
      ['x', 'y', 'z'].map((id, i) => handler({ id, wait: 6 - 2 * i }, ev.lambdaContext(`req-${id}`))),
    );

    const servers = tracing.spans().filter((s) => s.name === 'orders-api');
    expect(servers.map((s) => s.attributes['faas.invocation_id']).sort()).toEqual([
      'req-x',
      'req-y',
      'req-z',
    ]);
    expect([...(await harness.receiver.waitForDones(3))].sort()).toEqual(['req-x', 'req-y', 'req-z']);
  });

  it('does not let one invocation become the parent of the next', async () => {
    const handler = middy(async () => 'ok').use(otelRelay({ endpoint: harness.receiver.endpoint }));
    await handler({}, ev.lambdaContext('first'));
    await handler({}, ev.lambdaContext('second'));
    const [a, b] = tracing.spans();
    expect(b?.parentSpanContext).toBeUndefined();
    expect(b?.spanContext().traceId).not.toBe(a?.spanContext().traceId);
  });

  it('rejects bad options at creation with a message that says what to fix', () => {
    expect(() => otelRelay({ endpoint: 'not a url' })).toThrow(/endpoint "not a url" is not a URL/);
    expect(() => otelRelay({ endpoint: 'https://127.0.0.1:4318' })).toThrow(/must be http/);
    expect(() => otelRelay({ flushTimeoutMs: -1 })).toThrow(/flushTimeoutMs/);
    expect(() => otelRelay({ flush: {} as never })).toThrow(/forceFlush/);
    expect(() => otelRelay({ handoff: 'never' as never })).toThrow(/handoff must be/);
  });
});
