// `otelRelay()` with no options, in a process where nothing registered a tracer provider: it sets up
// the real OpenTelemetry SDK exporting OTLP/HTTP protobuf to the local extension port, never to
// OTEL_EXPORTER_OTLP_ENDPOINT (the extension's upstream).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import middy from '@middy/core';
import { metrics, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ev from '../../fixtures/middleware/events.js';

interface Captured {
  path: string;
  contentType: string | undefined;
  encoding: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function capture(): Promise<{ server: Server; port: number; requests: Captured[] }> {
  const requests: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        encoding: req.headers['content-encoding'],
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.writeHead(req.url?.startsWith('/relay/') ? 204 : 200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, requests };
}

/** Waits (bounded) until the done signal of `requestId` arrived: the hand-off runs after the response. */
async function handedOff(requestId: string): Promise<void> {
  const deadline = Date.now() + 5000;
  const path = `/relay/v1/invocations/${requestId}/done`;
  while (!relay.requests.some((r) => r.path === path)) {
    if (Date.now() > deadline) throw new Error(`no done signal for ${requestId} within 5 s`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let relay: Awaited<ReturnType<typeof capture>>;
let upstream: Awaited<ReturnType<typeof capture>>;

beforeAll(async () => {
  relay = await capture();
  upstream = await capture();
  Object.assign(process.env, {
    OTEL_RELAY_HTTP_PORT: String(relay.port),
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${upstream.port}`,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${upstream.port}/v1/traces`,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${upstream.port}/v1/metrics`,
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${upstream.port}/v1/logs`,
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    // The upstream's credentials: the extension sends them, the function must not.
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer upstream-secret,x-tenant=acme',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-traces-key=t-secret',
    OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-metrics-key=m-secret',
    OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-logs-key=l-secret',
    AWS_REGION: 'eu-west-1',
    AWS_LAMBDA_FUNCTION_NAME: 'orders-api',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/21/[$LATEST]feedface',
  });
});
afterAll(() => {
  relay.server.close();
  upstream.server.close();
  relay.server.closeAllConnections();
  upstream.server.closeAllConnections();
});

describe('otelRelay() with no options', () => {
  it('sets up the SDK and sends all three signals to the local extension, then signals done', async () => {
    const { otelRelay } = await import('../../../src/middleware/index.js');
    const handler = middy(async () => {
      trace.getTracer('orders').startSpan('charge-card').end();
      metrics.getMeter('orders').createCounter('orders.placed').add(1);
      logs.getLogger('orders').emit({ body: 'order placed', severityText: 'INFO' });
      return { statusCode: 201 };
    }).use(otelRelay());

    expect(await handler(ev.apiGatewayHttp(), ev.lambdaContext('setup-1'))).toEqual({ statusCode: 201 });
    await handedOff('setup-1');

    const paths = relay.requests.map((r) => r.path);
    expect(paths.slice(-1)).toEqual(['/relay/v1/invocations/setup-1/done']);
    expect(new Set(paths)).toEqual(
      new Set(['/v1/traces', '/v1/metrics', '/v1/logs', '/relay/v1/invocations/setup-1/done']),
    );
    const traces = relay.requests.find((r) => r.path === '/v1/traces')!;
    expect(traces.contentType).toBe('application/x-protobuf');
    expect(traces.encoding).toBeUndefined();
    for (const text of ['POST /orders', 'charge-card', 'orders-api', 'faas.invocation_id', 'faas.instance']) {
      expect(traces.body.includes(text), `traces body holds ${text}`).toBe(true);
    }
    expect(relay.requests.find((r) => r.path === '/v1/metrics')!.body.includes('orders.placed')).toBe(true);
    expect(relay.requests.find((r) => r.path === '/v1/logs')!.body.includes('order placed')).toBe(true);
    expect(upstream.requests).toEqual([]);
  });

  it('sends none of the upstream OTEL_EXPORTER_OTLP_*HEADERS to the local extension', () => {
    const exports = relay.requests.filter((r) => r.path.startsWith('/v1/'));
    expect(exports.map((r) => r.path).sort()).toEqual(['/v1/logs', '/v1/metrics', '/v1/traces']);
    for (const r of exports) {
      const leaked = Object.keys(r.headers).filter((h) => h === 'authorization' || h.startsWith('x-'));
      expect(leaked, `${r.path} headers`).toEqual([]);
    }
    // Hidden only while the exporters were built: the function's own code still sees them.
    expect(process.env.OTEL_EXPORTER_OTLP_HEADERS).toBe('authorization=Bearer upstream-secret,x-tenant=acme');
    expect(process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS).toBe('x-traces-key=t-secret');
  });

  it('sends each later invocation in one request per signal at its end', async () => {
    const { wrapHandler } = await import('../../../src/middleware/index.js');
    const before = relay.requests.length;
    const handler = wrapHandler(async () => {
      for (let i = 0; i < 10; i++) trace.getTracer('orders').startSpan(`step-${i}`).end();
      return 'ok';
    });
    await handler({}, ev.lambdaContext('setup-2'));
    await handedOff('setup-2');
    const mine = relay.requests.slice(before).map((r) => r.path);
    expect(mine.filter((p) => p === '/v1/traces')).toHaveLength(1);
    expect(mine.slice(-1)).toEqual(['/relay/v1/invocations/setup-2/done']);
    expect(upstream.requests).toEqual([]);
  });
});
