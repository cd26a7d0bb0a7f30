import { integer, optionalText, type Setting, setting } from '../../settings/registry.js';

export const AWSXRAY_ENDPOINT = setting({
  name: 'OTEL_RELAY_AWSXRAY_ENDPOINT',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '`https://xray.<AWS_REGION>.amazonaws.com/v1/traces`',
  parse: optionalText,
  description: "X-Ray's OTLP traces endpoint (SigV4, service `xray`).",
});
export const AWSXRAY_TIMEOUT = setting({
  name: 'OTEL_RELAY_AWSXRAY_TIMEOUT',
  group: 'destinations',
  default: 10_000,
  parse: integer(1, 600_000, 'ms'),
  description: 'Time one export to X-Ray may take, within the flush budget.',
});
export const settings: readonly Setting[] = [AWSXRAY_ENDPOINT, AWSXRAY_TIMEOUT];
