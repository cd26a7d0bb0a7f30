// otelRelay() against every middy major it supports (4–7), as installed side by side.

import middy6 from '@middy/core';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import middy4 from 'middy-core-4';
import middy7 from 'middy-core-7';
import { describe, expect, it } from 'vitest';
import { InvocationContextManager, type MiddyMiddleware, otelRelay } from '../../../src/middleware/index.js';
import * as ev from '../../fixtures/middleware/events.js';
import { sleep, useInvocationHarness } from './invocation-harness.js';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
interface Middy extends Handler {
  use(m: MiddyMiddleware): Middy;
}
type MiddyFactory = (handler: (...args: never[]) => unknown, plugin?: Record<string, unknown>) => Middy;

const versions: Array<[string, MiddyFactory, boolean]> = [
  ['4', middy4 as unknown as MiddyFactory, false],
  ['6', middy6 as unknown as MiddyFactory, true],
  ['7', middy7 as unknown as MiddyFactory, true],
];

const harness = useInvocationHarness(new InvocationContextManager());
const { tracing } = harness;

describe.each(versions)('otelRelay with middy %s', (_version, middy) => {
  it('traces the request under its caller with user spans beneath and hands off', async () => {
    const handler = middy(async () => {
      await sleep(1);
      trace.getTracer('user').startSpan('user-work').end();
      return { statusCode: 200 };
    }).use(otelRelay({ endpoint: harness.receiver.endpoint }));

    expect(
      await handler(ev.apiGatewayRest({ traceparent: ev.TRACEPARENT }), ev.lambdaContext('v-1')),
    ).toEqual({
      statusCode: 200,
    });
    const server = tracing.byName('GET /orders/{id}');
    expect(server.parentSpanContext?.spanId).toBe(ev.PARENT_SPAN_ID);
    expect(tracing.byName('user-work').parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(await harness.receiver.waitForDones(1)).toEqual(['v-1']);
  });

  it('records an error from the handler and rethrows it', async () => {
    const boom = new Error('nope');
    const handler = middy(async () => {
      throw boom;
    }).use(otelRelay({ endpoint: harness.receiver.endpoint }));
    await expect(handler({}, ev.lambdaContext('v-err'))).rejects.toBe(boom);
    expect(tracing.byName('orders-api').status.code).toBe(SpanStatusCode.ERROR);
    expect(await harness.receiver.waitForDones(1)).toEqual(['v-err']);
  });
});

// timeoutEarlyInMillis exists since middy 5.
describe.each(versions.filter(([, , early]) => early))('otelRelay with middy %s', (_version, middy) => {
  it('records middy early timeout', async () => {
    const handler = middy(
      async (_e: unknown, _c: unknown, { signal }: { signal: AbortSignal }) =>
        new Promise((resolve) => signal.addEventListener('abort', resolve)),
      { timeoutEarlyInMillis: 300 },
    ).use(otelRelay({ endpoint: harness.receiver.endpoint }));
    await expect(handler({}, ev.lambdaContext('v-timeout', 400))).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(tracing.byName('orders-api').attributes['error.type']).toBe('timeout');
    expect(await harness.receiver.waitForDones(1)).toEqual(['v-timeout']);
  });
});
