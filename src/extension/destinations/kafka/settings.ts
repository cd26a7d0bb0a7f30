// The kafka destination's settings. Topic names and encoding default to the OpenTelemetry Collector's
// Kafka conventions, so its kafkareceiver consumes what the relay produces without configuration.
import {
  boolean,
  integer,
  oneOf,
  optionalText,
  type Setting,
  setting,
  text,
} from '../../settings/registry.js';

export const KAFKA_BROKERS = setting({
  name: 'OTEL_RELAY_KAFKA_BROKERS',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '— (required)',
  parse: optionalText,
  description: 'Comma-separated `host:port` bootstrap brokers, e.g. the MSK bootstrap string.',
});
export const KAFKA_TRACES_TOPIC = setting({
  name: 'OTEL_RELAY_KAFKA_TRACES_TOPIC',
  group: 'destinations',
  default: 'otlp_spans',
  parse: text,
  description: 'Topic for traces.',
});
export const KAFKA_METRICS_TOPIC = setting({
  name: 'OTEL_RELAY_KAFKA_METRICS_TOPIC',
  group: 'destinations',
  default: 'otlp_metrics',
  parse: text,
  description: 'Topic for metrics.',
});
export const KAFKA_LOGS_TOPIC = setting({
  name: 'OTEL_RELAY_KAFKA_LOGS_TOPIC',
  group: 'destinations',
  default: 'otlp_logs',
  parse: text,
  description: 'Topic for logs.',
});
export const KAFKA_ENCODING = setting({
  name: 'OTEL_RELAY_KAFKA_ENCODING',
  group: 'destinations',
  default: 'otlp_proto' as const,
  parse: oneOf(['otlp_proto'] as const),
  description:
    'Message encoding: `otlp_proto`, one OTLP Export<Signal>ServiceRequest per message (the collector kafkareceiver default).',
});
export const KAFKA_PARTITION_TRACES_BY_ID = setting({
  name: 'OTEL_RELAY_KAFKA_PARTITION_TRACES_BY_ID',
  group: 'destinations',
  default: false,
  parse: boolean,
  description:
    'Split each traces batch into one message per trace, keyed by the trace id (hex), so a trace stays in one partition.',
});
export const KAFKA_ACKS = setting({
  name: 'OTEL_RELAY_KAFKA_ACKS',
  group: 'destinations',
  default: 'all' as 'all' | '1',
  parse: oneOf(['all', '1'] as const),
  description:
    '`all` (every in-sync replica, with the idempotent producer) or `1` (the leader only; not idempotent).',
});
export const KAFKA_CLIENT_ID = setting({
  name: 'OTEL_RELAY_KAFKA_CLIENT_ID',
  group: 'destinations',
  default: 'lambda-otel-relay',
  parse: text,
  description: 'The Kafka client id (broker logs and quotas).',
});
export const KAFKA_TLS = setting({
  name: 'OTEL_RELAY_KAFKA_TLS',
  group: 'destinations',
  default: false,
  parse: boolean,
  description: 'Connect with TLS (MSK: port 9094 for TLS, 9096 for SASL/SCRAM, 9098 for IAM).',
});
export const KAFKA_TLS_CA_FILE = setting({
  name: 'OTEL_RELAY_KAFKA_TLS_CA_FILE',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: "Node's CA store",
  parse: optionalText,
  description: "PEM file of the CA that signs the brokers' certificates, for a private CA.",
});
export const KAFKA_SASL_MECHANISM = setting({
  name: 'OTEL_RELAY_KAFKA_SASL_MECHANISM',
  group: 'destinations',
  default: 'none' as 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512' | 'aws-msk-iam',
  parse: oneOf(['none', 'plain', 'scram-sha-256', 'scram-sha-512', 'aws-msk-iam'] as const, true),
  description:
    '`none`, `plain`, `scram-sha-256`, `scram-sha-512`, or `aws-msk-iam` (SASL OAUTHBEARER with a SigV4 token from the function role).',
});
export const KAFKA_SASL_USERNAME = setting({
  name: 'OTEL_RELAY_KAFKA_SASL_USERNAME',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '—',
  parse: optionalText,
  description: 'SASL user for `plain` and `scram-*`.',
});
export const KAFKA_SASL_PASSWORD = setting({
  name: 'OTEL_RELAY_KAFKA_SASL_PASSWORD',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '—',
  parse: optionalText,
  secret: true,
  description: 'SASL password for `plain` and `scram-*`. Never logged.',
});
export const KAFKA_TIMEOUT = setting({
  name: 'OTEL_RELAY_KAFKA_TIMEOUT',
  group: 'destinations',
  default: 10_000,
  parse: integer(100, 120_000, 'ms'),
  description: 'ms a connection or a produce request may take; always further capped by the flush budget.',
});

export const settings: readonly Setting[] = [
  KAFKA_BROKERS,
  KAFKA_TRACES_TOPIC,
  KAFKA_METRICS_TOPIC,
  KAFKA_LOGS_TOPIC,
  KAFKA_ENCODING,
  KAFKA_PARTITION_TRACES_BY_ID,
  KAFKA_ACKS,
  KAFKA_CLIENT_ID,
  KAFKA_TLS,
  KAFKA_TLS_CA_FILE,
  KAFKA_SASL_MECHANISM,
  KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD,
  KAFKA_TIMEOUT,
];
