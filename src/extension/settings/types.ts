// The typed configuration the loaders build from the settings registry.
import type { ServerSideEncryption } from '../../aws/index.js';
import type { Signal } from '../../otlp/index.js';
import type { S3Location } from '../fallback/s3-layout.js';
import type { LogLevel } from '../log.js';

export type FlushStrategy =
  | { kind: 'end' }
  | { kind: 'periodic'; intervalMs: number }
  | { kind: 'continuous' }
  | { kind: 'adaptive' };

export type ExportProtocol = 'http/protobuf' | 'grpc';

/** Where and how one signal is exported over OTLP. Headers may hold secrets: never log them. */
export interface SignalEndpoint {
  /** http: the full URL posted to; grpc: the server origin (the method path is fixed by the service). */
  url: URL;
  protocol: ExportProtocol;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  timeoutMs: number;
  /** PEM files for an https endpoint (read on the first export, not at init). */
  tls?: TlsFiles;
}

/** OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY: paths to PEM files. */
export interface TlsFiles {
  /** CA certificate(s) that verify the collector, instead of Node's bundled roots. */
  certificate?: string;
  /** Client certificate and key for mutual TLS; both or neither. */
  clientCertificate?: string;
  clientKey?: string;
}

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
  /** Consecutive failed deliveries that open a destination's breaker. */
  breakerThreshold: number;
  /** First cool-down of an open breaker; doubles on each failed probe. */
  breakerOpenMs: number;
  breakerMaxOpenMs: number;
  /**
   * Time a flush keeps back from the export for the S3 spill (at most 40 % of the flush budget), so
   * that a dead destination's batch still reaches S3 within the same flush.
   */
  s3ReserveMs: number;
  /**
   * While a destination's breaker is open, an invoke-time flush keeps a batch in memory (free) until it
   * is at least this big or this old, then spills it as one larger object: an outage then costs an
   * invocation nothing, and S3 sees fewer, bigger objects. SHUTDOWN always spills.
   */
  spillMinBytes: number;
  spillMaxAgeMs: number;
}

export interface RelayConfig {
  /** Must equal the launcher's file name in /opt/extensions (Lambda's registration rule). */
  extensionName: string;
  flush: FlushStrategy;
  /** null: the receiver is off. 0: an ephemeral port (tests). */
  httpPort: number | null;
  grpcPort: number | null;
  /** Port of the Telemetry API listener; 0 picks a free one. */
  telemetryPort: number;
  bufferMaxBytes: number;
  batchMaxBytes: number;
  /** Cap of one request body, compressed and decompressed. */
  maxRequestBytes: number;
  /** Upper bound of any flush before `next`. */
  flushTimeoutMs: number;
  /** Kept free before an invocation's deadline: a flush never runs into it. */
  deadlineMarginMs: number;
  /** Kept free before the SHUTDOWN deadline, for exiting cleanly. */
  shutdownMarginMs: number;
  /** Adaptive: data older than this is flushed before `next` rather than carried across a freeze. */
  maxAgeMs: number;
  /** Adaptive: how long young data may wait to be batched with later invocations' data. */
  batchAgeMs: number;
  /** Background flush interval where there are no INVOKE events (Managed Instances). */
  backgroundIntervalMs: number;
  logLevel: LogLevel;
  selfTelemetry: boolean;
  /** Layer-only mode: spans, metrics (and logs) made from Telemetry API platform events. */
  platformTelemetry: boolean;
  /** With platformTelemetry: the function's log lines as OTLP logs. */
  platformLogs: boolean;
  managedInstances: boolean;
  exporters: Record<Signal, SignalEndpoint>;
  /**
   * Secrets Manager secret (ARN or name) whose value holds more OTLP headers, merged over the static
   * ones (the secret wins per key). Nothing is exported until it has been read.
   */
  headersSecretArn?: string;
  fallback: FallbackConfig;
  /** Per signal, the destinations each batch goes to, by name (empty: `none`). */
  routes: Record<Signal, readonly string[]>;
}

export interface LoadedConfig {
  config: RelayConfig;
  /** One sentence per invalid value, saying what is used instead. */
  problems: string[];
}
