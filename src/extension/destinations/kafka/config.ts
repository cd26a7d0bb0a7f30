// Reads the kafka destination's settings into one typed value; problems are lines for the log.
import { readFileSync } from 'node:fs';
import { type Env, readSetting } from '../../settings/registry.js';
import type { Signal } from '../types.js';
import * as S from './settings.js';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'aws-msk-iam';

export interface KafkaConfig {
  brokers: string[];
  topics: Record<Signal, string>;
  partitionTracesById: boolean;
  /** -1 (all in-sync replicas, idempotent) or 1. */
  acks: -1 | 1;
  clientId: string;
  /** `true`, or the CA certificates to trust. */
  tls: false | true | { ca: string };
  sasl?: { mechanism: SaslMechanism; username?: string; password?: string };
  timeoutMs: number;
}

/** A setting the destination cannot start without; its message says what happens to the data. */
export class KafkaSettingError extends Error {
  override readonly name = 'KafkaSettingError';
}

const BROKER = /^[^\s:,]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/i;

export function readKafkaConfig(env: Env, problems: string[]): KafkaConfig {
  const brokersRaw = readSetting(env, S.KAFKA_BROKERS, problems);
  const brokers = (brokersRaw ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0)
    throw new KafkaSettingError(`${S.KAFKA_BROKERS.name} is not set: the kafka destination cannot start`);
  const bad = brokers.filter((b) => !BROKER.test(b));
  if (bad.length > 0)
    throw new KafkaSettingError(
      `${S.KAFKA_BROKERS.name}: ${bad.join(', ')} is not host:port; the kafka destination cannot start`,
    );
  const acks = readSetting(env, S.KAFKA_ACKS, problems) === 'all' ? -1 : 1;
  let tls: KafkaConfig['tls'] = readSetting(env, S.KAFKA_TLS, problems);
  const caFile = readSetting(env, S.KAFKA_TLS_CA_FILE, problems);
  if (caFile !== undefined) {
    try {
      tls = { ca: readFileSync(caFile, 'utf8') };
    } catch (err) {
      throw new KafkaSettingError(
        `${S.KAFKA_TLS_CA_FILE.name}=${caFile} cannot be read (${(err as Error).message}); the kafka destination cannot start`,
        { cause: err },
      );
    }
  }
  const mechanism = readSetting(env, S.KAFKA_SASL_MECHANISM, problems);
  const config: KafkaConfig = {
    brokers,
    topics: {
      traces: readSetting(env, S.KAFKA_TRACES_TOPIC, problems),
      metrics: readSetting(env, S.KAFKA_METRICS_TOPIC, problems),
      logs: readSetting(env, S.KAFKA_LOGS_TOPIC, problems),
    },
    partitionTracesById: readSetting(env, S.KAFKA_PARTITION_TRACES_BY_ID, problems),
    acks,
    clientId: readSetting(env, S.KAFKA_CLIENT_ID, problems),
    tls,
    timeoutMs: readSetting(env, S.KAFKA_TIMEOUT, problems),
  };
  readSetting(env, S.KAFKA_ENCODING, problems);
  if (mechanism !== 'none') {
    const username = readSetting(env, S.KAFKA_SASL_USERNAME, problems);
    const password = readSetting(env, S.KAFKA_SASL_PASSWORD, problems);
    if (mechanism !== 'aws-msk-iam' && (username === undefined || password === undefined))
      throw new KafkaSettingError(
        `${S.KAFKA_SASL_MECHANISM.name}=${mechanism} needs ${S.KAFKA_SASL_USERNAME.name} and ${S.KAFKA_SASL_PASSWORD.name}; the kafka destination cannot start`,
      );
    config.sasl = {
      mechanism,
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
    };
    if (mechanism === 'aws-msk-iam' && config.tls === false) {
      problems.push(
        `config: ${S.KAFKA_SASL_MECHANISM.name}=aws-msk-iam without ${S.KAFKA_TLS.name}=true: MSK's IAM listener (port 9098) takes TLS only, so MSK will refuse these connections`,
      );
    }
  }
  return config;
}
