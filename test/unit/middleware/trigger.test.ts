import { describe, expect, it } from 'vitest';
import { detectTrigger } from '../../../src/middleware/trigger.js';
import * as ev from '../../fixtures/middleware/events.js';

describe('detectTrigger', () => {
  it('reads method, route, path and client of an API Gateway REST (v1) proxy event', () => {
    const t = detectTrigger(ev.apiGatewayRest({ traceparent: ev.TRACEPARENT }));
    expect(t.source).toBe('api-gateway-rest');
    expect(t.trigger).toBe('http');
    expect(t.spanName).toBe('GET /orders/{id}');
    expect(t.attributes).toMatchObject({
      'faas.trigger': 'http',
      'http.request.method': 'GET',
      'http.route': '/orders/{id}',
      'url.path': '/orders/42',
      'url.query': 'expand=items',
      'url.scheme': 'https',
      'server.address': 'abc123.execute-api.eu-west-1.amazonaws.com',
      'client.address': '203.0.113.7',
      'user_agent.original': 'curl/8.5.0',
      'network.protocol.version': '1.1',
    });
    expect(t.headers?.traceparent).toBe(ev.TRACEPARENT);
  });

  it('takes the route from routeKey for an API Gateway HTTP (v2) event', () => {
    const t = detectTrigger(ev.apiGatewayHttp());
    expect(t.source).toBe('api-gateway-http');
    expect(t.spanName).toBe('POST /orders');
    expect(t.attributes).toMatchObject({
      'http.route': '/orders',
      'url.path': '/orders',
      'url.query': 'dry=1',
      'client.address': '198.51.100.4',
    });
  });

  it('sets url.scheme https for API Gateway and function URLs even without x-forwarded-proto', () => {
    const withoutProto = <T extends { headers: Record<string, string> }>(e: T): T => {
      const headers = Object.fromEntries(
        Object.entries(e.headers).filter(([k]) => k.toLowerCase() !== 'x-forwarded-proto'),
      );
      return { ...e, headers };
    };
    for (const e of [ev.apiGatewayRest(), ev.apiGatewayHttp(), ev.functionUrl()]) {
      expect(detectTrigger(withoutProto(e)).attributes['url.scheme']).toBe('https');
    }
    // An ALB listener may be plain HTTP: without the header the scheme is unknown, not guessed.
    const alb = ev.alb();
    const { 'x-forwarded-proto': _proto, ...rest } = alb.multiValueHeaders;
    expect(detectTrigger({ ...alb, multiValueHeaders: rest }).attributes['url.scheme']).toBeUndefined();
  });

  it('takes server.port from x-forwarded-port, alongside server.address', () => {
    const t = detectTrigger(ev.alb({ 'x-forwarded-port': ['8080'] }));
    expect(t.attributes).toMatchObject({
      'server.address': 'orders-alb-123.eu-west-1.elb.amazonaws.com',
      'server.port': 8080,
      'url.scheme': 'http',
    });
    expect(detectTrigger(ev.alb({ 'x-forwarded-port': ['http'] })).attributes['server.port']).toBeUndefined();
  });

  it('names a function URL request by its method only, since it has no route', () => {
    const t = detectTrigger(ev.functionUrl());
    expect(t.source).toBe('function-url');
    expect(t.spanName).toBe('GET');
    expect(t.attributes['http.route']).toBeUndefined();
    expect(t.attributes['url.path']).toBe('/health');
    expect(t.attributes['url.query']).toBeUndefined();
  });

  it('reads multi-value headers of an ALB event case-insensitively', () => {
    const t = detectTrigger(ev.alb({ TraceParent: [ev.TRACEPARENT, 'ignored'] }));
    expect(t.source).toBe('alb');
    expect(t.spanName).toBe('DELETE');
    expect(t.headers?.traceparent).toBe(ev.TRACEPARENT);
    expect(t.attributes).toMatchObject({
      'http.request.method': 'DELETE',
      'url.scheme': 'http',
      'client.address': '192.0.2.10',
    });
  });

  it('describes an SQS batch as a process span with messaging attributes and one carrier per message', () => {
    const t = detectTrigger(ev.sqs([{ traceparent: ev.TRACEPARENT }, {}, { awsTraceHeader: 'Root=1-a-b' }]));
    expect(t.source).toBe('sqs');
    expect(t.trigger).toBe('pubsub');
    expect(t.spanName).toBeUndefined();
    expect(t.batch?.name).toBe('process orders-queue');
    expect(t.batch?.attributes).toMatchObject({
      'faas.trigger': 'pubsub',
      'messaging.system': 'aws_sqs',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'orders-queue',
      'messaging.batch.message_count': 3,
    });
    // A message id names one message; a batch of three has none.
    expect(t.batch?.attributes['messaging.message.id']).toBeUndefined();
    expect(t.batch?.messages).toEqual([
      {
        traceparent: ev.TRACEPARENT,
        tracestate: undefined,
        awsTraceHeader: undefined,
        messageId: expect.any(String),
      },
      {
        traceparent: undefined,
        tracestate: undefined,
        awsTraceHeader: undefined,
        messageId: expect.any(String),
      },
      {
        traceparent: undefined,
        tracestate: undefined,
        awsTraceHeader: 'Root=1-a-b',
        messageId: expect.any(String),
      },
    ]);
  });

  it('records the message id on the SQS event span when the batch holds one message', () => {
    const t = detectTrigger(ev.sqs([{}]));
    expect(t.batch?.attributes).toMatchObject({
      'faas.trigger': 'pubsub',
      'messaging.batch.message_count': 1,
      'messaging.message.id': '059f36b4-87a3-44ab-83d2-661975710000',
    });
  });

  it('names an SQS batch from several queues multiple_sources and sets no destination', () => {
    const t = detectTrigger(ev.sqs([{ queue: 'a' }, { queue: 'b' }]));
    expect(t.batch?.name).toBe('process multiple_sources');
    expect(t.batch?.attributes['messaging.destination.name']).toBeUndefined();
  });

  it('describes an SNS notification with its topic and message attribute traceparent', () => {
    const t = detectTrigger(ev.sns(ev.TRACEPARENT));
    expect(t.source).toBe('sns');
    expect(t.batch?.name).toBe('process order-events');
    expect(t.batch?.attributes).toMatchObject({
      'faas.trigger': 'pubsub',
      'messaging.system': 'aws.sns',
      'messaging.destination.name': 'order-events',
      'aws.sns.topic.arn': 'arn:aws:sns:eu-west-1:123456789012:order-events',
      'messaging.message.id': '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
    });
    expect(t.batch?.messages[0]?.traceparent).toBe(ev.TRACEPARENT);
  });

  it('treats an EventBridge event as pubsub and a scheduled event as a timer', () => {
    expect(detectTrigger(ev.eventBridge)).toMatchObject({ source: 'eventbridge', trigger: 'pubsub' });
    const s = detectTrigger(ev.schedule);
    expect(s).toMatchObject({ source: 'schedule', trigger: 'timer' });
    expect(s.attributes['faas.time']).toBe('2026-11-21T07:00:00Z');
  });

  it('describes an S3 notification as a datasource insert on the bucket', () => {
    const t = detectTrigger(ev.s3);
    expect(t).toMatchObject({ source: 's3', trigger: 'datasource' });
    expect(t.attributes).toMatchObject({
      'faas.document.collection': 'invoices',
      'faas.document.operation': 'insert',
      'faas.document.name': '2026/11/inv-42.pdf',
      'faas.document.time': '2026-11-21T07:00:00.000Z',
    });
  });

  it('describes a DynamoDB stream MODIFY as an edit of the table', () => {
    const t = detectTrigger(ev.dynamodb);
    expect(t).toMatchObject({ source: 'dynamodb', trigger: 'datasource' });
    expect(t.attributes).toMatchObject({
      'faas.document.collection': 'Orders',
      'faas.document.operation': 'edit',
      'aws.dynamodb.table_names': ['Orders'],
    });
  });

  it('describes a Kinesis batch as pubsub on the stream', () => {
    const t = detectTrigger(ev.kinesis);
    expect(t).toMatchObject({ source: 'kinesis', trigger: 'pubsub' });
    expect(t.attributes).toMatchObject({
      'aws.kinesis.stream_name': 'clicks',
      'messaging.batch.message_count': 2,
    });
  });

  it('redacts signed-URL secrets in url.query, as the HTTP conventions ask', () => {
    const event = {
      ...ev.functionUrl(),
      rawQueryString: 'id=7&Signature=abc%2Fdef&X-Goog-Signature=x&sig=y&keep=1',
    };
    expect(detectTrigger(event).attributes['url.query']).toBe(
      'id=7&Signature=REDACTED&X-Goog-Signature=REDACTED&sig=REDACTED&keep=1',
    );
  });

  it('falls back to faas.trigger=other for direct invocations and odd events', () => {
    for (const e of [
      { orderId: 1 },
      null,
      'text',
      [1, 2],
      { Records: [] },
      { Records: [{ eventSource: 'x' }] },
    ]) {
      const t = detectTrigger(e);
      expect(t.trigger).toBe('other');
      expect(t.attributes['faas.trigger']).toBe('other');
    }
  });
});
