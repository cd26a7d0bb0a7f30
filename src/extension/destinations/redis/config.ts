// Reads the redis destination's settings into one typed value; problems are lines for the log.
import { readFileSync } from 'node:fs';
import { type Env, readSetting } from '../../settings/registry.js';
import type { Signal } from '../types.js';
import * as S from './settings.js';

export interface RedisConfig {
  host: string;
  port: number;
  tls: false | { ca?: string };
  username?: string;
  password?: string;
  db: number;
  mode: 'streams' | 'trace-keys';
  streams: Record<Signal, string>;
  maxLen: number;
  keyPrefix: string;
  ttlSeconds: number;
  timeoutMs: number;
  /** host:port for log lines (never the password). */
  display: string;
}

export class RedisSettingError extends Error {
  override readonly name = 'RedisSettingError';
}

const cannotStart = 'the redis destination cannot start';

export function readRedisConfig(env: Env, problems: string[]): RedisConfig {
  const raw = readSetting(env, S.REDIS_URL, problems);
  if (raw === undefined) throw new RedisSettingError(`${S.REDIS_URL.name} is not set: ${cannotStart}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new RedisSettingError(`${S.REDIS_URL.name} is not a URL (value not shown): ${cannotStart}`, {
      cause: err,
    });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new RedisSettingError(`${S.REDIS_URL.name} must start with redis:// or rediss://: ${cannotStart}`);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new RedisSettingError(
      `${S.REDIS_URL.name}: the database ${url.pathname.slice(1)} is not a number: ${cannotStart}`,
    );
  let tls: RedisConfig['tls'] = url.protocol === 'rediss:' ? {} : false;
  const caFile = readSetting(env, S.REDIS_TLS_CA_FILE, problems);
  if (caFile !== undefined) {
    try {
      tls = { ca: readFileSync(caFile, 'utf8') };
    } catch (err) {
      throw new RedisSettingError(`${S.REDIS_TLS_CA_FILE.name}=${caFile} cannot be read: ${cannotStart}`, {
        cause: err,
      });
    }
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 6379;
  const config: RedisConfig = {
    host,
    port,
    tls,
    db,
    mode: readSetting(env, S.REDIS_MODE, problems),
    streams: {
      traces: readSetting(env, S.REDIS_TRACES_STREAM, problems),
      metrics: readSetting(env, S.REDIS_METRICS_STREAM, problems),
      logs: readSetting(env, S.REDIS_LOGS_STREAM, problems),
    },
    maxLen: readSetting(env, S.REDIS_STREAM_MAXLEN, problems),
    keyPrefix: readSetting(env, S.REDIS_KEY_PREFIX, problems),
    ttlSeconds: readSetting(env, S.REDIS_TTL_SECONDS, problems),
    timeoutMs: readSetting(env, S.REDIS_TIMEOUT, problems),
    display: `${url.protocol}//${url.host}`,
  };
  if (url.username) config.username = decodeURIComponent(url.username);
  if (url.password) config.password = decodeURIComponent(url.password);
  return config;
}
