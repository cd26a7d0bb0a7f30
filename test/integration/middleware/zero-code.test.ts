// Zero-code end to end: plain handlers (no telemetry code, ESM and CommonJS) run in the local emulator
// with the built layer and AWS_LAMBDA_EXEC_WRAPPER=<layer>/otel-relay-handler, on Node 20, 22 and 24.
// The extension exports to the real OpenTelemetry Collector; the AWS SDK talks to a real moto server,
// HTTP and fetch to a local server. Each invocation must give its SERVER span and three CLIENT spans
// (http, fetch, S3) parented to it.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../../src/local/index.js';
import { repoRoot } from '../../fixtures/middleware/bundle.js';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { type MotoServer, startMotoServer } from '../../helpers/moto.js';
import { NODE_MAJORS, nodeBinary } from '../../helpers/node-versions.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { freePort } from '../../helpers/ports.js';
import { type PostgresServer, startPostgres } from '../../helpers/postgres.js';

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const fixtures = resolve(repoRoot, 'test/fixtures/middleware/zero-code');

const variants = [
  { style: 'ESM', dir: 'esm', handler: 'app/handler.handler' },
  { style: 'CommonJS', dir: 'cjs', handler: 'src/handler.nested.handler' },
] as const;

describe('zero-code wrapper in the emulator: plain handlers get invocation and CLIENT spans', () => {
  let collector: CollectorPeer;
  let moto: MotoServer;
  let postgres: PostgresServer;
  let target: Server;
  let targetUrl: string;
  let env: LambdaEnvironment | undefined;

  beforeAll(async () => {
    [collector, moto, postgres] = await Promise.all([startCollector(), startMotoServer(), startPostgres()]);
    target = createServer((req, res) => res.writeHead(req.url === '/fetch' ? 202 : 200).end('ok'));
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    target?.close();
    await Promise.all([collector?.stop(), moto?.stop(), postgres?.remove()]);
  });
  afterEach(async () => {
    await env?.dispose();
    env = undefined;
  });
  printLogsOnFailure('otelcol', () => collector);
  printLogsOnFailure('emulator', () => (env ? { logs: () => env?.output() ?? '' } : undefined));

  for (const major of NODE_MAJORS) {
    for (const v of variants) {
      it(`Node ${major}, ${v.style} handler ${v.handler}`, async () => {
        const functionName = `zc-${v.dir}-${major}-${randomUUID().slice(0, 8)}`;
        env = await LambdaEnvironment.start({
          codeDir: resolve(fixtures, v.dir),
          handler: v.handler,
          layers: [resolve(repoRoot, 'dist/layer')],
          functionName,
          timeoutMs: 15_000,
          nodePath: await nodeBinary(major),
          env: {
            ...moto.env,
            AWS_LAMBDA_EXEC_WRAPPER: resolve(repoRoot, 'dist/layer/otel-relay-handler'),
            OTEL_RELAY_HTTP_PORT: String(await freePort()),
            OTEL_RELAY_GRPC_PORT: String(await freePort()),
            OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint,
            OTEL_RELAY_FLUSH: 'end',
          },
        });

        const r = await env.invoke({ target: targetUrl });
        expect(r.status, env.output()).toBe('success');
        expect(r.response).toEqual({ viaHttp: 200, viaFetch: 202, buckets: 0 });
        await env.shutdown();

        const received = await collector.waitFor(
          (x) => x.spans().filter((s) => s.resource['faas.name'] === functionName).length >= 4,
          20_000,
        );
        const mine = received.spans().filter((s) => s.resource['faas.name'] === functionName);
        const server = mine.find((s) => s.raw.kind === SPAN_KIND_SERVER);
        expect(server?.attributes['faas.invocation_id']).toBe(r.requestId);
        const clients = mine.filter((s) => s.raw.kind === SPAN_KIND_CLIENT);
        for (const c of clients) {
          expect(c.traceId).toBe(server?.traceId);
          expect(c.parentSpanId, `${c.name} is a child of the invocation span`).toBe(server?.spanId);
        }
        const byPort = (path: string) =>
          clients.find(
            (c) => String(c.attributes['url.full'] ?? '').endsWith(path) || c.attributes['url.path'] === path,
          );
        expect(byPort('/http')?.attributes['http.request.method']).toBe('GET');
        expect(byPort('/fetch')?.attributes['http.response.status_code']).toBe(202);
        const s3 = clients.find(
          (c) =>
            c.attributes['rpc.service'] === 'S3' ||
            c.attributes['aws.s3.bucket'] !== undefined ||
            c.name.startsWith('S3'),
        );
        expect(s3?.name).toBe('S3.ListBuckets');
        // Nothing of the platform's own loopback traffic (Runtime API, the extension) became a span.
        expect(clients).toHaveLength(3);
      }, 90_000);
    }
  }

  for (const major of NODE_MAJORS) {
    it(`Node ${major}, pg (opt-in) against a real PostgreSQL: the query is a CLIENT span of the invocation`, async () => {
      const functionName = `zc-pg-${major}-${randomUUID().slice(0, 8)}`;
      env = await LambdaEnvironment.start({
        codeDir: resolve(fixtures, 'pg'),
        handler: 'index.handler',
        layers: [resolve(repoRoot, 'dist/layer')],
        functionName,
        timeoutMs: 15_000,
        nodePath: await nodeBinary(major),
        env: {
          AWS_LAMBDA_EXEC_WRAPPER: resolve(repoRoot, 'dist/layer/otel-relay-handler'),
          OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,undici,aws-sdk,pg',
          OTEL_RELAY_HTTP_PORT: String(await freePort()),
          OTEL_RELAY_GRPC_PORT: String(await freePort()),
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint,
          OTEL_RELAY_FLUSH: 'end',
        },
      });
      const r = await env.invoke({ databaseUrl: postgres.url });
      expect(r.status, env.output()).toBe('success');
      expect(r.response).toEqual({ answer: 42 });
      await env.shutdown();

      const received = await collector.waitFor(
        (x) =>
          x.spans().some((s) => s.resource['faas.name'] === functionName && s.raw.kind === SPAN_KIND_CLIENT),
        20_000,
      );
      const mine = received.spans().filter((s) => s.resource['faas.name'] === functionName);
      const server = mine.find((s) => s.raw.kind === SPAN_KIND_SERVER);
      const query = mine.find(
        (s) =>
          s.raw.kind === SPAN_KIND_CLIENT &&
          String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? '').includes(
            'SELECT 40 + 2',
          ),
      );
      expect(query, mine.map((s) => s.name).join(', ')).toBeDefined();
      expect(query?.parentSpanId).toBe(server?.spanId);
      expect(query?.traceId).toBe(server?.traceId);
    }, 90_000);
  }
});
