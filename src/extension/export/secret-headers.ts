// OTLP headers held in a Secrets Manager secret (OTEL_RELAY_HEADERS_SECRET_ARN), typically the
// collector's auth token. The secret is read after `register`, off the init path, and every export
// waits for it within its own budget. Without it nothing is sent (the collector would only answer
// 401/403): the export reports the collector as unavailable at once, so batches stay buffered or go to
// the fallback (S3, /tmp) and the read is retried with a bounded back-off. A 401/403 to the secret's headers means a rotated secret: it is read again,
// and the batch kept. Header values are never logged, not even in parse errors.
import type { Signal } from '../../otlp/index.js';
import { parseOtlpHeaders } from '../destinations/otlp/config.js';
import { errorText } from '../log.js';
import type { SignalEndpoint } from '../settings/types.js';
import type { Clock, ExportOutcome, FlushBudget, Logger, SignalExporter } from './types.js';

export type HeaderMap = Readonly<Record<string, string>>;

/** Reads the secret's string value; must settle by `deadline` (epoch ms) or when `signal` aborts. */
export type SecretFetch = (budget: { deadline: number; signal: AbortSignal }) => Promise<string>;

export interface SecretHeadersOptions {
  /** Shown in logs (an ARN or name is not a secret; its value is). */
  secretId: string;
  fetch: SecretFetch;
  clock: Clock;
  log: Logger;
  /** Bound of one read of the secret. */
  fetchTimeoutMs?: number;
  /** First wait after a failed read; doubles per failure up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called once per distinct problem with the secret's content (counted as a config problem). */
  onConfigProblem?: (problem: string) => void;
}

/**
 * The secret's value as headers: a JSON object of header → value, or a string in the
 * `OTEL_EXPORTER_OTLP_HEADERS` format. Throws (without quoting the value) when it is neither.
 */
export function parseSecretHeaders(value: string): { headers: Record<string, string>; problems: string[] } {
  const text = value.trim();
  if (text.startsWith('{') || text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error('the secret looks like JSON but is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the secret is JSON but not an object of header names to values');
    }
    const headers: Record<string, string> = {};
    const problems: string[] = [];
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v === 'string' || typeof v === 'number') headers[k.trim().toLowerCase()] = String(v);
      else problems.push(`the value of header "${k}" is not a string; it is ignored`);
    }
    return { headers, problems };
  }
  return parseOtlpHeaders(text);
}

/** Where a header set from the secret stands: read, being read, or failing with a retry time. */
export class SecretHeaders {
  private value: HeaderMap | undefined;
  private inFlight: { promise: Promise<void>; controller: AbortController } | undefined;
  private failures = 0;
  /** Refusals by the collector since the last delivery with these headers (401/403 in a row). */
  private refusals = 0;
  private retryAt = 0;
  private lastError = 'not read yet';
  /** Problems with the secret's content already logged and counted (each once, not per read). */
  private readonly reported = new Set<string>();
  private readonly fetchTimeoutMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly o: SecretHeadersOptions) {
    this.fetchTimeoutMs = o.fetchTimeoutMs ?? 3_000;
    this.minBackoffMs = o.minBackoffMs ?? 1_000;
    this.maxBackoffMs = Math.max(this.minBackoffMs, o.maxBackoffMs ?? 300_000);
  }

  /** Starts a read unless one is going, the value is known, or the back-off has not elapsed. */
  prefetch(): void {
    if (this.value || this.inFlight || this.o.clock.now() < this.retryAt) return;
    const controller = new AbortController();
    const promise = this.read(controller.signal).finally(() => {
      if (this.inFlight?.promise === promise) this.inFlight = undefined;
    });
    this.inFlight = { promise, controller };
  }

  /**
   * The headers, waiting for a read in flight (or starting one) until `deadline` or `abort`.
   * Undefined when they are not available by then.
   */
  async wait(deadline: number, abort: AbortSignal): Promise<HeaderMap | undefined> {
    this.prefetch();
    const run = this.inFlight;
    if (!this.value && run && !abort.aborted) {
      const ms = deadline - this.o.clock.now();
      if (ms > 0) {
        let timer: NodeJS.Timeout | undefined;
        let onAbort: (() => void) | undefined;
        await Promise.race([
          run.promise,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, ms);
            onAbort = resolve;
            abort.addEventListener('abort', onAbort, { once: true });
          }),
        ]);
        clearTimeout(timer);
        if (onAbort) abort.removeEventListener('abort', onAbort);
      }
    }
    return this.value;
  }

  /** Why there are no headers yet, for the export's failure reason (never a value). */
  unavailableReason(): string {
    return `OTLP headers from secret ${this.o.secretId} are not available (${this.lastError}); nothing is sent without them`;
  }

  /** Ms until the next read may start (0: now or one is in flight). */
  retryInMs(): number {
    return Math.max(0, this.retryAt - this.o.clock.now());
  }

  /**
   * The collector refused the headers (401/403): the secret was probably rotated. They are forgotten
   * and read again after a back-off that grows while the refusals go on (a wrong secret must not
   * hammer Secrets Manager); meanwhile nothing is sent.
   */
  refused(reason: string): void {
    if (!this.value) return;
    this.value = undefined;
    this.refusals++;
    const backoff = this.backoffMs(this.refusals);
    this.retryAt = this.o.clock.now() + backoff;
    this.lastError = `the collector refused them: ${reason}`;
    const msg =
      `the collector refused the OTLP headers from secret ${this.o.secretId} (${reason}); the secret is ` +
      `read again in ${backoff} ms. Telemetry stays buffered or goes to the fallback (S3, /tmp) meanwhile`;
    if (this.refusals === 1) this.o.log.warn(msg);
    else this.o.log.debug(msg, { refusals: this.refusals });
  }

  /** The collector took data sent with these headers. */
  delivered(): void {
    this.refusals = 0;
  }

  private backoffMs(n: number): number {
    return Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** (n - 1));
  }

  /**
   * Aborts a read in flight without counting it as a failure (the next export starts it again):
   * nothing may be in flight across a freeze.
   */
  abortInFlight(): void {
    this.inFlight?.controller.abort();
  }

  private async read(signal: AbortSignal): Promise<void> {
    const { clock, log, secretId } = this.o;
    try {
      const raw = await this.o.fetch({ deadline: clock.now() + this.fetchTimeoutMs, signal });
      const { headers, problems } = parseSecretHeaders(raw);
      for (const p of problems) {
        if (this.reported.has(p)) continue;
        this.reported.add(p);
        log.warn(`config: secret ${secretId} ${p}`);
        this.o.onConfigProblem?.(p);
      }
      if (Object.keys(headers).length === 0) throw new Error('the secret holds no headers');
      const recovered = this.failures > 0;
      this.value = headers;
      this.failures = 0;
      this.retryAt = 0;
      // Names only: the values are what the secret protects.
      const names = Object.keys(headers).sort().join(', ');
      if (recovered) log.info(`OTLP headers read from secret ${secretId} (${names}); exporting again`);
      else log.debug(`OTLP headers read from secret ${secretId} (${names})`);
    } catch (err) {
      if (signal.aborted) {
        this.lastError = 'read aborted before next';
        return;
      }
      this.failures++;
      const backoff = this.backoffMs(this.failures);
      this.retryAt = clock.now() + backoff;
      this.lastError = errorText(err);
      const msg =
        `could not read OTLP headers from secret ${secretId}: ${this.lastError}. Nothing is exported ` +
        `without them: telemetry stays buffered or goes to the fallback (S3, /tmp); retrying in ${backoff} ms`;
      // One clear line when it starts failing; the retries that keep failing are debug.
      if (this.failures === 1) log.warn(msg);
      else log.debug(msg, { failures: this.failures });
      if (this.failures === 1 && isContentProblem(err)) this.o.onConfigProblem?.(this.lastError);
    }
  }
}

function isContentProblem(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('the secret');
}

function notThisFlush(reason: string, retryAfterMs: number): ExportOutcome {
  return retryAfterMs > 0
    ? { kind: 'retryable', reason, retryAfterMs, notThisFlush: true }
    : { kind: 'retryable', reason, notThisFlush: true };
}

/** HTTP 401/403, or gRPC UNAUTHENTICATED (16) / PERMISSION_DENIED (7): the credentials, not the data. */
function isAuthRefusal(status: number | undefined): boolean {
  return status === 401 || status === 403 || status === 16 || status === 7;
}

/** The endpoints with the secret's headers merged over each signal's static headers. */
export function withHeaders(
  endpoints: Record<Signal, SignalEndpoint>,
  extra: HeaderMap,
): Record<Signal, SignalEndpoint> {
  const out = {} as Record<Signal, SignalEndpoint>;
  for (const [s, ep] of Object.entries(endpoints) as [Signal, SignalEndpoint][]) {
    out[s] = { ...ep, headers: { ...ep.headers, ...extra } };
  }
  return out;
}

/**
 * An exporter that sends only once the secret's headers are known; until then each export answers
 * `retryable` (the collector counts as unavailable), with a Retry-After past the flush's budget.
 * `make` builds the real exporter for a header set (again when the set changes).
 */
export function createSecretHeadersExporter(
  source: SecretHeaders,
  make: (headers: HeaderMap) => SignalExporter,
): SignalExporter {
  let inner: { headers: HeaderMap; exporter: SignalExporter } | undefined;
  return {
    async export(signal: Signal, body: Uint8Array, budget: FlushBudget): Promise<ExportOutcome> {
      const headers = await source.wait(budget.deadline, budget.abort);
      // The read is retried by a later flush, never waited for inside this one (the wait would be
      // billed as post-runtime time, for a read that has just failed). Retry-After says when the
      // next read may start, which is also how long the collector's breaker stays open at least.
      if (!headers) return notThisFlush(source.unavailableReason(), source.retryInMs());
      if (inner?.headers !== headers) {
        inner?.exporter.close();
        inner = { headers, exporter: make(headers) };
      }
      const out = await inner.exporter.export(signal, body, budget);
      if (out.kind === 'success' || out.kind === 'partial') source.delivered();
      else if (out.kind === 'failed' && isAuthRefusal(out.status)) {
        // Not the data's fault: dropping it as "rejected" would lose it to a rotated secret.
        source.refused(out.reason);
        return notThisFlush(`${out.reason}; the headers from the secret are read again`, source.retryInMs());
      }
      return out;
    },
    resetConnections() {
      inner?.exporter.resetConnections();
    },
    close() {
      source.abortInFlight();
      inner?.exporter.close();
    },
  };
}

/**
 * Reads the secret with GetSecretValue, signed with the function's credentials. The region comes from
 * the ARN (else AWS_REGION); AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL override the endpoint
 * as they do for the AWS SDK. The AWS client code loads on the first read, never on the init path.
 */
export function secretsManagerFetch(
  secretId: string,
  env: Readonly<Record<string, string | undefined>>,
  clock: Clock,
): SecretFetch {
  const arnRegion = /^arn:[^:]+:secretsmanager:([^:]+):/.exec(secretId)?.[1];
  const region = arnRegion || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER?.trim() || env.AWS_ENDPOINT_URL?.trim() || undefined;
  let credentials: import('../../aws/index.js').CredentialProvider | undefined;
  return async (budget) => {
    const aws = await import('../../aws/index.js');
    // One provider for every read: it caches the container credentials until they expire.
    credentials ??= aws.defaultCredentialProvider(env, () => clock.now());
    return aws.getSecretValue(secretId, { region, endpoint, credentials, clock }, budget);
  };
}
