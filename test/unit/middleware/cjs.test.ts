// The CommonJS build, as a CommonJS function would require it: no options, the SDK set up on its own
// (ES module SDK packages loaded from CommonJS through import()), user spans under the invocation span.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeExportRequest } from '../../../src/otlp/index.js';

interface SpanJson {
  name: string;
  spanId: string;
  parentSpanId?: string;
  attributes?: Array<{ key: string; value: { stringValue?: string } }>;
}

describe('dist/middleware/index.cjs', () => {
  it('traces a CommonJS handler with no options and parents user spans to the invocation', async () => {
    // Prepare: a real HTTP server in the extension's place.
    const bodies: Buffer[] = [];
    const dones: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(Buffer.concat(chunks));
        if (req.url?.startsWith('/relay/')) dones.push(req.url);
        res.writeHead(req.url?.startsWith('/relay/') ? 204 : 200).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      // Act
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [resolve(import.meta.dirname, '../../fixtures/middleware/cjs-function.cjs')],
        {
          env: { ...process.env, OTEL_RELAY_HTTP_PORT: String((server.address() as AddressInfo).port) },
          timeout: 30_000,
        },
      );

      // Assess
      // Besides the results, stdout holds the middleware's own JSON log lines, if it had to say anything.
      const lines = stdout.trim().split('\n');
      expect(
        lines.filter((l) => l.startsWith('{"n"')),
        stdout,
      ).toEqual(['{"n":1}', '{"n":2}']);
      const spans: SpanJson[] = [];
      for (const body of bodies) {
        const req = (await decodeExportRequest('traces', body)) as {
          resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: SpanJson[] }> }>;
        };
        for (const rs of req.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      for (const n of [1, 2]) {
        const server = spans.find((s) =>
          s.attributes?.some((a) => a.key === 'faas.invocation_id' && a.value.stringValue === `cjs-${n}`),
        );
        expect(server?.name, stdout).toBe('cjs-fn');
        const user = spans.find((s) => s.name === `user-span-${n}`);
        expect(user?.parentSpanId).toBe(server?.spanId);
      }
      expect(dones, stdout).toEqual(['/relay/v1/invocations/cjs-1/done', '/relay/v1/invocations/cjs-2/done']);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
