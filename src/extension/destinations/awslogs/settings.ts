import type { SettingSpec } from '../read.js';

export const AWSLOGS_ENDPOINT: SettingSpec = {
  name: 'OTEL_RELAY_AWSLOGS_ENDPOINT',
  description: "CloudWatch Logs' OTLP logs URL; default https://logs.<AWS_REGION>.amazonaws.com/v1/logs.",
};
export const AWSLOGS_LOG_GROUP: SettingSpec = {
  name: 'OTEL_RELAY_AWSLOGS_LOG_GROUP',
  description: 'Log group the records go to (required; it must exist).',
};
export const AWSLOGS_LOG_STREAM: SettingSpec = {
  name: 'OTEL_RELAY_AWSLOGS_LOG_STREAM',
  default: 'otel-relay',
  description: 'Log stream in that group (it must exist).',
};
export const AWSLOGS_TIMEOUT: SettingSpec = {
  name: 'OTEL_RELAY_AWSLOGS_TIMEOUT',
  default: '10000',
  description: 'Milliseconds one export may take (within the flush budget).',
};
export const SETTINGS: readonly SettingSpec[] = [
  AWSLOGS_ENDPOINT,
  AWSLOGS_LOG_GROUP,
  AWSLOGS_LOG_STREAM,
  AWSLOGS_TIMEOUT,
];
