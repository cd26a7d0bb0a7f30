// The processors' settings, and the one cheap check the extension makes at init to decide whether
// to load the processors module at all.
import type { Env } from '../destinations/read.js';
import type { Signal } from '../export/types.js';
import { integer, oneOf, optionalText, type Parser, type Setting, setting } from '../settings/registry.js';

export const PROCESSOR_NAMES = ['filter', 'redact', 'sample', 'ratelimit', 'attributes'] as const;
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];

const list = (name: string, description: string) =>
  setting({
    name,
    group: 'destinations',
    default: undefined as string | undefined,
    defaultText: '—',
    parse: optionalText,
    description,
  });

export const PROCESSORS = list(
  'OTEL_RELAY_PROCESSORS',
  'Processors run on every batch before the destinations, in this order: a comma-separated list of `filter`, `redact`, `sample`, `ratelimit`, `attributes` (or `none`). Per signal: `OTEL_RELAY_TRACES_PROCESSORS`, `OTEL_RELAY_METRICS_PROCESSORS`, `OTEL_RELAY_LOGS_PROCESSORS` win over it.',
);

export function processorsVariable(signal: Signal): string {
  return `OTEL_RELAY_${signal.toUpperCase()}_PROCESSORS`;
}

/** The raw processor list of a signal (the per-signal variable wins), or undefined when unset. */
export function processorList(env: Env, signal: Signal): string | undefined {
  const v = env[processorsVariable(signal)]?.trim() || env[PROCESSORS.name]?.trim();
  return v ? v : undefined;
}

/** Whether any processor is configured: only then is the processors module loaded. */
export function processorsConfigured(env: Env): boolean {
  return (['traces', 'metrics', 'logs'] as const).some((s) => {
    const v = processorList(env, s);
    return v !== undefined && v.toLowerCase() !== 'none';
  });
}

export const FILTER_SPAN_NAMES = list(
  'OTEL_RELAY_FILTER_SPAN_NAMES',
  '`filter`: drop spans whose name matches one of these regular expressions (comma-separated, whole-name match).',
);
export const FILTER_METRIC_NAMES = list(
  'OTEL_RELAY_FILTER_METRIC_NAMES',
  '`filter`: drop the data points of metrics whose name matches one of these regular expressions.',
);
export const FILTER_MIN_SEVERITY = list(
  'OTEL_RELAY_FILTER_MIN_SEVERITY',
  '`filter`: drop log records below this severity (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL` or 1-24); records without a severity are kept.',
);
export const FILTER_ATTRIBUTES = list(
  'OTEL_RELAY_FILTER_ATTRIBUTES',
  '`filter`: drop items with an attribute (item, scope or resource) whose value matches: `key=regex` pairs, comma-separated.',
);
export const REDACT_KEYS = list(
  'OTEL_RELAY_REDACT_KEYS',
  '`redact`: attribute keys to redact, as regular expressions (comma-separated, whole-key, case-insensitive), e.g. `.*email.*,card`.',
);
export const REDACT_MODE = setting({
  name: 'OTEL_RELAY_REDACT_MODE',
  group: 'destinations',
  default: 'remove' as 'remove' | 'hash',
  parse: oneOf(['remove', 'hash'] as const),
  description:
    '`redact`: `remove` the attribute, or `hash` its value (`sha256:<hex>`) so equal values still group.',
});
export const REDACT_SALT = setting({
  name: 'OTEL_RELAY_REDACT_SALT',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '—',
  parse: optionalText,
  secret: true,
  description:
    '`redact`: prepended to values before hashing, so hashes cannot be looked up in a table of common values. Never logged.',
});

const ratio: Parser<number> = {
  parse: (raw) => {
    const n = Number(raw);
    return Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
  },
  expects: 'a number between 0 and 1',
  format: String,
};
export const SAMPLE_RATIO = setting({
  name: 'OTEL_RELAY_SAMPLE_RATIO',
  group: 'destinations',
  default: 1,
  parse: ratio,
  description:
    '`sample`: fraction of traces kept, decided from the trace id so every environment and every span of a trace decide alike. Log records with a trace id follow their trace; others are kept.',
});
export const RATELIMIT_ITEMS_PER_SECOND = setting({
  name: 'OTEL_RELAY_RATELIMIT_ITEMS_PER_SECOND',
  group: 'destinations',
  default: undefined as number | undefined,
  defaultText: '— (required with `ratelimit`)',
  parse: integer(1, 1_000_000_000, 'count') as Parser<number | undefined>,
  description:
    '`ratelimit`: items (spans, data points, log records) per second and signal that pass; the rest is counted as filtered. Bursts up to one second of the rate.',
});
export const ATTRIBUTES_ADD = list(
  'OTEL_RELAY_ATTRIBUTES_ADD',
  '`attributes`: resource attributes to add or overwrite, `key=value` pairs, comma-separated (values URL-decoded).',
);
export const ATTRIBUTES_RENAME = list(
  'OTEL_RELAY_ATTRIBUTES_RENAME',
  '`attributes`: attribute keys to rename on resources, scopes and items, `old=new` pairs, comma-separated.',
);

export const settings: readonly Setting[] = [
  PROCESSORS,
  FILTER_SPAN_NAMES,
  FILTER_METRIC_NAMES,
  FILTER_MIN_SEVERITY,
  FILTER_ATTRIBUTES,
  REDACT_KEYS,
  REDACT_MODE,
  REDACT_SALT,
  SAMPLE_RATIO,
  RATELIMIT_ITEMS_PER_SECOND,
  ATTRIBUTES_ADD,
  ATTRIBUTES_RENAME,
];
