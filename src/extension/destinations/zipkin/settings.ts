import { integer, optionalText, type Setting, setting } from '../../settings/registry.js';

export const ZIPKIN_ENDPOINT = setting({
  name: 'OTEL_RELAY_ZIPKIN_ENDPOINT',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '— (required with `zipkin`)',
  parse: optionalText,
  description: 'Zipkin v2 spans URL, e.g. `http://zipkin:9411/api/v2/spans`.',
});
export const ZIPKIN_TIMEOUT = setting({
  name: 'OTEL_RELAY_ZIPKIN_TIMEOUT',
  group: 'destinations',
  default: 10_000,
  parse: integer(1, 600_000, 'ms'),
  description: 'Time one POST may take, within the flush budget.',
});
export const settings: readonly Setting[] = [ZIPKIN_ENDPOINT, ZIPKIN_TIMEOUT];
