// The postgres destination against a real PostgreSQL server: rows read back by id with psql, no
// duplicate row when a batch is delivered twice, a connection terminated between flushes (as a
// freeze leaves it), missing rights, an unknown role and host, and a server stopped mid-run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDestination } from '../../../src/extension/destinations/postgres/index.js';
import { type PostgresServer, startPostgres } from '../../helpers/postgres.js';
import { clock, hex, logsRequest, memoryLog, metricsRequest, send, tracesRequest } from './data-fixtures.js';

let pg: PostgresServer;

beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);

afterAll(async () => {
  await pg?.remove();
});

const env = (url = pg.url) => ({ OTEL_RELAY_POSTGRES_URL: url });

describe('postgres destination', () => {
  it('creates the tables and writes spans, metric points and log records, read back by id', async () => {
    // Prepare
    const log = memoryLog();
    const d = await createDestination({ env: env(), clock, log });
    const traces = tracesRequest('pg-test', 2);
    const metrics = metricsRequest('pg-test');
    const logs = logsRequest('pg-test', 3);
    try {
      // Act
      const outcomes = [
        await send(d, 'traces', traces.body),
        await send(d, 'metrics', metrics.body),
        await send(d, 'logs', logs.body),
      ];
      // Assess
      expect(outcomes).toEqual([{ kind: 'success' }, { kind: 'success' }, { kind: 'success' }]);
      expect(pg.psql('SELECT version FROM otel_relay_schema')).toBe('1');
      const root = traces.spans[0] as (typeof traces.spans)[number];
      const row = pg.psql(
        `SELECT trace_id, span_id, coalesce(parent_span_id, '-'), name, kind, start_time_unix_nano, status_code, service_name, attributes->>'http.route', attributes->>'http.response.status_code', resource->>'service.name', jsonb_array_length(events) FROM otel_spans WHERE trace_id = '${root.traceId}' AND span_id = '${root.spanId}'`,
      );
      expect(row.split('|')).toEqual([
        root.traceId,
        root.spanId,
        '-',
        'GET /orders',
        '2',
        root.startTimeUnixNano,
        '2',
        'pg-test',
        '/orders',
        '500',
        'pg-test',
        '1',
      ]);
      const ids = traces.spans.map((s) => `'${s.spanId}'`).join(',');
      expect(pg.psql(`SELECT count(*) FROM otel_spans WHERE span_id IN (${ids})`)).toBe('4');
      expect(
        pg.psql(
          `SELECT metric_type, value, is_monotonic, aggregation_temporality FROM otel_metrics WHERE metric_name = 'requests.${metrics.tag}'`,
        ),
      ).toBe('sum|7|t|2');
      expect(pg.psql(`SELECT value FROM otel_metrics WHERE metric_name = 'queue.depth.${metrics.tag}'`)).toBe(
        '4.5',
      );
      expect(pg.psql(`SELECT count(*) FROM otel_logs WHERE body #>> '{}' LIKE '${logs.tag}%'`)).toBe('3');
      expect(log.lines.filter((l) => l.startsWith('error'))).toEqual([]);
    } finally {
      d.close();
    }
  });

  it('adds no row when the same batch is delivered twice', async () => {
    // Prepare
    const d = await createDestination({ env: env(), clock, log: memoryLog() });
    const traces = tracesRequest('pg-dup', 3);
    const logs = logsRequest('pg-dup', 2);
    try {
      // Act
      for (let i = 0; i < 2; i++) {
        expect(await send(d, 'traces', traces.body)).toEqual({ kind: 'success' });
        expect(await send(d, 'logs', logs.body)).toEqual({ kind: 'success' });
      }
      // Assess
      const ids = traces.spans.map((s) => `'${s.spanId}'`).join(',');
      expect(pg.psql(`SELECT count(*) FROM otel_spans WHERE span_id IN (${ids})`)).toBe('6');
      expect(pg.psql(`SELECT count(*) FROM otel_logs WHERE body #>> '{}' LIKE '${logs.tag}%'`)).toBe('2');
    } finally {
      d.close();
    }
  });

  it('rebuilds a connection the server terminated between flushes within the same export', async () => {
    // Prepare
    const d = await createDestination({ env: env(), clock, log: memoryLog() });
    try {
      expect(await send(d, 'traces', tracesRequest('pg-a').body)).toEqual({ kind: 'success' });
      const terminated = pg.psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'lambda-otel-relay'",
      );
      expect(Number(terminated)).toBeGreaterThanOrEqual(1);
      const traces = tracesRequest('pg-b');
      // Act
      const outcome = await send(d, 'traces', traces.body);
      // Assess
      expect(outcome).toEqual({ kind: 'success' });
      expect(pg.psql(`SELECT count(*) FROM otel_spans WHERE span_id = '${traces.spans[0]?.spanId}'`)).toBe(
        '1',
      );
    } finally {
      d.close();
    }
  });

  it('missing table rights, an unknown role and an unknown host each log one clear line and go to the fallback', async () => {
    // Prepare
    const role = `reader_${hex(3)}`;
    pg.psql(`CREATE ROLE ${role} LOGIN; GRANT SELECT ON otel_spans, otel_metrics, otel_logs TO ${role}`);
    const readerLog = memoryLog();
    const reader = await createDestination({
      env: env(`postgres://${role}@127.0.0.1:${pg.port}/postgres`),
      clock,
      log: readerLog,
    });
    const nobodyLog = memoryLog();
    const nobody = await createDestination({
      env: env(`postgres://nobody:secret-pw@127.0.0.1:${pg.port}/postgres`),
      clock,
      log: nobodyLog,
    });
    const hostLog = memoryLog();
    const noHost = await createDestination({
      env: env('postgres://u@no-such-db.invalid:5432/x'),
      clock,
      log: hostLog,
    });
    try {
      // Act
      const denied = [
        await send(reader, 'traces', tracesRequest('x').body),
        await send(reader, 'traces', tracesRequest('x').body),
      ];
      const refused = [
        await send(nobody, 'logs', logsRequest('x').body),
        await send(nobody, 'logs', logsRequest('x').body),
      ];
      const lost = await send(noHost, 'traces', tracesRequest('x').body);
      // Assess
      expect(denied.map((o) => o.kind)).toEqual(['failed', 'failed']);
      expect(refused.map((o) => o.kind)).toEqual(['failed', 'failed']);
      expect(lost).toMatchObject({ kind: 'retryable', notThisFlush: true });
      const one = (lines: string[]) => lines.filter((l) => l.startsWith('error'));
      expect(one(readerLog.lines)).toHaveLength(1);
      expect(one(readerLog.lines)[0]).toMatch(new RegExp(`user ${role} may not write otel_spans.*fallback`));
      expect(one(nobodyLog.lines)).toHaveLength(1);
      expect(one(nobodyLog.lines)[0]).toMatch(/refused user nobody.*fallback/);
      expect(one(nobodyLog.lines).join()).not.toContain('secret-pw');
      expect(one(hostLog.lines)).toHaveLength(1);
      expect(one(hostLog.lines)[0]).toMatch(/no-such-db\.invalid does not resolve.*fallback/);
    } finally {
      reader.close();
      nobody.close();
      noHost.close();
    }
  });

  it('a server stopped mid-run makes the batch retryable at once, and the retry lands exactly once', async () => {
    // Prepare
    const d = await createDestination({ env: env(), clock, log: memoryLog() });
    const traces = tracesRequest('pg-down', 2);
    try {
      expect(await send(d, 'traces', tracesRequest('pg-before').body)).toEqual({ kind: 'success' });
      await pg.stop();
      // Act
      const during = await send(d, 'traces', traces.body);
      await pg.restart();
      const retried = await send(d, 'traces', traces.body);
      // Assess
      expect(during).toMatchObject({ kind: 'retryable', notThisFlush: true });
      expect(retried).toEqual({ kind: 'success' });
      const ids = traces.spans.map((s) => `'${s.spanId}'`).join(',');
      expect(pg.psql(`SELECT count(*) FROM otel_spans WHERE span_id IN (${ids})`)).toBe('4');
    } finally {
      d.close();
    }
  });
});
