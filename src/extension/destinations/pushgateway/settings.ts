import type { SettingSpec } from '../read.js';

export const PUSHGATEWAY_ENDPOINT: SettingSpec = {
  name: 'OTEL_RELAY_PUSHGATEWAY_ENDPOINT',
  description: 'Pushgateway base URL, e.g. http://pushgateway:9091 (required).',
};
export const PUSHGATEWAY_DELETE_ON_SHUTDOWN: SettingSpec = {
  name: 'OTEL_RELAY_PUSHGATEWAY_DELETE_ON_SHUTDOWN',
  default: 'false',
  description: "Delete this environment's group from the Pushgateway at SHUTDOWN, so it stops being scraped.",
};
export const PUSHGATEWAY_TIMEOUT: SettingSpec = {
  name: 'OTEL_RELAY_PUSHGATEWAY_TIMEOUT',
  default: '10000',
  description: 'Milliseconds one push may take (within the flush budget).',
};
export const SETTINGS: readonly SettingSpec[] = [
  PUSHGATEWAY_ENDPOINT,
  PUSHGATEWAY_DELETE_ON_SHUTDOWN,
  PUSHGATEWAY_TIMEOUT,
];
