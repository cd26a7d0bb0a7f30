import { integer, optionalText, type Setting, setting, text } from '../../settings/registry.js';

export const AWSLOGS_ENDPOINT = setting({
  name: 'OTEL_RELAY_AWSLOGS_ENDPOINT',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '`https://logs.<AWS_REGION>.amazonaws.com/v1/logs`',
  parse: optionalText,
  description: "CloudWatch Logs' OTLP logs endpoint (SigV4, service `logs`).",
});
export const AWSLOGS_LOG_GROUP = setting({
  name: 'OTEL_RELAY_AWSLOGS_LOG_GROUP',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '— (required with `awslogs`)',
  parse: optionalText,
  description: 'Log group the `awslogs` destination writes to; it must exist.',
});
export const AWSLOGS_LOG_STREAM = setting({
  name: 'OTEL_RELAY_AWSLOGS_LOG_STREAM',
  group: 'destinations',
  default: 'otel-relay',
  parse: text,
  description: 'Log stream in that group; it must exist.',
});
export const AWSLOGS_TIMEOUT = setting({
  name: 'OTEL_RELAY_AWSLOGS_TIMEOUT',
  group: 'destinations',
  default: 10_000,
  parse: integer(1, 600_000, 'ms'),
  description: 'Time one export to CloudWatch Logs may take, within the flush budget.',
});
export const settings: readonly Setting[] = [
  AWSLOGS_ENDPOINT,
  AWSLOGS_LOG_GROUP,
  AWSLOGS_LOG_STREAM,
  AWSLOGS_TIMEOUT,
];
