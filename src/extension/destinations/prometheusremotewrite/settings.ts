import { integer, optionalText, type Setting, setting } from '../../settings/registry.js';

export const PROMETHEUS_RW_ENDPOINT = setting({
  name: 'OTEL_RELAY_PROMETHEUS_RW_ENDPOINT',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '— (required with `prometheusremotewrite`)',
  parse: optionalText,
  description: 'Remote write 1.0 URL, e.g. `http://prometheus:9090/api/v1/write`.',
});
export const PROMETHEUS_RW_HEADERS = setting({
  name: 'OTEL_RELAY_PROMETHEUS_RW_HEADERS',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '—',
  parse: optionalText,
  secret: true,
  description:
    'Extra request headers, `key=value,key2=value2` (URL-encoded), e.g. an Authorization header. Never logged.',
});
export const PROMETHEUS_RW_TIMEOUT = setting({
  name: 'OTEL_RELAY_PROMETHEUS_RW_TIMEOUT',
  group: 'destinations',
  default: 10_000,
  parse: integer(1, 600_000, 'ms'),
  description: 'Time one write may take, within the flush budget.',
});
export const settings: readonly Setting[] = [
  PROMETHEUS_RW_ENDPOINT,
  PROMETHEUS_RW_HEADERS,
  PROMETHEUS_RW_TIMEOUT,
];
