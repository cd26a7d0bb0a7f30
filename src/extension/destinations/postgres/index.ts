// The postgres destination (PostgreSQL, RDS, Aurora): spans, metric points and log records as rows
// of otel_spans / otel_metrics / otel_logs (created when missing), written with multi-row INSERT ...
// ON CONFLICT DO NOTHING, so at-least-once delivery adds no duplicate row. Loaded only when selected;
// the `postgres` client loads with it. One connection lives across invocations.
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { defaultCredentialProvider, regionFromEnv } from '../../../aws/index.js';
import { dataPointRecords, logRecords, spanRecords } from '../records.js';
import { BudgetExpired, errorText, expiredOutcome, ProblemLog, withinBudget } from '../session.js';
import type { Destination, DestinationContext, DestinationModule, ExportOutcome, Signal } from '../types.js';
import { type PostgresConfig, readPostgresConfig } from './config.js';
import { rdsIamToken } from './rds-iam.js';
import {
  type Column,
  CREATE_STATEMENTS,
  insertStatement,
  LOG_COLUMNS,
  METRIC_COLUMNS,
  rowsPerStatement,
  SPAN_COLUMNS,
  TABLES,
} from './schema.js';

const NAME = 'postgres';
type Param = string | number | boolean | null;
interface Rows {
  table: (typeof TABLES)[number];
  columns: readonly Column[];
  rows: Param[][];
}

const json = (v: unknown): string => JSON.stringify(v);
/** A stable id for a record that has none of its own: equal records (a batch sent twice) collide. */
const recordId = (v: unknown): string =>
  createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 40);

async function rowsFor(signal: Signal, body: Uint8Array): Promise<Rows> {
  if (signal === 'traces') {
    const rows = (await spanRecords(body)).map((s): Param[] => [
      s.traceId,
      s.spanId,
      s.parentSpanId,
      s.name,
      s.kind,
      s.startTimeUnixNano,
      s.endTimeUnixNano,
      s.statusCode,
      s.statusMessage,
      s.serviceName,
      s.scopeName,
      s.scopeVersion,
      json(s.attributes),
      json(s.resource),
      json(s.events),
      json(s.links),
    ]);
    return { table: 'otel_spans', columns: SPAN_COLUMNS, rows };
  }
  if (signal === 'metrics') {
    const rows = (await dataPointRecords(body)).map((p): Param[] => [
      recordId(p),
      p.metricName,
      p.metricType,
      p.unit,
      p.description,
      p.startTimeUnixNano,
      p.timeUnixNano,
      p.value,
      p.count,
      p.sum,
      p.aggregationTemporality,
      p.isMonotonic,
      p.serviceName,
      p.scopeName,
      p.scopeVersion,
      json(p.attributes),
      json(p.resource),
      json(p.data),
    ]);
    return { table: 'otel_metrics', columns: METRIC_COLUMNS, rows };
  }
  const rows = (await logRecords(body)).map((l): Param[] => [
    recordId(l),
    l.timeUnixNano,
    l.observedTimeUnixNano,
    l.severityNumber,
    l.severityText,
    json(l.body),
    l.traceId,
    l.spanId,
    l.serviceName,
    l.scopeName,
    l.scopeVersion,
    json(l.attributes),
    json(l.resource),
  ]);
  return { table: 'otel_logs', columns: LOG_COLUMNS, rows };
}

export async function createDestination(ctx: DestinationContext): Promise<Destination> {
  const problems: string[] = [];
  const config = readPostgresConfig(ctx.env, problems);
  for (const p of problems) {
    ctx.log.warn(p);
    ctx.onConfigProblem?.(p);
  }
  const { default: postgres } = await import('postgres');
  const problemLog = new ProblemLog(ctx.log, NAME);
  const credentials = config.iamAuth ? defaultCredentialProvider(ctx.env, () => ctx.clock.now()) : undefined;
  const region = regionFromEnv(ctx.env);
  let sql: Sql | undefined;
  let tablesReady = false;

  const client = (): Sql => {
    sql ??= postgres(config.url, {
      max: 1,
      connect_timeout: Math.ceil(config.timeoutMs / 1000),
      idle_timeout: 0,
      max_lifetime: null,
      prepare: false,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: 'lambda-otel-relay' },
      ...(config.ssl !== undefined && { ssl: config.ssl }),
      ...(credentials && {
        // A fresh token per connection: one is valid for 15 minutes, a connection for longer.
        password: async () =>
          rdsIamToken(
            await credentials(),
            region,
            config.host,
            config.port,
            config.user,
            new Date(ctx.clock.now()),
          ),
      }),
    });
    return sql;
  };

  /** Closes the connection now (a freeze or SHUTDOWN is coming, or it failed); the next export reconnects. */
  const drop = (): void => {
    const s = sql;
    sql = undefined;
    void s?.end({ timeout: 0 }).catch(() => {});
  };

  const ensureTables = async (s: Sql): Promise<void> => {
    if (tablesReady || !config.createTables) return;
    const present = await s.unsafe(
      `SELECT ${TABLES.map((t) => `to_regclass('${t}') IS NOT NULL AS ${t}`).join(', ')}`,
    );
    const row = present[0] as Record<string, boolean> | undefined;
    if (!TABLES.every((t) => row?.[t])) {
      for (const statement of CREATE_STATEMENTS) await s.unsafe(statement);
    }
    tablesReady = true;
  };

  const write = async (rows: Rows): Promise<void> => {
    const s = client();
    await ensureTables(s);
    const per = rowsPerStatement(rows.columns);
    for (let i = 0; i < rows.rows.length; i += per) {
      const chunk = rows.rows.slice(i, i + per);
      await s.unsafe(insertStatement(rows.table, rows.columns, chunk.length), chunk.flat());
    }
  };

  const writeWithReconnect = async (rows: Rows): Promise<void> => {
    const reused = sql !== undefined;
    try {
      await write(rows);
    } catch (err) {
      // A connection that died during a freeze fails its first query: reconnect once, same budget.
      if (!reused || !isConnectionLoss(err)) throw err;
      drop();
      await write(rows);
    }
  };

  return {
    name: NAME,
    signals: new Set<Signal>(['traces', 'metrics', 'logs']),
    async export(signal, body, budget): Promise<ExportOutcome> {
      let rows: Rows;
      try {
        rows = await rowsFor(signal, body);
      } catch (err) {
        return { kind: 'failed', reason: `postgres: the batch could not be decoded: ${errorText(err)}` };
      }
      if (rows.rows.length === 0) return { kind: 'success' };
      try {
        await withinBudget(writeWithReconnect(rows), budget, ctx.clock, drop, config.timeoutMs);
        return { kind: 'success' };
      } catch (err) {
        if (err instanceof BudgetExpired) return expiredOutcome(NAME, err);
        return classify(err, config, rows.table, problemLog, drop);
      }
    },
    async shutdown(budget) {
      // end() lets a query still running finish and sends Terminate; past the budget it cuts the socket.
      const s = sql;
      sql = undefined;
      const timeout = Math.max(0, budget.deadline - ctx.clock.now()) / 1000;
      await s?.end({ timeout });
    },
    resetConnections: drop,
    close: drop,
  };
}

interface PgError extends Error {
  code?: string;
  errno?: string;
}

const CONNECTION_LOST = new Set([
  'ECONNRESET',
  'EPIPE',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown: the backend was terminated
]);

function isConnectionLoss(err: unknown): boolean {
  const e = err as PgError;
  return CONNECTION_LOST.has(e.code ?? '') || CONNECTION_LOST.has(e.errno ?? '');
}

/** The one place a PostgreSQL failure becomes an ExportOutcome (and, for a setting to fix, one log line). */
function classify(
  err: unknown,
  config: PostgresConfig,
  table: string,
  problems: ProblemLog,
  drop: () => void,
): ExportOutcome {
  const e = err as PgError;
  const code = e.code ?? '';
  const reason = `postgres: ${errorText(err)}`;
  if (code === '28P01' || code === '28000') {
    drop();
    problems.once('auth', `${config.display} refused user ${config.user} (${errorText(err)})`);
    return { kind: 'failed', reason };
  }
  if (code === '42501') {
    problems.once(
      `rights-${table}`,
      `user ${config.user} may not write ${table} on ${config.display}: ${errorText(err)}`,
    );
    return { kind: 'failed', reason };
  }
  if (code === '3D000') {
    drop();
    problems.once('database', `database ${config.database} does not exist on ${config.host}:${config.port}`);
    return { kind: 'failed', reason };
  }
  if (code === '42P01' || code === '42703') {
    problems.once(
      `table-${table}`,
      `${table} is missing or has other columns than schema version 1: ${errorText(err)}`,
    );
    return { kind: 'failed', reason };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    drop();
    problems.once('unknown-host', `host ${config.host} does not resolve`);
    return { kind: 'retryable', reason, notThisFlush: true };
  }
  if (code === 'ECONNREFUSED') {
    drop();
    return { kind: 'retryable', reason, notThisFlush: true };
  }
  // 22xxx (bad data) cannot succeed on a retry; anything else (a failover, a timeout) might.
  if (code.startsWith('22')) return { kind: 'failed', reason };
  drop();
  return { kind: 'retryable', reason };
}

export default { createDestination } satisfies DestinationModule;
