// The redis destination's settings (Redis, Valkey, ElastiCache).
import { integer, oneOf, optionalText, type Setting, setting, text } from '../../settings/registry.js';

export const REDIS_URL = setting({
  name: 'OTEL_RELAY_REDIS_URL',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '— (required)',
  parse: optionalText,
  secret: true,
  description:
    '`redis://[user:password@]host:port[/db]`, or `rediss://` for TLS (ElastiCache in-transit encryption). An ACL user and password are sent with AUTH. Never logged with its password.',
});
export const REDIS_MODE = setting({
  name: 'OTEL_RELAY_REDIS_MODE',
  group: 'destinations',
  default: 'streams' as 'streams' | 'trace-keys',
  parse: oneOf(['streams', 'trace-keys'] as const),
  description:
    '`streams`: XADD one entry per batch (`encoding`=`otlp_proto`, `data`=the request bytes) to a stream per signal. `trace-keys`: spans as JSON in a hash per trace, `<prefix>:<traceId>`, field = span id, with a TTL (traces only).',
});
export const REDIS_TRACES_STREAM = setting({
  name: 'OTEL_RELAY_REDIS_TRACES_STREAM',
  group: 'destinations',
  default: 'otlp_spans',
  parse: text,
  description: 'Stream for traces (streams mode).',
});
export const REDIS_METRICS_STREAM = setting({
  name: 'OTEL_RELAY_REDIS_METRICS_STREAM',
  group: 'destinations',
  default: 'otlp_metrics',
  parse: text,
  description: 'Stream for metrics (streams mode).',
});
export const REDIS_LOGS_STREAM = setting({
  name: 'OTEL_RELAY_REDIS_LOGS_STREAM',
  group: 'destinations',
  default: 'otlp_logs',
  parse: text,
  description: 'Stream for logs (streams mode).',
});
export const REDIS_STREAM_MAXLEN = setting({
  name: 'OTEL_RELAY_REDIS_STREAM_MAXLEN',
  group: 'destinations',
  default: 10_000,
  parse: integer(1, 1_000_000_000, 'count'),
  description:
    'Approximate cap on entries per stream (`XADD ... MAXLEN ~ n`); older entries are trimmed by Redis.',
});
export const REDIS_KEY_PREFIX = setting({
  name: 'OTEL_RELAY_REDIS_KEY_PREFIX',
  group: 'destinations',
  default: 'trace',
  parse: text,
  description: 'Key prefix in trace-keys mode: spans go to `<prefix>:<traceId>`.',
});
export const REDIS_TTL_SECONDS = setting({
  name: 'OTEL_RELAY_REDIS_TTL_SECONDS',
  group: 'destinations',
  default: 3_600,
  parse: integer(1, 365 * 86_400, 'count'),
  description:
    'Time to live of a trace key in trace-keys mode, in seconds (renewed by every batch of that trace).',
});
export const REDIS_TLS_CA_FILE = setting({
  name: 'OTEL_RELAY_REDIS_TLS_CA_FILE',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: "Node's CA store",
  parse: optionalText,
  description: 'PEM file of a private CA for `rediss://`.',
});
export const REDIS_TIMEOUT = setting({
  name: 'OTEL_RELAY_REDIS_TIMEOUT',
  group: 'destinations',
  default: 5_000,
  parse: integer(100, 120_000, 'ms'),
  description: 'ms a connection or a command may take; always further capped by the flush budget.',
});

export const settings: readonly Setting[] = [
  REDIS_URL,
  REDIS_MODE,
  REDIS_TRACES_STREAM,
  REDIS_METRICS_STREAM,
  REDIS_LOGS_STREAM,
  REDIS_STREAM_MAXLEN,
  REDIS_KEY_PREFIX,
  REDIS_TTL_SECONDS,
  REDIS_TLS_CA_FILE,
  REDIS_TIMEOUT,
];
