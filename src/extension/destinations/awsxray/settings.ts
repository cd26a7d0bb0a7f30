import type { SettingSpec } from '../read.js';

export const AWSXRAY_ENDPOINT: SettingSpec = {
  name: 'OTEL_RELAY_AWSXRAY_ENDPOINT',
  description: "X-Ray's OTLP traces URL; default https://xray.<AWS_REGION>.amazonaws.com/v1/traces.",
};
export const AWSXRAY_TIMEOUT: SettingSpec = {
  name: 'OTEL_RELAY_AWSXRAY_TIMEOUT',
  default: '10000',
  description: 'Milliseconds one export may take (within the flush budget).',
};
export const SETTINGS: readonly SettingSpec[] = [AWSXRAY_ENDPOINT, AWSXRAY_TIMEOUT];
