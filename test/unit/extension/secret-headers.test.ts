// OTLP headers from a Secrets Manager secret: parsing both formats, waiting for the read within the
// export's budget, refusing to export without them (so nothing is dropped as a 401), bounded
// back-off, and never a header value in a log line. The secret read is scripted here; the real
// GetSecretValue against moto is in test/integration/extension/secret-headers.test.ts.
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/extension/clock.js';
import {
  createSecretHeadersExporter,
  type ExportOutcome,
  type FlushBudget,
  type HeaderMap,
  type Logger,
  parseSecretHeaders,
  SecretHeaders,
  type SignalExporter,
  secretsManagerFetch,
} from '../../../src/extension/export/index.js';
import { createFallbackDelivery } from '../../../src/extension/fallback/index.js';

const SECRET_VALUE = 'Bearer s3cr3t-token';

function harness(
  reads: Array<() => Promise<string>>,
  answer: (call: number) => ExportOutcome = () => ({ kind: 'success' }),
) {
  let t = 1_700_000_000_000;
  const clock = { now: () => t, monotonic: () => t };
  const lines: string[] = [];
  const log: Logger = {
    debug: (m, f) => lines.push(`debug ${m} ${JSON.stringify(f ?? {})}`),
    info: (m, f) => lines.push(`info ${m} ${JSON.stringify(f ?? {})}`),
    warn: (m, f) => lines.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
    error: (m, f) => lines.push(`error ${m} ${JSON.stringify(f ?? {})}`),
  };
  let readCount = 0;
  const problems: string[] = [];
  const source = new SecretHeaders({
    secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-AbCdEf',
    fetch: () => {
      const read = reads[Math.min(readCount, reads.length - 1)];
      readCount++;
      if (!read) throw new Error('no scripted read');
      return read();
    },
    clock,
    log,
    minBackoffMs: 1_000,
    maxBackoffMs: 4_000,
    onConfigProblem: (p) => problems.push(p),
  });
  const sent: HeaderMap[] = [];
  const exporter = createSecretHeadersExporter(source, (headers): SignalExporter => {
    const merged = { 'x-static': 'static', 'x-tenant': 'static-tenant', ...headers };
    return {
      async export() {
        sent.push(merged);
        return answer(sent.length);
      },
      resetConnections() {},
      close() {},
    };
  });
  const budget = (ms: number): FlushBudget => ({
    deadline: t + ms,
    abort: new AbortController().signal,
    reason: 'invoke',
  });
  return {
    source,
    exporter,
    sent,
    lines,
    problems,
    clock,
    log,
    budget,
    reads: () => readCount,
    advance: (ms: number) => (t += ms),
  };
}

const body = new Uint8Array([0x0a, 0x00]);

describe('parseSecretHeaders', () => {
  it('reads the OTEL_EXPORTER_OTLP_HEADERS format with URL-encoded values and lowercased keys', () => {
    expect(parseSecretHeaders('Authorization=Bearer%20abc, X-Tenant=t1')).toEqual({
      headers: { authorization: 'Bearer abc', 'x-tenant': 't1' },
      problems: [],
    });
  });

  it('reads a JSON object of header names to values', () => {
    expect(parseSecretHeaders('{"Authorization":"Bearer abc","x-tenant":"t1"}')).toEqual({
      headers: { authorization: 'Bearer abc', 'x-tenant': 't1' },
      problems: [],
    });
  });

  it('names a bad entry without quoting its value', () => {
    const out = parseSecretHeaders('{"authorization":{"nested":"Bearer hidden"}}');
    expect(out.headers).toEqual({});
    expect(out.problems.join(' ')).toContain('authorization');
    expect(out.problems.join(' ')).not.toContain('hidden');
    expect(() => parseSecretHeaders('{"authorization": Bearer hidden')).toThrow(/not valid JSON/);
    expect(() => parseSecretHeaders('["Bearer hidden"]')).toThrow(/not an object/);
  });
});

describe('secret headers exporter', () => {
  it('waits for the read within the budget and merges the secret over static headers', async () => {
    // Prepare
    let release: (v: string) => void = () => {};
    const h = harness([() => new Promise<string>((r) => (release = r))]);
    // Act
    const exporting = h.exporter.export('traces', body, h.budget(5_000));
    setTimeout(() => release(`authorization=${encodeURIComponent(SECRET_VALUE)},x-tenant=from-secret`), 20);
    const outcome = await exporting;
    // Assess
    expect(outcome).toEqual({ kind: 'success' });
    expect(h.sent).toEqual([
      { 'x-static': 'static', 'x-tenant': 'from-secret', authorization: SECRET_VALUE },
    ]);
    expect(h.reads()).toBe(1);
    expect(h.lines.join('\n')).not.toContain('s3cr3t');
  });

  it('answers retryable without sending when the read fails, and retries only after the back-off', async () => {
    // Prepare
    const h = harness([
      () => Promise.reject(new Error('AccessDeniedException')),
      () => Promise.reject(new Error('AccessDeniedException')),
      () => Promise.resolve(`authorization=${encodeURIComponent(SECRET_VALUE)}`),
    ]);
    // Act: the first read fails
    const first = await h.exporter.export('traces', body, h.budget(500));
    // Assess
    expect(first.kind).toBe('retryable');
    expect(first.kind === 'retryable' && first.retryAfterMs).toBe(1_000);
    expect(first.kind === 'retryable' && first.reason).toMatch(/secret .* not available .*AccessDenied/);
    expect(h.sent).toEqual([]);
    // Act: within the back-off no new read starts
    h.advance(500);
    expect((await h.exporter.export('traces', body, h.budget(500))).kind).toBe('retryable');
    expect(h.reads()).toBe(1);
    // Act: after it, the second read fails too, and its back-off doubles
    h.advance(600);
    const second = await h.exporter.export('logs', body, h.budget(500));
    expect(second.kind === 'retryable' && second.retryAfterMs).toBe(2_000);
    expect(h.reads()).toBe(2);
    // Act: the third read succeeds
    h.advance(2_000);
    expect(await h.exporter.export('logs', body, h.budget(500))).toEqual({ kind: 'success' });
    // Assess: one warning when it started failing, the repeat at debug, one info when it recovered
    const levels = h.lines.map((l) => l.split(' ')[0]);
    expect(levels).toEqual(['warn', 'debug', 'info']);
    expect(h.lines[0]).toMatch(/Nothing is exported without them/);
    expect(h.lines.join('\n')).not.toContain('s3cr3t');
  });

  it('gives up waiting at the budget while the read is still going, and uses it once it lands', async () => {
    // Prepare
    let release: (v: string) => void = () => {};
    const h = harness([() => new Promise<string>((r) => (release = r))]);
    // Act
    const outcome = await h.exporter.export('traces', body, { ...h.budget(30) });
    // Assess: not retried inside this flush; the read is not started again
    expect(outcome).toEqual({
      kind: 'retryable',
      reason: expect.stringMatching(/not read yet/),
      notThisFlush: true,
    });
    release('authorization=later');
    await new Promise((r) => setTimeout(r, 5));
    expect(await h.exporter.export('traces', body, h.budget(30))).toEqual({ kind: 'success' });
    expect(h.reads()).toBe(1);
  });

  it('reads the secret again when the collector refuses its headers (401), instead of dropping the data', async () => {
    // Prepare: the first token is refused (rotated), the re-read one accepted
    const h = harness(
      [() => Promise.resolve('authorization=old'), () => Promise.resolve('authorization=new')],
      (call) =>
        call === 1 ? { kind: 'failed', status: 401, reason: 'collector answered 401' } : { kind: 'success' },
    );
    // Act
    const refused = await h.exporter.export('traces', body, h.budget(500));
    const meanwhile = await h.exporter.export('traces', body, h.budget(500));
    h.advance(1_000);
    const again = await h.exporter.export('traces', body, h.budget(500));
    // Assess
    expect(refused.kind).toBe('retryable');
    expect(refused.kind === 'retryable' && refused.retryAfterMs).toBe(1_000);
    expect(meanwhile.kind).toBe('retryable');
    expect(again).toEqual({ kind: 'success' });
    expect(h.reads()).toBe(2);
    expect(h.sent.map((x) => x.authorization)).toEqual(['old', 'new']);
    expect(h.lines.filter((l) => l.startsWith('warn'))).toEqual([
      expect.stringMatching(/collector refused the OTLP headers from secret .*read again in 1000 ms/),
    ]);
  });

  it('passes other failures through unchanged', async () => {
    const h = harness([() => Promise.resolve('authorization=t')], () => ({
      kind: 'failed',
      status: 400,
      reason: 'bad data',
    }));
    expect(await h.exporter.export('traces', body, h.budget(500))).toEqual({
      kind: 'failed',
      status: 400,
      reason: 'bad data',
    });
  });

  it('counts a secret whose content is not headers as a config problem, once', async () => {
    const h = harness([() => Promise.resolve('{"authorization": Bearer hidden')]);
    await h.exporter.export('traces', body, h.budget(100));
    h.advance(1_500);
    await h.exporter.export('traces', body, h.budget(100));
    expect(h.reads()).toBe(2);
    expect(h.problems).toHaveLength(1);
    expect(h.lines.join('\n')).not.toContain('hidden');
  });

  it('spools the batch instead of dropping it when the secret cannot be read, without waiting in the flush', async () => {
    // Prepare
    const h = harness([() => Promise.reject(new Error('ResourceNotFoundException'))]);
    const sleeps: number[] = [];
    const delivery = createFallbackDelivery(
      { exporter: h.exporter, env: {}, clock: h.clock, log: h.log },
      {
        config: {
          spoolDir: mkdtempSync(join(tmpdir(), 'secret-headers-test-')),
          spoolMaxBytes: 1 << 20,
          breakerThreshold: 3,
          breakerOpenMs: 10_000,
          breakerMaxOpenMs: 60_000,
          s3ReserveMs: 0,
          spillMinBytes: 0,
          spillMaxAgeMs: 0,
        },
        sleep: async (ms) => {
          sleeps.push(ms);
          h.advance(ms);
        },
      },
    );
    // Act
    const result = await delivery.deliver(
      { signal: 'traces', body, items: 2, oldestAcceptedAt: h.clock.now() },
      h.budget(5_000),
    );
    // Assess
    expect(result.kind).toBe('spilled');
    expect(sleeps).toEqual([]);
    expect(delivery.counters.droppedItems).toEqual({});
    expect(h.sent).toEqual([]);
  });
});

describe('secretsManagerFetch', () => {
  it('signs for the region of the ARN and honours AWS_ENDPOINT_URL_SECRETS_MANAGER over AWS_ENDPOINT_URL', async () => {
    // Prepare: a loopback stand-in for the Secrets Manager endpoint that records what it was asked
    const seen: { auth: string; target: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({
          auth: String(req.headers.authorization),
          target: String(req.headers['x-amz-target']),
          body,
        });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ SecretString: 'authorization=abc' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const arn = 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:otlp-AbCdEf';
    try {
      // Act
      const fetch = secretsManagerFetch(
        arn,
        {
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'secret',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${port}`,
          AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        },
        systemClock,
      );
      const value = await fetch({ deadline: Date.now() + 5_000, signal: new AbortController().signal });
      // Assess
      expect(value).toBe('authorization=abc');
      expect(seen).toHaveLength(1);
      expect(seen[0]!.auth).toContain('/eu-west-2/secretsmanager/aws4_request');
      expect(seen[0]!.target).toBe('secretsmanager.GetSecretValue');
      expect(JSON.parse(seen[0]!.body)).toEqual({ SecretId: arn });
    } finally {
      server.close();
    }
  });
});
