// Builds the typed configuration from the registry's entries. Only rules that tie several settings
// together live here (batch <= buffer, SSE vs KMS key, ...); how one value is read is the registry's.
import type { ServerSideEncryption } from '../../aws/index.js';
import { regionFromEnv } from '../../aws/region.js';
import type { Signal } from '../../otlp/index.js';
import { signalEndpoint } from '../destinations/otlp/config.js';
import { HEADERS_SECRET_ARN } from '../destinations/otlp/settings.js';
import { hasDotSegment, parseS3Uri } from '../fallback/s3-layout.js';
import { redactEndpoint } from '../redact.js';
import { type Env, readSetting as read } from './registry.js';
import * as S from './relay.js';
import { EXTENSION_NAME, isManagedInstances, LOG_LEVEL } from './startup.js';
import type { FallbackConfig, LoadedConfig, RelayConfig, SignalEndpoint } from './types.js';

const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

export function loadConfig(env: Env): LoadedConfig {
  const problems: string[] = [];
  const bufferMaxBytes = read(env, S.BUFFER_MAX_BYTES, problems);
  let batchMaxBytes = read(env, S.BATCH_MAX_BYTES, problems);
  if (batchMaxBytes > bufferMaxBytes) {
    problems.push(
      `config: ${S.BATCH_MAX_BYTES.name}=${batchMaxBytes} is larger than the buffer; using ${bufferMaxBytes}`,
    );
    batchMaxBytes = bufferMaxBytes;
  }
  const exporters = {} as Record<Signal, SignalEndpoint>;
  for (const s of SIGNALS) exporters[s] = signalEndpoint(env, s, problems);
  const config: RelayConfig = {
    extensionName: read(env, EXTENSION_NAME, problems),
    flush: read(env, S.FLUSH, problems),
    httpPort: read(env, S.HTTP_PORT, problems),
    grpcPort: read(env, S.GRPC_PORT, problems),
    telemetryPort: read(env, S.TELEMETRY_PORT, problems) ?? 0,
    bufferMaxBytes,
    batchMaxBytes,
    maxRequestBytes: read(env, S.MAX_REQUEST_BYTES, problems),
    flushTimeoutMs: read(env, S.FLUSH_TIMEOUT_MS, problems),
    deadlineMarginMs: read(env, S.DEADLINE_MARGIN_MS, problems),
    shutdownMarginMs: read(env, S.SHUTDOWN_MARGIN_MS, problems),
    maxAgeMs: read(env, S.MAX_AGE_MS, problems),
    batchAgeMs: read(env, S.BATCH_AGE_MS, problems),
    backgroundIntervalMs: read(env, S.BACKGROUND_INTERVAL_MS, problems),
    logLevel: read(env, LOG_LEVEL, problems),
    selfTelemetry: read(env, S.SELF_TELEMETRY, problems),
    platformTelemetry: read(env, S.PLATFORM_TELEMETRY, problems),
    platformLogs: read(env, S.PLATFORM_LOGS, problems),
    managedInstances: isManagedInstances(env, problems),
    exporters,
    fallback: readFallback(env, problems),
    routes: {
      traces: read(env, S.TRACES_EXPORTER, problems),
      metrics: read(env, S.METRICS_EXPORTER, problems),
      logs: read(env, S.LOGS_EXPORTER, problems),
    },
  };
  const secretArn = read(env, HEADERS_SECRET_ARN, problems);
  if (secretArn !== undefined) config.headersSecretArn = secretArn;
  return { config, problems };
}

/** The fallback's part alone (a delivery built without the rest of the config, e.g. in tests). */
export function loadFallbackConfig(env: Env): { config: FallbackConfig; problems: string[] } {
  const problems: string[] = [];
  return { config: readFallback(env, problems), problems };
}

function readFallback(env: Env, problems: string[]): FallbackConfig {
  const config: FallbackConfig = {
    spoolDir: read(env, S.SPOOL_DIR, problems),
    spoolMaxBytes: read(env, S.SPOOL_MAX_BYTES, problems),
    breakerThreshold: read(env, S.BREAKER_THRESHOLD, problems),
    breakerOpenMs: read(env, S.BREAKER_OPEN_MS, problems),
    breakerMaxOpenMs: read(env, S.BREAKER_MAX_OPEN_MS, problems),
    s3ReserveMs: read(env, S.S3_RESERVE_MS, problems),
    spillMinBytes: read(env, S.SPILL_MIN_BYTES, problems),
    spillMaxAgeMs: read(env, S.SPILL_MAX_AGE_MS, problems),
  };
  if (config.breakerMaxOpenMs < config.breakerOpenMs) config.breakerMaxOpenMs = config.breakerOpenMs;

  const uri = read(env, S.FALLBACK_S3_URI, problems);
  if (uri === undefined) return config;
  try {
    const location = parseS3Uri(uri);
    let sse: ServerSideEncryption = { type: 'AES256' };
    const sseRaw = read(env, S.FALLBACK_S3_SSE, problems);
    const kmsKey = read(env, S.FALLBACK_S3_KMS_KEY_ID, problems);
    if (sseRaw === 'aws:kms' || (sseRaw === undefined && kmsKey)) {
      sse = kmsKey ? { type: 'aws:kms', keyId: kmsKey } : { type: 'aws:kms' };
    } else if (sseRaw !== undefined && sseRaw !== 'AES256') {
      problems.push(`config: ${S.FALLBACK_S3_SSE.name}=${sseRaw} is not AES256 or aws:kms; using AES256`);
    }
    if (sseRaw !== undefined && sseRaw !== 'aws:kms' && kmsKey) {
      // A key id asks for KMS; silently encrypting with S3-managed keys instead would surprise a user
      // whose bucket policy or audit expects that key.
      problems.push(
        `config: ${S.FALLBACK_S3_KMS_KEY_ID.name} is set but ${S.FALLBACK_S3_SSE.name}=${sseRaw}; the key is ignored and S3 objects are encrypted with AES256 (set ${S.FALLBACK_S3_SSE.name}=aws:kms, or unset it, to use the key)`,
      );
    }
    let filePrefix = read(env, S.FALLBACK_S3_FILE_PREFIX, problems);
    if (hasDotSegment(filePrefix)) {
      problems.push(
        `config: ${S.FALLBACK_S3_FILE_PREFIX.name}=${filePrefix} makes a "." or ".." key segment; using none`,
      );
      filePrefix = '';
    }
    config.s3 = { ...location, region: regionFromEnv(env), sse, filePrefix };
    const endpoint = read(env, S.S3_ENDPOINT, problems);
    if (endpoint !== undefined) {
      if (/^https?:\/\/[^/]+/.test(endpoint)) config.s3.endpoint = endpoint;
      else
        problems.push(
          `config: ${S.S3_ENDPOINT.name}=${redactEndpoint(endpoint)} is not an http(s) URL; using AWS S3`,
        );
    }
  } catch (err) {
    problems.push(
      `config: ${S.FALLBACK_S3_URI.name}: ${(err as Error).message}; S3 spill is off, failed batches go to the /tmp spool`,
    );
  }
  return config;
}
