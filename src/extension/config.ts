// Every knob of the extension, read ONCE from the environment into a typed config. An invalid value
// never stops the extension: it is named in one log line together with the value used instead.
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { Signal } from '../otlp/index.js';
import { isLogLevel, type LogLevel } from './log.js';
import { redactEndpoint } from './redact.js';

export type FlushStrategy =
  | { kind: 'end' }
  | { kind: 'periodic'; intervalMs: number }
  | { kind: 'continuous' }
  | { kind: 'adaptive' };

export type ExportProtocol = 'http/protobuf' | 'grpc';

/** Where and how one signal is exported. Headers may hold secrets: never log them. */
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
}

export interface LoadedConfig {
  config: RelayConfig;
  /** One sentence per invalid value, saying what is used instead. */
  problems: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];
const MiB = 1024 * 1024;

export function loadConfig(env: Env): LoadedConfig {
  const problems: string[] = [];
  const read = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = read(name);
    if (raw === undefined) return def;
    const n = parseSize(raw);
    if (n === undefined || n < min || n > max) {
      problems.push(`config: ${name}=${raw} is not a number between ${min} and ${max}; using ${def}`);
      return def;
    }
    return n;
  };
  const port = (name: string, def: number | null): number | null => {
    const raw = read(name);
    if (raw === undefined) return def;
    if (raw === 'off' || raw === 'false') return null;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      problems.push(`config: ${name}=${raw} is not a port (0-65535 or "off"); using ${def ?? 'off'}`);
      return def;
    }
    return n;
  };
  // The Telemetry API listener cannot be off: it is how the relay learns that an invocation ended.
  const telemetryPort = (): number => {
    const raw = read('OTEL_RELAY_TELEMETRY_PORT');
    if (raw === 'off' || raw === 'false') {
      problems.push(
        `config: OTEL_RELAY_TELEMETRY_PORT=${raw}: the Telemetry API listener cannot be turned off (it tells the relay when an invocation ended); using 0 (any free port)`,
      );
      return 0;
    }
    return port('OTEL_RELAY_TELEMETRY_PORT', 0) ?? 0;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = read(name)?.toLowerCase();
    if (raw === undefined) return def;
    if (['true', '1', 'on', 'yes'].includes(raw)) return true;
    if (['false', '0', 'off', 'no'].includes(raw)) return false;
    problems.push(`config: ${name}=${raw} is not true or false; using ${def}`);
    return def;
  };

  const flushRaw = read('OTEL_RELAY_FLUSH');
  let flush: FlushStrategy = { kind: 'adaptive' };
  if (flushRaw !== undefined) {
    const parsed = parseFlushStrategy(flushRaw);
    if (parsed) flush = parsed;
    else
      problems.push(
        `config: OTEL_RELAY_FLUSH=${flushRaw} is not a strategy (end | periodic:<ms> | continuous | adaptive); using adaptive`,
      );
  }

  const levelRaw = read('OTEL_RELAY_LOG_LEVEL')?.toLowerCase();
  let logLevel: LogLevel = 'info';
  if (levelRaw !== undefined) {
    if (isLogLevel(levelRaw)) logLevel = levelRaw;
    else
      problems.push(`config: OTEL_RELAY_LOG_LEVEL=${levelRaw} is not debug|info|warn|error|off; using info`);
  }

  const managedInstances =
    read('AWS_LAMBDA_INITIALIZATION_TYPE') === 'lambda-managed-instances' ||
    bool('OTEL_RELAY_MANAGED_INSTANCES', false);

  const bufferMaxBytes = int('OTEL_RELAY_BUFFER_MAX_BYTES', 8 * MiB, 64 * 1024, 1024 * MiB);
  let batchMaxBytes = int('OTEL_RELAY_BATCH_MAX_BYTES', 1 * MiB, 1024, 64 * MiB);
  if (batchMaxBytes > bufferMaxBytes) {
    problems.push(
      `config: OTEL_RELAY_BATCH_MAX_BYTES=${batchMaxBytes} is larger than the buffer; using ${bufferMaxBytes}`,
    );
    batchMaxBytes = bufferMaxBytes;
  }

  const config: RelayConfig = {
    extensionName: read('OTEL_RELAY_EXTENSION_NAME') ?? 'otel-relay',
    flush,
    httpPort: port('OTEL_RELAY_HTTP_PORT', 4318),
    grpcPort: port('OTEL_RELAY_GRPC_PORT', 4317),
    telemetryPort: telemetryPort(),
    bufferMaxBytes,
    batchMaxBytes,
    maxRequestBytes: int('OTEL_RELAY_MAX_REQUEST_BYTES', 6 * MiB, 1024, 256 * MiB),
    flushTimeoutMs: int('OTEL_RELAY_FLUSH_TIMEOUT_MS', 1000, 1, 900_000),
    deadlineMarginMs: int('OTEL_RELAY_DEADLINE_MARGIN_MS', 100, 0, 60_000),
    shutdownMarginMs: int('OTEL_RELAY_SHUTDOWN_MARGIN_MS', 200, 0, 2_000),
    maxAgeMs: int('OTEL_RELAY_MAX_AGE_MS', 10_000, 0, 86_400_000),
    batchAgeMs: int('OTEL_RELAY_BATCH_AGE_MS', 1000, 0, 86_400_000),
    backgroundIntervalMs: int('OTEL_RELAY_BACKGROUND_INTERVAL_MS', 1000, 10, 3_600_000),
    logLevel,
    selfTelemetry: bool('OTEL_RELAY_SELF_TELEMETRY', true),
    platformTelemetry: bool('OTEL_RELAY_PLATFORM_TELEMETRY', false),
    platformLogs: bool('OTEL_RELAY_PLATFORM_LOGS', true),
    managedInstances,
    exporters: {} as Record<Signal, SignalEndpoint>,
  };
  for (const s of SIGNALS) config.exporters[s] = signalEndpoint(s, read, problems);
  const secretArn = read('OTEL_RELAY_HEADERS_SECRET_ARN');
  if (secretArn !== undefined) config.headersSecretArn = secretArn;
  return { config, problems };
}

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

/** "123", "64KiB", "8MiB", "1mb" → bytes (also plain counts for non-size knobs). */
function parseSize(raw: string): number | undefined {
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib)?$/i.exec(raw);
  if (!m) return undefined;
  const unit = m[2]?.toLowerCase();
  const mult = unit === undefined ? 1 : unit.startsWith('k') ? 1024 : MiB;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Headers in the `OTEL_EXPORTER_OTLP_HEADERS` format: `key=value` pairs separated by commas, both
 * URL-encoded; keys lowercased. A bad entry is skipped and described by its position only: the value
 * may be a secret, so problems never quote it.
 */
export function parseOtlpHeaders(raw: string): { headers: Record<string, string>; problems: string[] } {
  const headers: Record<string, string> = {};
  const problems: string[] = [];
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const i = pair.indexOf('=');
    if (i <= 0) {
      problems.push('has an entry without "key=value"; it is ignored');
      continue;
    }
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(pair.slice(0, i).trim()).toLowerCase();
      value = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      problems.push('has an entry that is not URL-encoded; it is ignored');
      continue;
    }
    // A header the HTTP client would refuse would fail every export forever: refuse it here, once.
    try {
      validateHeaderName(name);
    } catch {
      problems.push(
        `has a header name that is not a valid HTTP token (entry ${headerPosition(raw, pair)}); it is ignored`,
      );
      continue;
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      problems.push(`has an invalid value for header ${name}; it is ignored`);
      continue;
    }
    headers[name] = value;
  }
  return { headers, problems };
}

function headerPosition(raw: string, pair: string): number {
  return raw.split(',').indexOf(pair) + 1;
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2): a gRPC request carrying one fails. */
const HTTP2_FORBIDDEN_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'te',
]);

/**
 * A gRPC endpoint given without a scheme (`collector:4317`, as gRPC clients accept) gets one from
 * OTEL_EXPORTER_OTLP_[SIGNAL_]INSECURE, as the OTel spec says: https unless it is true. An endpoint
 * with a scheme, and any HTTP endpoint, is used as given (the variable does not apply).
 */
function grpcEndpointWithScheme(
  protocol: ExportProtocol,
  endpoint: string,
  insecure: { name: string; value: string } | undefined,
  problems: string[],
): string {
  if (protocol !== 'grpc' || /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) return endpoint;
  const raw = insecure?.value.trim().toLowerCase();
  if (raw !== undefined && raw !== 'true' && raw !== 'false') {
    const problem = `config: ${insecure?.name}=${insecure?.value} is not true or false; using false (TLS)`;
    // Read once per signal: said once.
    if (!problems.includes(problem)) problems.push(problem);
  }
  return `${raw === 'true' ? 'http' : 'https'}://${endpoint}`;
}

/** The OTel exporter variables, per-signal first (OTEL_EXPORTER_OTLP_TRACES_*) then general. */
function signalEndpoint(
  signal: Signal,
  read: (name: string) => string | undefined,
  problems: string[],
): SignalEndpoint {
  const S = signal.toUpperCase();
  const pick = (key: string) => {
    const specific = `OTEL_EXPORTER_OTLP_${S}_${key}`;
    const v = read(specific);
    if (v !== undefined) return { name: specific, value: v, specific: true };
    const general = `OTEL_EXPORTER_OTLP_${key}`;
    const g = read(general);
    return g === undefined ? undefined : { name: general, value: g, specific: false };
  };

  let protocol: ExportProtocol = 'http/protobuf';
  const p = pick('PROTOCOL');
  if (p) {
    if (p.value === 'grpc' || p.value === 'http/protobuf') protocol = p.value;
    else if (p.value === 'http/json')
      problems.push(
        `config: ${p.name}=http/json is not supported for export; sending ${signal} as http/protobuf (same endpoint)`,
      );
    else problems.push(`config: ${p.name}=${p.value} is not grpc or http/protobuf; using http/protobuf`);
  }

  const defaultOrigin = protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318';
  let url = new URL(protocol === 'grpc' ? defaultOrigin : `${defaultOrigin}/v1/${signal}`);
  const e = pick('ENDPOINT');
  if (e) {
    try {
      const insecureName = [`OTEL_EXPORTER_OTLP_${S}_INSECURE`, 'OTEL_EXPORTER_OTLP_INSECURE'].find(
        (n) => read(n) !== undefined,
      );
      const insecure = insecureName ? { name: insecureName, value: read(insecureName) ?? '' } : undefined;
      const parsed = new URL(grpcEndpointWithScheme(protocol, e.value, insecure, problems));
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
      if (protocol === 'grpc' || e.specific) url = parsed;
      else {
        // The general endpoint is a base: the signal path is appended (OTel spec).
        const base = parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`;
        url = new URL(`v1/${signal}`, base);
      }
    } catch {
      problems.push(
        `config: ${e.name}=${redactEndpoint(e.value)} is not an http(s) URL; ${signal} go to ${url.href}`,
      );
    }
  }

  const headers: Record<string, string> = {};
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', `OTEL_EXPORTER_OTLP_${S}_HEADERS`]) {
    const raw = read(name);
    if (raw === undefined) continue;
    const parsed = parseOtlpHeaders(raw);
    Object.assign(headers, parsed.headers);
    for (const p of parsed.problems) problems.push(`config: ${name} ${p}`);
  }
  if (protocol === 'grpc') {
    for (const name of Object.keys(headers)) {
      if (!HTTP2_FORBIDDEN_HEADERS.has(name)) continue;
      delete headers[name];
      const problem = `config: header ${name} is not allowed over gRPC (HTTP/2); it is not sent`;
      if (!problems.includes(problem)) problems.push(problem);
    }
  }

  let compression: 'gzip' | 'none' = 'gzip';
  const c = pick('COMPRESSION');
  if (c) {
    if (c.value === 'gzip' || c.value === 'none') compression = c.value;
    else problems.push(`config: ${c.name}=${c.value} is not gzip or none; using gzip`);
  }

  let timeoutMs = 10_000;
  const t = pick('TIMEOUT');
  if (t) {
    const n = Number(t.value);
    if (Number.isFinite(n) && n > 0) timeoutMs = n;
    else problems.push(`config: ${t.name}=${t.value} is not a positive number of ms; using 10000`);
  }
  const endpoint: SignalEndpoint = { url, protocol, headers, compression, timeoutMs };
  const tls: TlsFiles = {};
  const ca = pick('CERTIFICATE');
  if (ca) tls.certificate = ca.value;
  const cert = pick('CLIENT_CERTIFICATE');
  const key = pick('CLIENT_KEY');
  if (cert && key) {
    tls.clientCertificate = cert.value;
    tls.clientKey = key.value;
  } else if (cert || key) {
    const missing = cert ? `OTEL_EXPORTER_OTLP_CLIENT_KEY` : `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`;
    problems.push(
      `config: ${(cert ?? key)?.name} is set but ${missing} is not; ${signal} are sent without a client certificate`,
    );
  }
  if (Object.keys(tls).length > 0) endpoint.tls = tls;
  return endpoint;
}
