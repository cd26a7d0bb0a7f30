// Each trigger run through wrapHandler with a complete, realistic event, checked against the
// semantic conventions the function side follows (v1.45). One test per defect that was found.
import { PassThrough } from 'node:stream';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_SERVER_ADDRESS,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  HTTP_REQUEST_METHOD_VALUE_OTHER,
} from '@opentelemetry/semantic-conventions';
import {
  ATTR_AWS_SQS_QUEUE_URL,
  ATTR_FAAS_DOCUMENT_NAME,
  ATTR_FAAS_DOCUMENT_OPERATION,
  ATTR_FAAS_DOCUMENT_TIME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
} from '@opentelemetry/semantic-conventions/incubating';
import { afterEach, describe, expect, it } from 'vitest';
import { InvocationContextManager, type LambdaContext, wrapHandler } from '../../../src/middleware/index.js';
import * as ev from '../../fixtures/middleware/events.js';
import * as real from '../../fixtures/middleware/realistic-events.js';
import { sleep, useInvocationHarness } from './invocation-harness.js';

const harness = useInvocationHarness(new InvocationContextManager());
const { tracing } = harness;
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');

/** awslambda.streamifyResponse, as the Node.js runtime defines it. */
const streamifyResponse = <T extends object>(fn: T): T => Object.assign(fn, { [STREAMING]: 'response' });

/** Calls a streaming handler the way the Node.js runtime does, and fails like it on an open stream. */
async function invokeStreaming(handler: unknown, event: unknown, ctx: LambdaContext): Promise<string> {
  expect((handler as Record<symbol, unknown>)[STREAMING]).toBe('response');
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await (handler as (e: unknown, s: PassThrough, c: LambdaContext) => unknown)(event, stream, ctx);
  if (!stream.writableEnded) throw new Error('Response stream is not finished.');
  return Buffer.concat(chunks).toString();
}

const opts = () => ({ endpoint: harness.receiver.endpoint });

afterEach(() => {
  delete process.env._X_AMZN_TRACE_ID;
});

describe('response streaming under wrapHandler', () => {
  const body = async (_event: unknown, responseStream: NodeJS.WritableStream, _ctx: LambdaContext) => {
    trace.getTracer('user').startSpan('render').end();
    responseStream.write('hello ');
    await sleep(1);
    responseStream.end('world');
  };

  it('works as wrapHandler(streamifyResponse(fn))', async () => {
    const handler = wrapHandler(streamifyResponse(body) as never, opts());
    expect(await invokeStreaming(handler, ev.functionUrl(), ev.lambdaContext('s-1'))).toBe('hello world');
    const server = tracing.byName('GET');
    expect(tracing.byName('render').parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(await harness.receiver.waitForDones(1)).toEqual(['s-1']);
  });

  it('works as streamifyResponse(wrapHandler(fn))', async () => {
    const handler = streamifyResponse(wrapHandler(body as never, opts()));
    expect(await invokeStreaming(handler, ev.functionUrl(), ev.lambdaContext('s-2'))).toBe('hello world');
    expect(tracing.byName('GET').kind).toBe(SpanKind.SERVER);
    expect(tracing.byName('render').parentSpanContext?.spanId).toBe(
      tracing.byName('GET').spanContext().spanId,
    );
    expect(await harness.receiver.waitForDones(1)).toEqual(['s-2']);
  });
});

describe('SQS links', () => {
  it('links through the AWSTraceHeader system attribute by default, naming the message', async () => {
    await wrapHandler(async () => 'ok', opts())(real.sqsWithTraceHeader(), ev.lambdaContext('q-1'));
    const [link] = tracing.byName('process orders-queue').links;
    expect(link?.context.traceId).toBe('5759e988bd862e3fe1be46a994272793');
    expect(link?.context.spanId).toBe('53995c3f42cd8ad8');
    expect(link?.attributes?.[ATTR_MESSAGING_MESSAGE_ID]).toBe('19dd0b57-b21e-4ac1-bd88-01bbb068cb78');
  });

  it('keeps every span with xray on when active tracing is off (_X_AMZN_TRACE_ID Sampled=0)', async () => {
    process.env._X_AMZN_TRACE_ID = real.UNSAMPLED_LAMBDA_TRACE_ID;
    await wrapHandler(
      async () => {
        trace.getTracer('user').startSpan('store').end();
      },
      { ...opts(), xray: true },
    )(real.sqsWithTraceHeader(), ev.lambdaContext('q-2'));
    expect(
      tracing
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['orders-api', 'process orders-queue', 'store']);
    expect(tracing.byName('orders-api').parentSpanContext).toBeUndefined();
  });

  it('records the queue URL and the SQS endpoint host on the batch span', async () => {
    await wrapHandler(async () => 'ok', opts())(real.sqsWithTraceHeader(), ev.lambdaContext('q-3'));
    expect(tracing.byName('process orders-queue').attributes).toMatchObject({
      [ATTR_AWS_SQS_QUEUE_URL]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders-queue',
      [ATTR_SERVER_ADDRESS]: 'sqs.eu-west-1.amazonaws.com',
    });
  });
});

describe('HTTP server attributes', () => {
  it('redacts the SigV4 presigned-URL secrets in url.query and keeps the rest', async () => {
    await wrapHandler(async () => ({ statusCode: 207 }), opts())(
      real.httpApiPropfind(),
      ev.lambdaContext('h-1'),
    );
    const query = String(tracing.spans()[0]?.attributes[ATTR_URL_QUERY]);
    expect(query).toBe(
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED&part=1',
    );
  });

  it('normalises an unknown method to _OTHER and keeps the original', async () => {
    await wrapHandler(async () => ({ statusCode: 207 }), opts())(
      real.httpApiPropfind(),
      ev.lambdaContext('h-2'),
    );
    const span = tracing.byName('HTTP');
    expect(span.attributes['http.request.method']).toBe(HTTP_REQUEST_METHOD_VALUE_OTHER);
    expect(span.attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL]).toBe('PROPFIND');
  });

  it('REST: server.address without the port, every value of a repeated key, url.path with the stage', async () => {
    await wrapHandler(async () => ({ statusCode: 200 }), opts())(real.restProxy(), ev.lambdaContext('h-3'));
    const span = tracing.byName('GET /files/{name}');
    expect(span.attributes).toMatchObject({
      [ATTR_SERVER_ADDRESS]: 'r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
      'server.port': 443,
      [ATTR_URL_QUERY]: 'tag=a&tag=b&X-Amz-Signature=REDACTED',
      [ATTR_URL_PATH]: '/prod/files/report.pdf',
    });
  });

  it('ALB with multi-value parameters keeps url.query as the client sent it', async () => {
    await wrapHandler(async () => ({ statusCode: 200 }), opts())(
      real.albMultiValue(),
      ev.lambdaContext('h-4'),
    );
    expect(tracing.byName('GET').attributes[ATTR_URL_QUERY]).toBe('q=red%20shoes&size=40&size=41');
  });
});

describe('data source and stream triggers', () => {
  it('S3: faas.document.name is the decoded object key', async () => {
    await wrapHandler(async () => 'ok', opts())(real.s3EncodedKey(), ev.lambdaContext('d-1'));
    expect(tracing.byName('orders-api').attributes[ATTR_FAAS_DOCUMENT_NAME]).toBe(
      '2026/Q4 résumé + notes.pdf',
    );
  });

  it('DynamoDB: a mixed batch names no single operation; the document time is the earliest change', async () => {
    await wrapHandler(async () => 'ok', opts())(real.dynamodbMixed(), ev.lambdaContext('d-2'));
    const mixed = tracing.byName('orders-api').attributes;
    expect(mixed[ATTR_FAAS_DOCUMENT_OPERATION]).toBeUndefined();
    expect(mixed[ATTR_FAAS_DOCUMENT_TIME]).toBe('2026-11-21T07:00:00.000Z');
    tracing.exporter.reset();
    await wrapHandler(async () => 'ok', opts())(real.dynamodbEdits(), ev.lambdaContext('d-3'));
    expect(tracing.byName('orders-api').attributes[ATTR_FAAS_DOCUMENT_OPERATION]).toBe('edit');
  });

  it('Kinesis: messaging attributes come with messaging.system and messaging.operation.*', async () => {
    await wrapHandler(async () => 'ok', opts())(real.kinesisBatch(), ev.lambdaContext('d-4'));
    expect(tracing.byName('orders-api').attributes).toMatchObject({
      [ATTR_MESSAGING_SYSTEM]: 'aws.kinesis',
      [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'clicks',
      'messaging.batch.message_count': 2,
    });
  });
});

describe('errors', () => {
  it('a thrown non-Error gets error.type _OTHER and an exception event', async () => {
    const handler = wrapHandler(async () => {
      throw 'out of stock';
    }, opts());
    await expect(handler(ev.apiGatewayHttp(), ev.lambdaContext('e-1'))).rejects.toBe('out of stock');
    const span = tracing.byName('POST /orders');
    expect(span.attributes['error.type']).toBe('_OTHER');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.events.filter((e) => e.name === 'exception')).toHaveLength(1);
    expect(span.events[0]?.attributes?.['exception.message']).toBe('out of stock');
  });

  it('records an exception once in a batch: on the batch span; the invocation span has the status', async () => {
    const handler = wrapHandler(async () => {
      throw new RangeError('bad quantity');
    }, opts());
    await expect(handler(real.sqsWithTraceHeader(), ev.lambdaContext('e-2'))).rejects.toThrow('bad quantity');
    const exceptions = tracing.spans().flatMap((s) => s.events.filter((e) => e.name === 'exception'));
    expect(exceptions).toHaveLength(1);
    expect(tracing.byName('process orders-queue').events).toHaveLength(1);
    const server = tracing.byName('orders-api');
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.attributes['error.type']).toBe('RangeError');
  });
});

describe('early timeout without middy', () => {
  it('timeoutEarlyInMillis ends, flushes and hands off the invocation before Lambda would stop it', async () => {
    const flushed: string[] = [];
    const handler = wrapHandler(() => new Promise<string>(() => {}), {
      ...opts(),
      timeoutEarlyInMillis: 900,
      flush: { forceFlush: async () => void flushed.push('flushed') },
    });
    const error = await handler({}, ev.lambdaContext('t-1', 1000)).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    const span = tracing.byName('orders-api');
    expect(span.attributes['error.type']).toBe('timeout');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(flushed).toEqual(['flushed']);
    expect(harness.receiver.events).toContain('done:t-1');
  });

  it('rejects a negative timeoutEarlyInMillis at wrap time', () => {
    expect(() => wrapHandler(async () => 1, { timeoutEarlyInMillis: -1 })).toThrow(/timeoutEarlyInMillis/);
  });
});

describe('resource and propagators from the environment', () => {
  const withEnv = async <T>(vars: Record<string, string>, fn: () => T | Promise<T>): Promise<T> => {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      return await fn();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };

  it('OTEL_RESOURCE_ATTRIBUTES service.name wins over the function name; OTEL_SERVICE_NAME over both', async () => {
    const resources = await import('@opentelemetry/resources');
    const { buildResource } = await import('../../../src/middleware/setup.js');
    const lambda = { AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'eu-west-1' };
    const fromAttrs = await withEnv(
      { ...lambda, OTEL_RESOURCE_ATTRIBUTES: 'service.name=checkout,deployment.environment.name=prod' },
      () => buildResource(resources).attributes,
    );
    expect(fromAttrs).toMatchObject({
      'service.name': 'checkout',
      'deployment.environment.name': 'prod',
      'faas.name': 'orders-api',
      'cloud.region': 'eu-west-1',
    });
    const both = await withEnv(
      { ...lambda, OTEL_RESOURCE_ATTRIBUTES: 'service.name=checkout', OTEL_SERVICE_NAME: 'payments' },
      () => buildResource(resources).attributes,
    );
    expect(both['service.name']).toBe('payments');
    const plain = await withEnv(lambda, () => buildResource(resources).attributes);
    expect(plain['service.name']).toBe('orders-api');
  });

  it('OTEL_PROPAGATORS=xray reads the X-Amzn-Trace-Id header of an HTTP event; none reads nothing', async () => {
    const core = await import('@opentelemetry/core');
    const { propagatorsFromEnv } = await import('../../../src/middleware/propagators.js');
    const { RelayLog } = await import('../../../src/middleware/log.js');
    const { extractParentContext } = await import('../../../src/middleware/propagation.js');
    const { propagation } = await import('@opentelemetry/api');
    const lines: string[] = [];
    const log = new RelayLog((l) => lines.push(l));
    const headers = {
      'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    };
    try {
      propagation.setGlobalPropagator(
        new core.CompositePropagator({ propagators: propagatorsFromEnv('xray,b3', core, log) }),
      );
      const ctx = extractParentContext(headers, undefined);
      expect(trace.getSpanContext(ctx)?.spanId).toBe('53995c3f42cd8ad8');
      expect(lines.join('\n')).toMatch(/b3.{0,4} is not supported/);
      expect(propagatorsFromEnv('none', core, log)).toEqual([]);
      expect(propagatorsFromEnv(undefined, core, log).map((p) => p.constructor.name)).toEqual([
        'W3CTraceContextPropagator',
        'W3CBaggagePropagator',
      ]);
    } finally {
      propagation.disable();
    }
  });
});
