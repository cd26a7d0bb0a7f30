// The extension's own settings: receivers, buffer, flush, self-telemetry and the fallback. One entry
// per variable; the loaders (load.ts) read only through these entries.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destinationNames } from '../destinations/index.js';
import type { Signal } from '../export/types.js';
import {
  boolean,
  integer,
  nameList,
  optionalText,
  type Parser,
  port,
  type Setting,
  setting,
} from './registry.js';
import type { FlushStrategy } from './types.js';

const MiB = 1024 * 1024;

export function parseFlushStrategy(raw: string): FlushStrategy | undefined {
  const v = raw.trim().toLowerCase();
  if (v === 'end' || v === 'continuous' || v === 'adaptive') return { kind: v };
  const m = /^periodic:(\d+)(ms|s)?$/.exec(v);
  if (m) {
    const n = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
    if (n >= 1 && n <= 86_400_000) return { kind: 'periodic', intervalMs: n };
  }
  return undefined;
}

export function formatFlushStrategy(s: FlushStrategy): string {
  return s.kind === 'periodic' ? `periodic:${s.intervalMs}` : s.kind;
}

const flushStrategy: Parser<FlushStrategy> = {
  parse: parseFlushStrategy,
  expects: 'a strategy (end | periodic:<ms> | continuous | adaptive)',
  format: formatFlushStrategy,
};

// ---- receivers ----
export const HTTP_PORT = setting({
  name: 'OTEL_RELAY_HTTP_PORT',
  group: 'receivers',
  default: 4318 as number | null,
  parse: port(true),
  description:
    'OTLP/HTTP receiver on 127.0.0.1 (and the `/done` endpoint); `off` turns it off, `0` picks a free port.',
});
export const GRPC_PORT = setting({
  name: 'OTEL_RELAY_GRPC_PORT',
  group: 'receivers',
  default: 4317 as number | null,
  parse: port(true),
  description: 'OTLP/gRPC receiver on 127.0.0.1; `off` turns it off, `0` picks a free port.',
});
export const TELEMETRY_PORT = setting({
  name: 'OTEL_RELAY_TELEMETRY_PORT',
  group: 'receivers',
  default: 0 as number | null,
  parse: port(false),
  description:
    'Port of the Telemetry API listener (`0`: any free port). It cannot be `off`: it tells the relay when an invocation ended.',
});
export const MAX_REQUEST_BYTES = setting({
  name: 'OTEL_RELAY_MAX_REQUEST_BYTES',
  group: 'receivers',
  default: 6 * MiB,
  parse: integer(1024, 256 * MiB, 'bytes'),
  description:
    'Largest accepted request body, compressed and decompressed; larger requests are refused (HTTP 413, gRPC RESOURCE_EXHAUSTED).',
});

// ---- buffer ----
export const BUFFER_MAX_BYTES = setting({
  name: 'OTEL_RELAY_BUFFER_MAX_BYTES',
  group: 'buffer',
  default: 8 * MiB,
  parse: integer(64 * 1024, 1024 * MiB, 'bytes'),
  description:
    'Memory cap of the buffer, all signals. Past it the oldest data is evicted to a queue (half this size) that the next flush spills; what that queue cannot hold is dropped and counted.',
});
export const BATCH_MAX_BYTES = setting({
  name: 'OTEL_RELAY_BATCH_MAX_BYTES',
  group: 'buffer',
  default: 1 * MiB,
  parse: integer(1024, 64 * MiB, 'bytes'),
  description: 'Size of one export request; also the "full enough, flush" size. At most the buffer size.',
});

// ---- flush ----
export const FLUSH = setting({
  name: 'OTEL_RELAY_FLUSH',
  group: 'flush',
  default: { kind: 'adaptive' } as FlushStrategy,
  parse: flushStrategy,
  description: '`end`, `periodic:<ms>` (or `periodic:<n>s`), `continuous` or `adaptive`.',
});
export const FLUSH_TIMEOUT_MS = setting({
  name: 'OTEL_RELAY_FLUSH_TIMEOUT_MS',
  group: 'flush',
  default: 1000,
  parse: integer(1, 900_000, 'ms'),
  description: 'The most any flush before `next` may take, across all destinations.',
});
export const DEADLINE_MARGIN_MS = setting({
  name: 'OTEL_RELAY_DEADLINE_MARGIN_MS',
  group: 'flush',
  default: 100,
  parse: integer(0, 60_000, 'ms'),
  description: "Kept free before the invocation's deadline: the relay is never why an invocation times out.",
});
export const SHUTDOWN_MARGIN_MS = setting({
  name: 'OTEL_RELAY_SHUTDOWN_MARGIN_MS',
  group: 'flush',
  default: 200,
  parse: integer(0, 2_000, 'ms'),
  description: 'Kept free before the SHUTDOWN deadline, to exit cleanly.',
});
export const MAX_AGE_MS = setting({
  name: 'OTEL_RELAY_MAX_AGE_MS',
  group: 'flush',
  default: 10_000,
  parse: integer(0, 86_400_000, 'ms'),
  description: 'Adaptive: data older than this is flushed before `next` rather than carried across a freeze.',
});
export const BATCH_AGE_MS = setting({
  name: 'OTEL_RELAY_BATCH_AGE_MS',
  group: 'flush',
  default: 1000,
  parse: integer(0, 86_400_000, 'ms'),
  description: "Adaptive: how long young data may wait to be batched with later invocations' data.",
});
export const BACKGROUND_INTERVAL_MS = setting({
  name: 'OTEL_RELAY_BACKGROUND_INTERVAL_MS',
  group: 'flush',
  default: 1000,
  parse: integer(10, 3_600_000, 'ms'),
  description: 'Managed Instances (no INVOKE events): the background flush interval.',
});

// ---- telemetry ----
export const SELF_TELEMETRY = setting({
  name: 'OTEL_RELAY_SELF_TELEMETRY',
  group: 'telemetry',
  default: true,
  parse: boolean,
  description: "The relay's own metrics (`otel_relay.*`), exported through the same pipeline.",
});
export const PLATFORM_TELEMETRY = setting({
  name: 'OTEL_RELAY_PLATFORM_TELEMETRY',
  group: 'telemetry',
  default: false,
  parse: boolean,
  description:
    'Layer-only mode: spans, FaaS metrics and logs made from Telemetry API platform events (functions with no SDK).',
});
export const PLATFORM_LOGS = setting({
  name: 'OTEL_RELAY_PLATFORM_LOGS',
  group: 'telemetry',
  default: true,
  parse: boolean,
  description: "With layer-only mode: the function's log lines as OTLP logs.",
});

// ---- destinations ----
function exporterSelection(signal: Signal) {
  return setting<readonly string[]>({
    name: `OTEL_RELAY_${signal.toUpperCase()}_EXPORTER`,
    group: 'destinations',
    default: ['otlp'],
    parse: nameList(destinationNames(signal)),
    description: `Where ${signal} go: a comma-separated list of destinations (each gets every batch, with its own retry, breaker and fallback), or \`none\` to discard them (counted as \`filtered\`).`,
  });
}
export const TRACES_EXPORTER = exporterSelection('traces');
export const METRICS_EXPORTER = exporterSelection('metrics');
export const LOGS_EXPORTER = exporterSelection('logs');
export const EXPORTER_SELECTION: Readonly<Record<Signal, Setting<readonly string[]>>> = {
  traces: TRACES_EXPORTER,
  metrics: METRICS_EXPORTER,
  logs: LOGS_EXPORTER,
};

// ---- fallback ----
export const FALLBACK_S3_URI = setting({
  name: 'OTEL_RELAY_FALLBACK_S3_URI',
  group: 'fallback',
  default: undefined as string | undefined,
  defaultText: '— (S3 spill off)',
  parse: optionalText,
  description: '`s3://bucket[/prefix]`: turns the S3 spill on. Off: failed batches go to the spool.',
});
export const S3_ENDPOINT = setting({
  name: 'OTEL_RELAY_S3_ENDPOINT',
  group: 'fallback',
  default: undefined as string | undefined,
  defaultText: 'AWS S3',
  parse: optionalText,
  description: 'An S3-compatible endpoint, path-style (moto, MinIO, LocalStack).',
});
export const FALLBACK_S3_SSE = setting({
  name: 'OTEL_RELAY_FALLBACK_S3_SSE',
  group: 'fallback',
  default: undefined as string | undefined,
  defaultText: 'AES256',
  parse: optionalText,
  description: '`AES256` or `aws:kms`.',
});
export const FALLBACK_S3_KMS_KEY_ID = setting({
  name: 'OTEL_RELAY_FALLBACK_S3_KMS_KEY_ID',
  group: 'fallback',
  default: undefined as string | undefined,
  defaultText: '—',
  parse: optionalText,
  description: 'KMS key id or alias for the S3 objects (implies `aws:kms`).',
});
export const FALLBACK_S3_FILE_PREFIX = setting({
  name: 'OTEL_RELAY_FALLBACK_S3_FILE_PREFIX',
  group: 'fallback',
  default: '',
  defaultText: '—',
  parse: optionalText as Parser<string>,
  description: "The awss3exporter's `file_prefix`, before `<signal>_` in object names.",
});
export const S3_RESERVE_MS = setting({
  name: 'OTEL_RELAY_S3_RESERVE_MS',
  group: 'fallback',
  default: 300,
  parse: integer(0, 2000, 'ms'),
  description: 'Flush time kept back for the S3 spill (at most 40 % of the flush budget).',
});
export const SPOOL_DIR = setting({
  name: 'OTEL_RELAY_SPOOL_DIR',
  group: 'fallback',
  default: join(tmpdir(), 'otel-relay-spool'),
  defaultText: '$TMPDIR/otel-relay-spool',
  parse: optionalText as Parser<string>,
  description: 'The spool directory (use a directory of its own: the relay owns every file in it).',
});
export const SPOOL_MAX_BYTES = setting({
  name: 'OTEL_RELAY_SPOOL_MAX_BYTES',
  group: 'fallback',
  default: 64 * MiB,
  parse: integer(0, 10 * 1024 * MiB, 'bytes'),
  description: 'Upper bound of the spool; a batch that does not fit is dropped and counted.',
});
export const BREAKER_THRESHOLD = setting({
  name: 'OTEL_RELAY_BREAKER_THRESHOLD',
  group: 'fallback',
  default: 3,
  parse: integer(1, 1000, 'count'),
  description: "Consecutive failed deliveries that open a destination's breaker.",
});
export const BREAKER_OPEN_MS = setting({
  name: 'OTEL_RELAY_BREAKER_OPEN_MS',
  group: 'fallback',
  default: 10_000,
  parse: integer(1, 3_600_000, 'ms'),
  description: 'First cool-down of an open breaker before a probe; doubles per failed probe.',
});
export const BREAKER_MAX_OPEN_MS = setting({
  name: 'OTEL_RELAY_BREAKER_MAX_OPEN_MS',
  group: 'fallback',
  default: 300_000,
  parse: integer(1, 86_400_000, 'ms'),
  description: 'Longest cool-down (at least the first one).',
});
export const SPILL_MIN_BYTES = setting({
  name: 'OTEL_RELAY_SPILL_MIN_BYTES',
  group: 'fallback',
  default: 256 * 1024,
  parse: integer(0, 64 * MiB, 'bytes'),
  description: 'Breaker open: batches stay in memory until this big (then one larger object is spilled)...',
});
export const SPILL_MAX_AGE_MS = setting({
  name: 'OTEL_RELAY_SPILL_MAX_AGE_MS',
  group: 'fallback',
  default: 30_000,
  parse: integer(0, 3_600_000, 'ms'),
  description: '...or this old. SHUTDOWN always spills.',
});

export const RELAY_SETTINGS: readonly Setting[] = [
  HTTP_PORT,
  GRPC_PORT,
  TELEMETRY_PORT,
  MAX_REQUEST_BYTES,
  BUFFER_MAX_BYTES,
  BATCH_MAX_BYTES,
  FLUSH,
  FLUSH_TIMEOUT_MS,
  DEADLINE_MARGIN_MS,
  SHUTDOWN_MARGIN_MS,
  MAX_AGE_MS,
  BATCH_AGE_MS,
  BACKGROUND_INTERVAL_MS,
  SELF_TELEMETRY,
  PLATFORM_TELEMETRY,
  PLATFORM_LOGS,
  TRACES_EXPORTER,
  METRICS_EXPORTER,
  LOGS_EXPORTER,
];

export const FALLBACK_SETTINGS: readonly Setting[] = [
  FALLBACK_S3_URI,
  S3_ENDPOINT,
  FALLBACK_S3_SSE,
  FALLBACK_S3_KMS_KEY_ID,
  FALLBACK_S3_FILE_PREFIX,
  S3_RESERVE_MS,
  SPOOL_DIR,
  SPOOL_MAX_BYTES,
  BREAKER_THRESHOLD,
  BREAKER_OPEN_MS,
  BREAKER_MAX_OPEN_MS,
  SPILL_MIN_BYTES,
  SPILL_MAX_AGE_MS,
];
