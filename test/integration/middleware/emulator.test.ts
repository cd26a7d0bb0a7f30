// The function side end to end, with nothing mocked: the example functions, bundled as users deploy
// them, run in the local emulator with the built layer (the otel-relay extension), which exports to
// the real OpenTelemetry Collector. The test reads back what the collector received.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment, type LocalFunctionConfig } from '../../../src/local/index.js';
import { bundleFunction, repoRoot } from '../../fixtures/middleware/bundle.js';
import * as ev from '../../fixtures/middleware/events.js';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import type { ReceivedSpan } from '../../helpers/otlp-json.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { freePort } from '../../helpers/ports.js';

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CONSUMER = 5;
const N = 6;

interface SpanLink {
  traceId: string;
  spanId: string;
}
const linksOf = (s: ReceivedSpan): SpanLink[] => (s.raw as { links?: SpanLink[] }).links ?? [];
const kindOf = (s: ReceivedSpan): number | undefined => s.raw.kind;

describe('middleware in the emulator with the otel-relay layer and the real collector', () => {
  let collector: CollectorPeer;
  let env: LambdaEnvironment | undefined;
  const codeDirs: string[] = [];

  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector?.stop();
    for (const d of codeDirs) rmSync(d, { recursive: true, force: true });
  });
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });
  printLogsOnFailure('otelcol', () => collector);
  printLogsOnFailure('emulator', () => (env ? { logs: () => env?.output() ?? '' } : undefined));

  async function start(
    example: string,
    functionName: string,
    upstream = collector.httpEndpoint,
    config: Partial<LocalFunctionConfig> = {},
  ): Promise<LambdaEnvironment> {
    const codeDir = await bundleFunction(`examples/${example}/index.mjs`);
    codeDirs.push(codeDir);
    return LambdaEnvironment.start({
      codeDir,
      handler: 'index.handler',
      layers: [resolve(repoRoot, 'dist/layer')],
      functionName,
      timeoutMs: 10_000,
      ...config,
      env: {
        OTEL_RELAY_HTTP_PORT: String(await freePort()),
        OTEL_RELAY_GRPC_PORT: String(await freePort()),
        // The extension's upstream. The function must never send here itself.
        OTEL_EXPORTER_OTLP_ENDPOINT: upstream,
        // Flush at every invocation's end, so each invocation's data is at the collector when it returns.
        OTEL_RELAY_FLUSH: 'end',
      },
    });
  }

  it(`traces ${N} API Gateway invocations under their callers, with user spans, metrics and logs`, async () => {
    // Prepare
    const functionName = `orders-api-${randomUUID().slice(0, 8)}`;
    env = await start('orders-api', functionName);
    const callers = Array.from({ length: N }, (_, i) => ev.traceparentFor(i + 10));

    // Act
    const results = [];
    for (const caller of callers) {
      const event = { ...ev.apiGatewayHttp({ traceparent: caller.header }), body: '{"items":["A-1","B-2"]}' };
      const r = await env.invoke(event, { qualifier: 'live' });
      expect(r.status).toBe('success');
      expect(r.response).toMatchObject({ statusCode: 201 });
      results.push(r);
    }

    const shutdown = await env.shutdown();

    // Assess
    expect(shutdown.extensions).toEqual([
      expect.objectContaining({ name: 'otel-relay', state: 'Exited', exitCode: 0 }),
    ]);
    const logBody = /^order ord-.* placed$/;
    const received = await collector.waitFor(
      (x) =>
        x.spans().filter((s) => s.resource['faas.name'] === functionName).length >= N * 3 &&
        x.logRecords().filter((l) => l.resource['faas.name'] === functionName && logBody.test(String(l.body)))
          .length >= N &&
        x.dataPoints().some((p) => p.metric === 'orders.placed' && p.resource['faas.name'] === functionName),
      15_000,
    );
    const mine = received.spans().filter((s) => s.resource['faas.name'] === functionName);
    const accountArn = `arn:aws:lambda:${mine[0]?.resource['cloud.region']}`;
    results.forEach((r, i) => {
      const caller = callers[i]!;
      const server = mine.find((s) => s.attributes['faas.invocation_id'] === r.requestId)!;
      expect(server).toMatchObject({
        name: 'POST /orders',
        traceId: caller.traceId,
        parentSpanId: caller.spanId,
      });
      expect(kindOf(server)).toBe(SPAN_KIND_SERVER);
      expect(server.attributes).toMatchObject({
        'faas.trigger': 'http',
        'faas.coldstart': i === 0,
        'http.route': '/orders',
        'http.request.method': 'POST',
        'http.response.status_code': 201,
      });
      expect(String(server.attributes['aws.lambda.invoked_arn'])).toMatch(
        new RegExp(`:function:${functionName}:live$`),
      );
      expect(String(server.attributes['cloud.resource_id'])).toMatch(
        new RegExp(`:function:${functionName}$`),
      );
      expect(String(server.attributes['cloud.resource_id']).startsWith(accountArn)).toBe(true);
      for (const name of ['validate-order', 'price-order']) {
        const child = mine.find((s) => s.name === name && s.parentSpanId === server.spanId);
        expect(child, `${name} under invocation ${i}`).toBeDefined();
        expect(child?.traceId).toBe(caller.traceId);
      }
    });
    expect(mine[0]?.resource).toMatchObject({
      'service.name': functionName,
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_lambda',
      'faas.name': functionName,
    });
    expect(mine[0]?.resource['faas.instance']).toBeTruthy();
    const logs = received
      .logRecords()
      .filter((l) => l.resource['faas.name'] === functionName && logBody.test(String(l.body)));
    // Each log record was emitted inside the invocation: it carries that invocation's trace.
    expect(new Set(logs.map((l) => l.traceId))).toEqual(new Set(callers.map((c) => c.traceId)));
  });

  it('does not make the client wait for the export upstream (the response precedes it)', async () => {
    // Prepare: an upstream that accepts connections and never answers, so the export is visible (bytes
    // arrive) but never finishes.
    const received: Buffer[] = [];
    const sockets = new Set<Socket>();
    const blackhole = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', () => {});
    });
    blackhole.listen(0, '127.0.0.1');
    await once(blackhole, 'listening');
    try {
      const upstream = `http://127.0.0.1:${(blackhole.address() as AddressInfo).port}`;
      env = await start('orders-api', `orders-api-${randomUUID().slice(0, 8)}`, upstream);
      let bytesAtResponse = -1;

      // Act
      const r = await env.invoke(
        { ...ev.apiGatewayHttp(), body: '{"items":["C-3"]}' },
        { onResponse: () => (bytesAtResponse = received.reduce((n, b) => n + b.length, 0)) },
      );

      // Assess: the client had its response while nothing had been exported; the export (to the dead
      // upstream) happened afterwards, in the invocation's post-runtime time.
      expect(r.status).toBe('success');
      expect(r.response).toMatchObject({ statusCode: 201 });
      expect(bytesAtResponse).toBe(0);
      // The export left the relay before it called `next`, but its bytes and the end of the invoke reach
      // this process on different sockets, in either order: wait for them, with a deadline.
      const upstreamSaw = () => Buffer.concat(received).toString('latin1');
      for (
        const until = Date.now() + 5_000;
        !upstreamSaw().includes('POST /v1/traces') && Date.now() < until;
      ) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(upstreamSaw()).toContain('POST /v1/traces');
    } finally {
      for (const s of sockets) s.destroy();
      blackhole.close();
    }
  });

  it('keeps concurrent invocations apart on Lambda Managed Instances', async () => {
    // Prepare
    const functionName = `orders-api-lmi-${randomUUID().slice(0, 8)}`;
    env = await start('orders-api', functionName, collector.httpEndpoint, {
      mode: 'managed-instances',
      maxConcurrency: 4,
    });
    const callers = Array.from({ length: 8 }, (_, i) => ev.traceparentFor(i + 40));

    // Act: two waves of four invocations at once, in one runtime process (four async workers).
    const results = [];
    for (const wave of [callers.slice(0, 4), callers.slice(4)]) {
      results.push(
        ...(await Promise.all(
          wave.map((caller) =>
            env!.invoke({ ...ev.apiGatewayHttp({ traceparent: caller.header }), body: '{"items":["A-1"]}' }),
          ),
        )),
      );
    }
    await env.shutdown();

    // Assess
    for (const r of results) expect(r.status).toBe('success');
    const received = await collector.waitFor(
      (x) => x.spans().filter((s) => s.resource['faas.name'] === functionName).length >= 8 * 3,
      15_000,
    );
    const mine = received.spans().filter((s) => s.resource['faas.name'] === functionName);
    // The invocations did run at the same time: some server spans overlap.
    const servers = mine.filter((s) => kindOf(s) === SPAN_KIND_SERVER);
    const time = (s: ReceivedSpan, k: 'startTimeUnixNano' | 'endTimeUnixNano') => BigInt(s.raw[k] ?? '0');
    const overlapping = servers.filter((a) =>
      servers.some(
        (b) =>
          a !== b &&
          time(a, 'startTimeUnixNano') < time(b, 'endTimeUnixNano') &&
          time(b, 'startTimeUnixNano') < time(a, 'endTimeUnixNano'),
      ),
    );
    expect(overlapping.length).toBeGreaterThan(1);
    results.forEach((r, i) => {
      const server = mine.find((s) => s.attributes['faas.invocation_id'] === r.requestId)!;
      expect(server).toMatchObject({ traceId: callers[i]!.traceId, parentSpanId: callers[i]!.spanId });
      // Managed Instances initialise ahead of traffic: no invocation is a cold start.
      expect(server.attributes['faas.coldstart']).toBe(false);
      for (const name of ['validate-order', 'price-order']) {
        const children = mine.filter((s) => s.name === name && s.traceId === server.traceId);
        expect(children.map((c) => c.parentSpanId)).toEqual([server.spanId]);
      }
    });
  });

  it(`links each SQS batch span to the senders of its messages over ${N} invocations`, async () => {
    // Prepare
    const functionName = `orders-worker-${randomUUID().slice(0, 8)}`;
    env = await start('orders-worker', functionName);
    const batches = Array.from({ length: N }, (_, b) => [
      ev.traceparentFor(20 + b * 3),
      ev.traceparentFor(21 + b * 3),
    ]);

    // Act
    const results = [];
    for (const senders of batches) {
      const event = ev.sqs([...senders.map((s) => ({ traceparent: s.header })), {}]);
      const r = await env.invoke(event);
      expect(r.status).toBe('success');
      expect(r.response).toEqual({ batchItemFailures: [] });
      results.push(r);
    }
    await env.shutdown();

    // Assess
    const received = await collector.waitFor(
      (x) => x.spans().filter((s) => s.resource['faas.name'] === functionName).length >= N * 5,
      15_000,
    );
    const mine = received.spans().filter((s) => s.resource['faas.name'] === functionName);
    results.forEach((r, b) => {
      const server = mine.find((s) => s.attributes['faas.invocation_id'] === r.requestId)!;
      expect(server.name).toBe(functionName);
      expect(kindOf(server)).toBe(SPAN_KIND_SERVER);
      expect(server.attributes['faas.trigger']).toBe('pubsub');
      expect(server.parentSpanId).toBe('');
      const batch = mine.find((s) => s.parentSpanId === server.spanId)!;
      expect(batch.name).toBe('process orders-queue');
      expect(kindOf(batch)).toBe(SPAN_KIND_CONSUMER);
      expect(batch.traceId).toBe(server.traceId);
      expect(batch.attributes).toMatchObject({
        'messaging.system': 'aws_sqs',
        'messaging.destination.name': 'orders-queue',
        'messaging.batch.message_count': 3,
      });
      expect(linksOf(batch).map((l) => [l.traceId, l.spanId])).toEqual(
        batches[b]!.map((s) => [s.traceId, s.spanId]),
      );
      // One span per message (withMessageSpan), linked to that message's sender.
      const perMessage = mine.filter((s) => s.parentSpanId === batch.spanId);
      expect(perMessage.map((s) => [s.name, kindOf(s)])).toEqual(
        Array(3).fill(['process orders-queue', SPAN_KIND_CONSUMER]),
      );
      expect(perMessage.map((s) => linksOf(s).map((l) => l.spanId))).toEqual([
        ...batches[b]!.map((s) => [s.spanId]),
        [],
      ]);
    });
  });
});
