import type { SettingSpec } from '../read.js';

export const FILE_PATH: SettingSpec = {
  name: 'OTEL_RELAY_FILE_PATH',
  description:
    'File to append to (required), e.g. /mnt/efs/otel/{signal}-{instance}.jsonl. `{signal}` becomes traces/metrics/logs and `{instance}` an id of this execution environment; the protobuf format needs `{signal}`.',
};
export const FILE_FORMAT: SettingSpec = {
  name: 'OTEL_RELAY_FILE_FORMAT',
  default: 'json',
  description:
    '`json`: one OTLP/JSON export request per line. `proto`: each protobuf export request preceded by its length (4 bytes, big-endian).',
};
export const FILE_MAX_BYTES: SettingSpec = {
  name: 'OTEL_RELAY_FILE_MAX_BYTES',
  default: '104857600',
  description: 'Size at which the file is rotated (renamed to .1, .2, ...).',
};
export const FILE_MAX_BACKUPS: SettingSpec = {
  name: 'OTEL_RELAY_FILE_MAX_BACKUPS',
  default: '3',
  description:
    'Rotated files kept; older ones are deleted. The files of one path never exceed MAX_BYTES x (MAX_BACKUPS + 1).',
};
export const SETTINGS: readonly SettingSpec[] = [FILE_PATH, FILE_FORMAT, FILE_MAX_BYTES, FILE_MAX_BACKUPS];
