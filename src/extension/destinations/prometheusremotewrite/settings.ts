import type { SettingSpec } from '../read.js';

export const PROMETHEUS_RW_ENDPOINT: SettingSpec = {
  name: 'OTEL_RELAY_PROMETHEUS_RW_ENDPOINT',
  description: 'Remote write URL, e.g. http://prometheus:9090/api/v1/write (required).',
};
export const PROMETHEUS_RW_HEADERS: SettingSpec = {
  name: 'OTEL_RELAY_PROMETHEUS_RW_HEADERS',
  description: 'Extra request headers, `key=value` pairs separated by commas (e.g. an Authorization header).',
};
export const PROMETHEUS_RW_TIMEOUT: SettingSpec = {
  name: 'OTEL_RELAY_PROMETHEUS_RW_TIMEOUT',
  default: '10000',
  description: 'Milliseconds one write may take (within the flush budget).',
};
export const SETTINGS: readonly SettingSpec[] = [
  PROMETHEUS_RW_ENDPOINT,
  PROMETHEUS_RW_HEADERS,
  PROMETHEUS_RW_TIMEOUT,
];
