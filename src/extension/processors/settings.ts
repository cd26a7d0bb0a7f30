// The processors' settings, and the one cheap check the extension makes at init to decide whether
// to load the processors module at all (nothing else here is on the default path).

import type { Env, SettingSpec } from '../destinations/read.js';
import type { Signal } from '../export/types.js';

export const PROCESSOR_NAMES = ['filter', 'redact', 'sample', 'ratelimit', 'attributes'] as const;
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];

export const PROCESSORS: SettingSpec = {
  name: 'OTEL_RELAY_PROCESSORS',
  description:
    'Processors run on every batch before it goes to the destinations, in this order: a comma-separated list of filter, redact, sample, ratelimit, attributes. Per signal: OTEL_RELAY_TRACES_PROCESSORS, _METRICS_, _LOGS_.',
};

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
    return v !== undefined && v !== 'none';
  });
}

export const FILTER_SPAN_NAMES: SettingSpec = {
  name: 'OTEL_RELAY_FILTER_SPAN_NAMES',
  description: 'Drop spans whose name matches one of these regular expressions (comma-separated, anchored).',
};
export const FILTER_METRIC_NAMES: SettingSpec = {
  name: 'OTEL_RELAY_FILTER_METRIC_NAMES',
  description:
    'Drop the data points of metrics whose name matches one of these regular expressions (anchored).',
};
export const FILTER_MIN_SEVERITY: SettingSpec = {
  name: 'OTEL_RELAY_FILTER_MIN_SEVERITY',
  description:
    'Drop log records below this severity: TRACE, DEBUG, INFO, WARN, ERROR, FATAL or a number 1-24. Records without a severity are kept.',
};
export const FILTER_ATTRIBUTES: SettingSpec = {
  name: 'OTEL_RELAY_FILTER_ATTRIBUTES',
  description:
    'Drop items with an attribute (item, then scope, then resource) whose value matches: `key=regex` pairs, comma-separated.',
};
export const REDACT_KEYS: SettingSpec = {
  name: 'OTEL_RELAY_REDACT_KEYS',
  description:
    'Attribute keys to redact, as regular expressions (comma-separated, anchored, case-insensitive), e.g. `.*email.*,user\\.id`.',
};
export const REDACT_MODE: SettingSpec = {
  name: 'OTEL_RELAY_REDACT_MODE',
  default: 'remove',
  description: '`remove` the attribute, or `hash` its value (SHA-256, hex) so equal values still group.',
};
export const REDACT_SALT: SettingSpec = {
  name: 'OTEL_RELAY_REDACT_SALT',
  description:
    'Prepended to values before hashing, so hashes cannot be looked up in a table of common values.',
};
export const SAMPLE_RATIO: SettingSpec = {
  name: 'OTEL_RELAY_SAMPLE_RATIO',
  default: '1',
  description:
    'Fraction of traces kept (0-1), decided from the trace id, so every environment and every span of a trace decide alike. Log records with a trace id follow their trace; others are kept.',
};
export const RATELIMIT_ITEMS_PER_SECOND: SettingSpec = {
  name: 'OTEL_RELAY_RATELIMIT_ITEMS_PER_SECOND',
  description:
    'Items (spans, data points, log records) per second and signal that pass; the rest is counted as filtered (reason ratelimit). Bursts up to one second of the rate.',
};
export const ATTRIBUTES_ADD: SettingSpec = {
  name: 'OTEL_RELAY_ATTRIBUTES_ADD',
  description:
    'Resource attributes to add (or overwrite): `key=value` pairs, comma-separated, values URL-decoded.',
};
export const ATTRIBUTES_RENAME: SettingSpec = {
  name: 'OTEL_RELAY_ATTRIBUTES_RENAME',
  description: 'Attribute keys to rename on resources, scopes and items: `old=new` pairs, comma-separated.',
};

export const SETTINGS: readonly SettingSpec[] = [
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
