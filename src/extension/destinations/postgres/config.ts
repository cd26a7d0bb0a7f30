// Reads the postgres destination's settings into one typed value; problems are lines for the log.
import { readFileSync } from 'node:fs';
import { type Env, readSetting } from '../../settings/registry.js';
import * as S from './settings.js';

export interface PostgresConfig {
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  iamAuth: boolean;
  /** undefined: what the URL's sslmode says. */
  ssl?: 'require' | { ca: string; rejectUnauthorized: true };
  createTables: boolean;
  timeoutMs: number;
  /** host:port/db for log lines (never the password). */
  display: string;
}

export class PostgresSettingError extends Error {
  override readonly name = 'PostgresSettingError';
}

const cannotStart = 'the postgres destination cannot start';

export function readPostgresConfig(env: Env, problems: string[]): PostgresConfig {
  const raw = readSetting(env, S.POSTGRES_URL, problems);
  if (raw === undefined) throw new PostgresSettingError(`${S.POSTGRES_URL.name} is not set: ${cannotStart}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new PostgresSettingError(`${S.POSTGRES_URL.name} is not a URL (value not shown): ${cannotStart}`, {
      cause: err,
    });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new PostgresSettingError(`${S.POSTGRES_URL.name} must start with postgres://: ${cannotStart}`);
  const user = decodeURIComponent(url.username);
  if (!user) throw new PostgresSettingError(`${S.POSTGRES_URL.name} names no user: ${cannotStart}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 5432;
  const database = decodeURIComponent(url.pathname.slice(1)) || user;
  const config: PostgresConfig = {
    url: raw,
    host,
    port,
    user,
    database,
    iamAuth: readSetting(env, S.POSTGRES_IAM_AUTH, problems),
    createTables: readSetting(env, S.POSTGRES_CREATE_TABLES, problems),
    timeoutMs: readSetting(env, S.POSTGRES_TIMEOUT, problems),
    display: `${host}:${port}/${database}`,
  };
  const caFile = readSetting(env, S.POSTGRES_TLS_CA_FILE, problems);
  if (caFile !== undefined) {
    try {
      config.ssl = { ca: readFileSync(caFile, 'utf8'), rejectUnauthorized: true };
    } catch (err) {
      throw new PostgresSettingError(
        `${S.POSTGRES_TLS_CA_FILE.name}=${caFile} cannot be read: ${cannotStart}`,
        {
          cause: err,
        },
      );
    }
  } else if (config.iamAuth && !url.searchParams.has('sslmode')) {
    // RDS takes IAM tokens over TLS only. Its certificates chain to Amazon's RDS roots, which Node's
    // store lacks, so without a CA file the connection is encrypted but the server is not verified.
    config.ssl = 'require';
    problems.push(
      `config: ${S.POSTGRES_IAM_AUTH.name}=true without ${S.POSTGRES_TLS_CA_FILE.name}: connecting with TLS but without verifying the server certificate; set ${S.POSTGRES_TLS_CA_FILE.name} to the RDS CA bundle to verify it`,
    );
  }
  return config;
}
