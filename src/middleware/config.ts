// Options and environment, read once into a typed config when a middleware or wrapper is created.
// Bad options are programming errors and throw there, at init, with a message that says what to fix;
// a bad environment variable never throws: it is logged and the default is used.
import type { TracerProvider } from '@opentelemetry/api';
import { RelayLog } from './log.js';
import type { Clock, Flushable, HandoffTiming, OtelRelayOptions } from './types.js';

export const DEFAULT_RELAY_PORT = 4318;
export const DEFAULT_FLUSH_TIMEOUT_MS = 1000;

export interface RelayConfig {
  endpoint: URL;
  tracerProvider: TracerProvider | undefined;
  autoSetup: boolean;
  flush: Flushable[] | undefined;
  flushTimeoutMs: number;
  handoff: HandoffTiming;
  signalDone: boolean;
  xray: boolean;
  messageLinks: boolean;
  timeoutEarlyMs: number;
  clock: Clock;
  log: RelayLog;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * The extension's local endpoint: `OTEL_RELAY_HTTP_PORT` on loopback, never OTEL_EXPORTER_OTLP_ENDPOINT
 * (which, in a function with the layer, is the extension's own upstream).
 */
export function localEndpoint(env: Record<string, string | undefined> = process.env, log?: RelayLog): URL {
  const raw = env.OTEL_RELAY_HTTP_PORT;
  let port = DEFAULT_RELAY_PORT;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (Number.isInteger(n) && n > 0 && n < 65536) port = n;
    else
      log?.once(
        'bad-port',
        'warn',
        `config: OTEL_RELAY_HTTP_PORT=${raw} is not a port; sending telemetry to ${DEFAULT_RELAY_PORT}`,
      );
  }
  return new URL(`http://127.0.0.1:${port}`);
}

export function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new TypeError(`otelRelay: endpoint "${endpoint}" is not a URL (expected http://127.0.0.1:<port>)`, {
      cause,
    });
  }
  if (url.protocol !== 'http:') {
    throw new TypeError(
      `otelRelay: endpoint "${endpoint}" must be http:// (the extension listens on loopback)`,
    );
  }
  return new URL(url.origin);
}

export function resolveConfig(options: OtelRelayOptions = {}, env = process.env): RelayConfig {
  const log = new RelayLog(options.log);
  const flushTimeoutMs = options.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
  if (!Number.isFinite(flushTimeoutMs) || flushTimeoutMs < 0) {
    throw new TypeError(
      `otelRelay: flushTimeoutMs must be a non-negative number of ms, got ${flushTimeoutMs}`,
    );
  }
  const timeoutEarlyMs = options.timeoutEarlyInMillis ?? 0;
  if (!Number.isFinite(timeoutEarlyMs) || timeoutEarlyMs < 0) {
    throw new TypeError(
      `otelRelay: timeoutEarlyInMillis must be a non-negative number of ms, got ${timeoutEarlyMs}`,
    );
  }
  const flush = options.flush === undefined ? undefined : [options.flush].flat();
  for (const f of flush ?? []) {
    if (typeof f?.forceFlush !== 'function') {
      throw new TypeError(
        'otelRelay: every `flush` entry needs a forceFlush() method (an SDK provider or processor)',
      );
    }
  }
  // On Managed Instances the extension cannot hold the environment for us (it receives no INVOKE), and
  // a shutdown may follow a response at once: there the data must be handed over before the response.
  const handoff =
    options.handoff ??
    (env.AWS_LAMBDA_INITIALIZATION_TYPE === 'lambda-managed-instances'
      ? 'before-response'
      : 'after-response');
  if (handoff !== 'after-response' && handoff !== 'before-response') {
    throw new TypeError(
      `otelRelay: handoff must be 'after-response' or 'before-response', got ${String(handoff)}`,
    );
  }
  return {
    handoff,
    endpoint: options.endpoint ? parseEndpoint(options.endpoint) : localEndpoint(env, log),
    tracerProvider: options.tracerProvider,
    // OTEL_SDK_DISABLED=true is the spec's switch for "no SDK": then nothing is set up on its own.
    autoSetup: options.autoSetup ?? env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true',
    flush,
    flushTimeoutMs,
    signalDone: options.signalDone ?? true,
    xray: options.xray ?? false,
    messageLinks: options.messageLinks ?? true,
    timeoutEarlyMs,
    clock: options.clock ?? systemClock,
    log,
  };
}
