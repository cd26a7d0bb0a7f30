// The tables the postgres destination writes, schema version 1 (docs/destinations/postgres.md lists
// every column). Ids are lower-case hex text, times bigint Unix nanoseconds, attribute maps jsonb.
// Spans are unique on (trace_id, span_id); metric points and log records on record_id, a hash of the
// whole record, so a batch delivered twice (at-least-once) adds no row.

export const SCHEMA_VERSION = 1;

export const TABLES = ['otel_spans', 'otel_metrics', 'otel_logs'] as const;

export const CREATE_STATEMENTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS otel_spans (
    trace_id text NOT NULL,
    span_id text NOT NULL,
    parent_span_id text,
    name text NOT NULL,
    kind smallint NOT NULL,
    start_time_unix_nano bigint NOT NULL,
    end_time_unix_nano bigint NOT NULL,
    status_code smallint NOT NULL,
    status_message text,
    service_name text,
    scope_name text,
    scope_version text,
    attributes jsonb NOT NULL,
    resource jsonb NOT NULL,
    events jsonb NOT NULL,
    links jsonb NOT NULL,
    PRIMARY KEY (trace_id, span_id)
  )`,
  'CREATE INDEX IF NOT EXISTS otel_spans_service_start ON otel_spans (service_name, start_time_unix_nano)',
  `CREATE TABLE IF NOT EXISTS otel_metrics (
    record_id text PRIMARY KEY,
    metric_name text NOT NULL,
    metric_type text NOT NULL,
    unit text,
    description text,
    start_time_unix_nano bigint,
    time_unix_nano bigint NOT NULL,
    value double precision,
    count bigint,
    sum double precision,
    aggregation_temporality smallint,
    is_monotonic boolean,
    service_name text,
    scope_name text,
    scope_version text,
    attributes jsonb NOT NULL,
    resource jsonb NOT NULL,
    data jsonb NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS otel_metrics_name_time ON otel_metrics (metric_name, time_unix_nano)',
  `CREATE TABLE IF NOT EXISTS otel_logs (
    record_id text PRIMARY KEY,
    time_unix_nano bigint,
    observed_time_unix_nano bigint,
    severity_number smallint,
    severity_text text,
    body jsonb,
    trace_id text,
    span_id text,
    service_name text,
    scope_name text,
    scope_version text,
    attributes jsonb NOT NULL,
    resource jsonb NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS otel_logs_service_time ON otel_logs (service_name, time_unix_nano)',
  `CREATE TABLE IF NOT EXISTS otel_relay_schema (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`,
  `INSERT INTO otel_relay_schema (version) VALUES (${SCHEMA_VERSION}) ON CONFLICT DO NOTHING`,
];

/**
 * A column and the SQL type its parameter is cast to. JSON goes as text cast to jsonb: a parameter
 * typed jsonb would be JSON-encoded a second time by the client.
 */
export type Column = readonly [
  name: string,
  cast: '' | '::bigint' | '::text::jsonb' | '::smallint' | '::double precision' | '::boolean',
];

export const SPAN_COLUMNS: readonly Column[] = [
  ['trace_id', ''],
  ['span_id', ''],
  ['parent_span_id', ''],
  ['name', ''],
  ['kind', '::smallint'],
  ['start_time_unix_nano', '::bigint'],
  ['end_time_unix_nano', '::bigint'],
  ['status_code', '::smallint'],
  ['status_message', ''],
  ['service_name', ''],
  ['scope_name', ''],
  ['scope_version', ''],
  ['attributes', '::text::jsonb'],
  ['resource', '::text::jsonb'],
  ['events', '::text::jsonb'],
  ['links', '::text::jsonb'],
];

export const METRIC_COLUMNS: readonly Column[] = [
  ['record_id', ''],
  ['metric_name', ''],
  ['metric_type', ''],
  ['unit', ''],
  ['description', ''],
  ['start_time_unix_nano', '::bigint'],
  ['time_unix_nano', '::bigint'],
  ['value', '::double precision'],
  ['count', '::bigint'],
  ['sum', '::double precision'],
  ['aggregation_temporality', '::smallint'],
  ['is_monotonic', '::boolean'],
  ['service_name', ''],
  ['scope_name', ''],
  ['scope_version', ''],
  ['attributes', '::text::jsonb'],
  ['resource', '::text::jsonb'],
  ['data', '::text::jsonb'],
];

export const LOG_COLUMNS: readonly Column[] = [
  ['record_id', ''],
  ['time_unix_nano', '::bigint'],
  ['observed_time_unix_nano', '::bigint'],
  ['severity_number', '::smallint'],
  ['severity_text', ''],
  ['body', '::text::jsonb'],
  ['trace_id', ''],
  ['span_id', ''],
  ['service_name', ''],
  ['scope_name', ''],
  ['scope_version', ''],
  ['attributes', '::text::jsonb'],
  ['resource', '::text::jsonb'],
];

/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters per statement. */
export function rowsPerStatement(columns: readonly Column[]): number {
  return Math.floor(60_000 / columns.length);
}

/** `INSERT INTO t (a, b) VALUES ($1, $2::jsonb), ($3, $4::jsonb) ON CONFLICT DO NOTHING` for n rows. */
export function insertStatement(table: string, columns: readonly Column[], rows: number): string {
  const names = columns.map(([n]) => n).join(', ');
  const tuples: string[] = [];
  let p = 1;
  for (let r = 0; r < rows; r++) tuples.push(`(${columns.map(([, cast]) => `$${p++}${cast}`).join(', ')})`);
  return `INSERT INTO ${table} (${names}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`;
}
