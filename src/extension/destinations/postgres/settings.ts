// The postgres destination's settings (PostgreSQL, RDS, Aurora PostgreSQL).
import { boolean, integer, optionalText, type Setting, setting } from '../../settings/registry.js';

export const POSTGRES_URL = setting({
  name: 'OTEL_RELAY_POSTGRES_URL',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '— (required)',
  parse: optionalText,
  secret: true,
  description:
    '`postgres://user[:password]@host:5432/db[?sslmode=require|verify-full]`. Never logged with its password.',
});
export const POSTGRES_IAM_AUTH = setting({
  name: 'OTEL_RELAY_POSTGRES_IAM_AUTH',
  group: 'destinations',
  default: false,
  parse: boolean,
  description:
    'Authenticate with an RDS IAM auth token (SigV4, from the function role; `rds-db:connect`) instead of a password. Implies TLS.',
});
export const POSTGRES_TLS_CA_FILE = setting({
  name: 'OTEL_RELAY_POSTGRES_TLS_CA_FILE',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: "Node's CA store",
  parse: optionalText,
  description:
    'PEM file of the CA that signs the server certificate (for RDS: the region bundle, shipped in your function or a layer); the certificate is then verified.',
});
export const POSTGRES_CREATE_TABLES = setting({
  name: 'OTEL_RELAY_POSTGRES_CREATE_TABLES',
  group: 'destinations',
  default: true,
  parse: boolean,
  description: 'Create otel_spans, otel_metrics, otel_logs (schema version 1) when they are missing.',
});
export const POSTGRES_TIMEOUT = setting({
  name: 'OTEL_RELAY_POSTGRES_TIMEOUT',
  group: 'destinations',
  default: 10_000,
  parse: integer(100, 120_000, 'ms'),
  description: 'ms a connection or a write may take; always further capped by the flush budget.',
});

export const settings: readonly Setting[] = [
  POSTGRES_URL,
  POSTGRES_IAM_AUTH,
  POSTGRES_TLS_CA_FILE,
  POSTGRES_CREATE_TABLES,
  POSTGRES_TIMEOUT,
];
