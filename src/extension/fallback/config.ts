// The fallback's knobs, read once from the environment. Like the rest of the extension's config, a bad
// value never stops anything: it is named in one problem line and a safe value is used instead.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerSideEncryption } from '../../aws/index.js';
import { redactEndpoint } from '../redact.js';
import { hasDotSegment, parseS3Uri, type S3Location } from './s3-layout.js';

export interface S3SpillConfig extends S3Location {
  region: string;
  /** Path-style S3-compatible endpoint (tests, MinIO); unset for AWS. */
  endpoint?: string;
  sse: ServerSideEncryption;
  /** The awss3exporter's `file_prefix`, before `<signal>_`. */
  filePrefix: string;
}

export interface FallbackConfig {
  /** Undefined: S3 spill is off and failed batches go to the spool. */
  s3?: S3SpillConfig;
  spoolDir: string;
  spoolMaxBytes: number;
  /** Consecutive failed deliveries that open the collector's breaker. */
  breakerThreshold: number;
  /** First cool-down of an open breaker; doubles on each failed probe. */
  breakerOpenMs: number;
  breakerMaxOpenMs: number;
  /**
   * Time a flush keeps back from the export for the S3 spill (at most 40 % of the flush budget), so
   * that a dead collector's batch still reaches S3 within the same flush.
   */
  s3ReserveMs: number;
  /**
   * While the collector's breaker is open, an invoke-time flush keeps a batch in memory (free) until it
   * is at least this big or this old, then spills it as one larger object: an outage then costs an
   * invocation nothing, and S3 sees fewer, bigger objects. SHUTDOWN always spills.
   */
  spillMinBytes: number;
  spillMaxAgeMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;
const MiB = 1024 * 1024;

export function loadFallbackConfig(env: Env): { config: FallbackConfig; problems: string[] } {
  const problems: string[] = [];
  const read = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  // Sizes take KiB/MiB suffixes like the rest of the relay's configuration (`64MiB`).
  const int = (name: string, def: number, min: number, max: number) => {
    const raw = read(name);
    if (raw === undefined) return def;
    const m = /^(\d+)\s*(k|kb|kib|m|mb|mib)?$/i.exec(raw);
    const unit = m?.[2]?.toLowerCase();
    const n = m ? Number(m[1]) * (unit === undefined ? 1 : unit.startsWith('k') ? 1024 : MiB) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`config: ${name}=${raw} is not a whole number between ${min} and ${max}; using ${def}`);
      return def;
    }
    return n;
  };

  const config: FallbackConfig = {
    spoolDir: read('OTEL_RELAY_SPOOL_DIR') ?? join(tmpdir(), 'otel-relay-spool'),
    spoolMaxBytes: int('OTEL_RELAY_SPOOL_MAX_BYTES', 64 * MiB, 0, 10 * 1024 * MiB),
    breakerThreshold: int('OTEL_RELAY_BREAKER_THRESHOLD', 3, 1, 1000),
    breakerOpenMs: int('OTEL_RELAY_BREAKER_OPEN_MS', 10_000, 1, 3_600_000),
    breakerMaxOpenMs: int('OTEL_RELAY_BREAKER_MAX_OPEN_MS', 300_000, 1, 86_400_000),
    s3ReserveMs: int('OTEL_RELAY_S3_RESERVE_MS', 300, 0, 2000),
    spillMinBytes: int('OTEL_RELAY_SPILL_MIN_BYTES', 256 * 1024, 0, 64 * MiB),
    spillMaxAgeMs: int('OTEL_RELAY_SPILL_MAX_AGE_MS', 30_000, 0, 3_600_000),
  };
  if (config.breakerMaxOpenMs < config.breakerOpenMs) config.breakerMaxOpenMs = config.breakerOpenMs;

  const uri = read('OTEL_RELAY_FALLBACK_S3_URI');
  if (uri) {
    try {
      const location = parseS3Uri(uri);
      let sse: ServerSideEncryption = { type: 'AES256' };
      const sseRaw = read('OTEL_RELAY_FALLBACK_S3_SSE');
      const kmsKey = read('OTEL_RELAY_FALLBACK_S3_KMS_KEY_ID');
      if (sseRaw === 'aws:kms' || (sseRaw === undefined && kmsKey)) {
        sse = kmsKey ? { type: 'aws:kms', keyId: kmsKey } : { type: 'aws:kms' };
      } else if (sseRaw !== undefined && sseRaw !== 'AES256') {
        problems.push(`config: OTEL_RELAY_FALLBACK_S3_SSE=${sseRaw} is not AES256 or aws:kms; using AES256`);
      }
      if (sseRaw !== undefined && sseRaw !== 'aws:kms' && kmsKey) {
        // A key id asks for KMS; silently encrypting with S3-managed keys instead would surprise a user
        // whose bucket policy or audit expects that key.
        problems.push(
          `config: OTEL_RELAY_FALLBACK_S3_KMS_KEY_ID is set but OTEL_RELAY_FALLBACK_S3_SSE=${sseRaw}; the key is ignored and S3 objects are encrypted with AES256 (set OTEL_RELAY_FALLBACK_S3_SSE=aws:kms, or unset it, to use the key)`,
        );
      }
      config.s3 = {
        ...location,
        region: read('AWS_REGION') ?? read('AWS_DEFAULT_REGION') ?? 'us-east-1',
        sse,
        filePrefix: read('OTEL_RELAY_FALLBACK_S3_FILE_PREFIX') ?? '',
      };
      if (hasDotSegment(config.s3.filePrefix)) {
        problems.push(
          `config: OTEL_RELAY_FALLBACK_S3_FILE_PREFIX=${config.s3.filePrefix} makes a "." or ".." key segment; using none`,
        );
        config.s3.filePrefix = '';
      }
      const endpoint = read('OTEL_RELAY_S3_ENDPOINT');
      if (endpoint) {
        if (/^https?:\/\/[^/]+/.test(endpoint)) config.s3.endpoint = endpoint;
        else
          problems.push(
            `config: OTEL_RELAY_S3_ENDPOINT=${redactEndpoint(endpoint)} is not an http(s) URL; using AWS S3`,
          );
      }
    } catch (err) {
      problems.push(
        `config: OTEL_RELAY_FALLBACK_S3_URI: ${(err as Error).message}; S3 spill is off, failed batches go to the /tmp spool`,
      );
    }
  }
  return { config, problems };
}
