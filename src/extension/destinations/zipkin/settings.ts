import type { SettingSpec } from '../read.js';

export const ZIPKIN_ENDPOINT: SettingSpec = {
  name: 'OTEL_RELAY_ZIPKIN_ENDPOINT',
  description: 'Zipkin v2 spans URL, e.g. http://zipkin:9411/api/v2/spans (required).',
};
export const ZIPKIN_TIMEOUT: SettingSpec = {
  name: 'OTEL_RELAY_ZIPKIN_TIMEOUT',
  default: '10000',
  description: 'Milliseconds one POST may take (within the flush budget).',
};
export const SETTINGS: readonly SettingSpec[] = [ZIPKIN_ENDPOINT, ZIPKIN_TIMEOUT];
