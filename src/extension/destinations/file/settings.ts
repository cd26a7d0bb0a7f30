import { integer, oneOf, optionalText, type Setting, setting } from '../../settings/registry.js';

export const FILE_PATH = setting({
  name: 'OTEL_RELAY_FILE_PATH',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '— (required with `file`)',
  parse: optionalText,
  description:
    'File the `file` destination appends to, e.g. `/mnt/efs/otel/{signal}-{instance}.jsonl`: `{signal}` becomes traces/metrics/logs, `{instance}` an id of the execution environment. `proto` needs `{signal}`.',
});
export const FILE_FORMAT = setting({
  name: 'OTEL_RELAY_FILE_FORMAT',
  group: 'destinations',
  default: 'json' as 'json' | 'proto',
  parse: oneOf(['json', 'proto'] as const),
  description:
    '`json`: one OTLP/JSON export request per line. `proto`: each protobuf export request after its length (4 bytes, big-endian).',
});
export const FILE_MAX_BYTES = setting({
  name: 'OTEL_RELAY_FILE_MAX_BYTES',
  group: 'destinations',
  default: 100 * 1024 * 1024,
  parse: integer(1024, 1024 * 1024 * 1024, 'bytes'),
  description: 'Size at which the file is rotated (renamed to `.1`, `.2`, …).',
});
export const FILE_MAX_BACKUPS = setting({
  name: 'OTEL_RELAY_FILE_MAX_BACKUPS',
  group: 'destinations',
  default: 3,
  parse: integer(0, 100, 'count'),
  description:
    'Rotated files kept; older ones are deleted. One path never holds more than MAX_BYTES × (MAX_BACKUPS + 1).',
});
export const settings: readonly Setting[] = [FILE_PATH, FILE_FORMAT, FILE_MAX_BYTES, FILE_MAX_BACKUPS];
