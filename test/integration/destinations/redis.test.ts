// The redis destination against a real redis-server: streams and trace-keys modes read back with an
// independent client, ACL AUTH, refused credentials and rights, a connection killed between flushes
// (as a freeze leaves it) and a server stopped mid-run.
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDestination } from '../../../src/extension/destinations/redis/index.js';
import { type RedisServer, startRedis } from '../../helpers/redis.js';
import { clock, hex, logsRequest, memoryLog, metricsRequest, send, tracesRequest } from './data-fixtures.js';

let server: RedisServer;
let reader: Valkey;

beforeAll(async () => {
  server = await startRedis({
    users: [
      { name: 'relay', password: 'relay-pass', rules: '~* +@all' },
      { name: 'readonly', password: 'ro-pass', rules: '~* +@read +ping +auth +quit' },
    ],
  });
  reader = new Valkey({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await reader.connect();
}, 60_000);

afterAll(async () => {
  reader?.disconnect();
  await server?.stop();
});

const url = (user = 'relay', pass = 'relay-pass') => `redis://${user}:${pass}@127.0.0.1:${server.port}`;

describe('redis destination', () => {
  it('appends one otlp_proto entry per batch to each signal stream, capped with MAXLEN ~', async () => {
    // Prepare
    const run = hex(4);
    const log = memoryLog();
    const d = createDestination({
      env: {
        OTEL_RELAY_REDIS_URL: url(),
        OTEL_RELAY_REDIS_TRACES_STREAM: `spans_${run}`,
        OTEL_RELAY_REDIS_METRICS_STREAM: `metrics_${run}`,
        OTEL_RELAY_REDIS_LOGS_STREAM: `logs_${run}`,
      },
      clock,
      log,
    });
    const traces = tracesRequest('redis-test', 2);
    const metrics = metricsRequest('redis-test');
    const logs = logsRequest('redis-test');
    try {
      // Act
      const outcomes = [
        await send(d, 'traces', traces.body),
        await send(d, 'metrics', metrics.body),
        await send(d, 'logs', logs.body),
      ];
      // Assess
      expect(outcomes).toEqual([{ kind: 'success' }, { kind: 'success' }, { kind: 'success' }]);
      for (const [stream, body] of [
        [`spans_${run}`, traces.body],
        [`metrics_${run}`, metrics.body],
        [`logs_${run}`, logs.body],
      ] as const) {
        const entries = await reader.xrangeBuffer(stream, '-', '+');
        expect(entries).toHaveLength(1);
        const fields = entries[0]?.[1] ?? [];
        expect(
          fields.map((f: Buffer, i: number) => (i % 2 === 0 ? f.toString() : null)).filter(Boolean),
        ).toEqual(['encoding', 'data']);
        expect(fields[1]?.toString()).toBe('otlp_proto');
        expect(Buffer.compare(fields[3] as Buffer, Buffer.from(body))).toBe(0);
      }
      expect(log.lines.filter((l) => l.startsWith('error'))).toEqual([]);
    } finally {
      d.close();
    }
  });

  it('stores spans as JSON under <prefix>:<traceId> with a TTL, once each however often a batch is sent', async () => {
    // Prepare
    const prefix = `t${hex(3)}`;
    const d = createDestination({
      env: {
        OTEL_RELAY_REDIS_URL: url(),
        OTEL_RELAY_REDIS_MODE: 'trace-keys',
        OTEL_RELAY_REDIS_KEY_PREFIX: prefix,
        OTEL_RELAY_REDIS_TTL_SECONDS: '600',
      },
      clock,
      log: memoryLog(),
    });
    const traces = tracesRequest('redis-keys', 2);
    try {
      // Act
      expect(await send(d, 'traces', traces.body)).toEqual({ kind: 'success' });
      expect(await send(d, 'traces', traces.body)).toEqual({ kind: 'success' });
      // Assess
      for (const traceId of new Set(traces.spans.map((s) => s.traceId))) {
        const key = `${prefix}:${traceId}`;
        const hash = await reader.hgetall(key);
        const expected = traces.spans.filter((s) => s.traceId === traceId);
        expect(Object.keys(hash).sort()).toEqual(expected.map((s) => s.spanId).sort());
        for (const s of expected) {
          const stored = JSON.parse(hash[s.spanId] as string);
          expect(stored).toMatchObject({
            traceId,
            spanId: s.spanId,
            name: s.name,
            kind: s.kind,
            startTimeUnixNano: s.startTimeUnixNano,
            serviceName: 'redis-keys',
          });
        }
        const ttl = await reader.ttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(600);
      }
      expect(await send(d, 'metrics', metricsRequest('x').body)).toMatchObject({ kind: 'failed' });
    } finally {
      d.close();
    }
  });

  it('rebuilds a connection the server dropped between flushes within the same export', async () => {
    // Prepare
    const stream = `thaw_${hex(4)}`;
    const d = createDestination({
      env: { OTEL_RELAY_REDIS_URL: url(), OTEL_RELAY_REDIS_TRACES_STREAM: stream },
      clock,
      log: memoryLog(),
    });
    try {
      expect(await send(d, 'traces', tracesRequest('a').body)).toEqual({ kind: 'success' });
      // As a long freeze leaves it: the server (or a NAT) has closed the idle connection.
      const killed = await reader.call('CLIENT', 'KILL', 'USER', 'relay');
      expect(Number(killed)).toBeGreaterThanOrEqual(1);
      // Act
      const outcome = await send(d, 'traces', tracesRequest('b').body);
      // Assess
      expect(outcome).toEqual({ kind: 'success' });
      expect(await reader.xlen(stream)).toBe(2);
    } finally {
      d.close();
    }
  });

  it('refused credentials and missing command rights each log one clear line and go to the fallback', async () => {
    // Prepare
    const wrongLog = memoryLog();
    const wrong = createDestination({
      env: { OTEL_RELAY_REDIS_URL: url('relay', 'nope') },
      clock,
      log: wrongLog,
    });
    const readonlyLog = memoryLog();
    const readonly = createDestination({
      env: { OTEL_RELAY_REDIS_URL: url('readonly', 'ro-pass') },
      clock,
      log: readonlyLog,
    });
    try {
      // Act
      const refused = [
        await send(wrong, 'traces', tracesRequest('x').body),
        await send(wrong, 'logs', logsRequest('x').body),
      ];
      const denied = [
        await send(readonly, 'traces', tracesRequest('x').body),
        await send(readonly, 'traces', tracesRequest('x').body),
      ];
      // Assess
      expect(refused.map((o) => o.kind)).toEqual(['failed', 'failed']);
      expect(denied.map((o) => o.kind)).toEqual(['failed', 'failed']);
      const wrongErrors = wrongLog.lines.filter((l) => l.startsWith('error'));
      expect(wrongErrors).toHaveLength(1);
      expect(wrongErrors[0]).toMatch(/refused the credentials.*WRONGPASS.*fallback/);
      expect(wrongErrors.join()).not.toContain('nope');
      const deniedErrors = readonlyLog.lines.filter((l) => l.startsWith('error'));
      expect(deniedErrors).toHaveLength(1);
      expect(deniedErrors[0]).toMatch(/may not run these commands.*NOPERM.*fallback/);
    } finally {
      wrong.close();
      readonly.close();
    }
  });

  it('a server stopped mid-run makes the batch retryable at once, and delivery resumes when it is back', async () => {
    // Prepare
    const own = await startRedis();
    const stream = `down_${hex(4)}`;
    const d = createDestination({
      env: { OTEL_RELAY_REDIS_URL: own.url, OTEL_RELAY_REDIS_TRACES_STREAM: stream },
      clock,
      log: memoryLog(),
    });
    let restarted: RedisServer | undefined;
    try {
      expect(await send(d, 'traces', tracesRequest('before').body)).toEqual({ kind: 'success' });
      await own.stop();
      // Act
      const during = await send(d, 'traces', tracesRequest('during').body);
      restarted = await startRedis({ port: own.port });
      const after = await send(d, 'traces', tracesRequest('after').body);
      // Assess
      expect(during).toMatchObject({ kind: 'retryable', notThisFlush: true });
      expect(after).toEqual({ kind: 'success' });
    } finally {
      d.close();
      await restarted?.stop();
    }
  });

  it('speaks TLS to a rediss:// server whose certificate a CA file vouches for, and refuses it without', async () => {
    // Prepare
    const tls = await startRedis({ tls: true });
    const stream = `tls_${hex(4)}`;
    const env = { OTEL_RELAY_REDIS_URL: tls.url, OTEL_RELAY_REDIS_TRACES_STREAM: stream };
    const trusted = createDestination({
      env: { ...env, OTEL_RELAY_REDIS_TLS_CA_FILE: tls.caFile as string },
      clock,
      log: memoryLog(),
    });
    const untrusted = createDestination({ env, clock, log: memoryLog() });
    try {
      // Act
      const ok = await send(trusted, 'traces', tracesRequest('tls').body);
      const refused = await send(untrusted, 'traces', tracesRequest('tls').body);
      // Assess
      expect(ok).toEqual({ kind: 'success' });
      expect(refused.kind).not.toBe('success');
      expect(refused).toMatchObject({ reason: expect.stringMatching(/certificate/i) });
    } finally {
      trusted.close();
      untrusted.close();
      await tls.stop();
    }
  });
});
