import { boolean, integer, optionalText, type Setting, setting } from '../../settings/registry.js';

export const PUSHGATEWAY_ENDPOINT = setting({
  name: 'OTEL_RELAY_PUSHGATEWAY_ENDPOINT',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '— (required with `pushgateway`)',
  parse: optionalText,
  description: 'Pushgateway base URL, e.g. `http://pushgateway:9091`.',
});
export const PUSHGATEWAY_DELETE_ON_SHUTDOWN = setting({
  name: 'OTEL_RELAY_PUSHGATEWAY_DELETE_ON_SHUTDOWN',
  group: 'destinations',
  default: false,
  parse: boolean,
  description:
    "Delete this environment's group from the Pushgateway at SHUTDOWN, so it is no longer scraped.",
});
export const PUSHGATEWAY_TIMEOUT = setting({
  name: 'OTEL_RELAY_PUSHGATEWAY_TIMEOUT',
  group: 'destinations',
  default: 10_000,
  parse: integer(1, 600_000, 'ms'),
  description: 'Time one push may take, within the flush budget.',
});
export const settings: readonly Setting[] = [
  PUSHGATEWAY_ENDPOINT,
  PUSHGATEWAY_DELETE_ON_SHUTDOWN,
  PUSHGATEWAY_TIMEOUT,
];
