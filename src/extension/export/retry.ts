// Which export failures are worth another attempt, and when. The retryable set is the one the OTLP
// specification and opentelemetry-js use: HTTP 429, 502, 503, 504, timeouts and network errors
// (gRPC: UNAVAILABLE, RESOURCE_EXHAUSTED with retry info, DEADLINE_EXCEEDED, ...). Everything else
// fails fast, and so does a connection nothing answers (the exporter marks it `notThisFlush`). Back-off
// is exponential with jitter, `Retry-After` wins over it, and every attempt of a flush shares that
// flush's budget: the loop never sleeps past the deadline. What a non-retryable status means for the
// batch is decided by the Delivery (export/delivery.ts `classifyRefusal`).
import type { ExportOutcome } from './types.js';

/** What one export attempt came to, as the retry loop needs to see it. */
export type AttemptResult =
  | { kind: 'success'; rejected?: number; message?: string }
  | { kind: 'http'; status: number; retryAfter?: string | null; message?: string }
  | { kind: 'grpc'; code: number; retryAfterMs?: number; message?: string }
  | { kind: 'timeout'; message?: string }
  | { kind: 'network'; code?: string; message?: string }
  | { kind: 'aborted'; message?: string }
  /**
   * Already classified by the transport (the extension's ExportOutcome): worth another attempt, in
   * a later flush only when `notThisFlush`.
   */
  | { kind: 'retryable'; message: string; status?: number; retryAfterMs?: number; notThisFlush?: boolean }
  /** Already classified by the transport: not worth another attempt. */
  | { kind: 'failed'; message: string; status?: number };

/**
 * An exporter's verdict (ExportOutcome) as the retry loop takes it: partial success is a success, and
 * retryable and failed outcomes keep every field (status, Retry-After, notThisFlush), the reason as text.
 */
export function attemptFromOutcome(o: ExportOutcome): AttemptResult {
  switch (o.kind) {
    case 'success':
      return o;
    case 'partial':
      return { kind: 'success', rejected: o.rejected, message: o.message };
    case 'retryable': {
      const { reason, ...rest } = o;
      return { ...rest, message: reason };
    }
    case 'failed': {
      const { reason, ...rest } = o;
      return { ...rest, message: reason };
    }
  }
}

export const RETRYABLE_HTTP_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504]);
// gRPC codes the OTLP spec lists as retryable: CANCELLED 1, DEADLINE_EXCEEDED 4, ABORTED 10,
// OUT_OF_RANGE 11, UNAVAILABLE 14, DATA_LOSS 15; RESOURCE_EXHAUSTED 8 only with RetryInfo.
export const RETRYABLE_GRPC_CODES: ReadonlySet<number> = new Set([1, 4, 10, 11, 14, 15]);

export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
  /** Fraction of the back-off added or removed at random (0.2 = ±20 %). */
  jitter: number;
}

// Lambda flush budgets are hundreds of milliseconds, not the SDK's seconds: the shape follows
// opentelemetry-js (5 attempts, ×1.5, ±20 %), the scale is smaller.
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialBackoffMs: 50,
  maxBackoffMs: 1000,
  multiplier: 1.5,
  jitter: 0.2,
};

export type Verdict =
  | { retry: false; success: true }
  | { retry: false; success: false; reason: string }
  | { retry: true; reason: string; retryAfterMs?: number };

/** Parses Retry-After: delay-seconds or an HTTP date. Returns ms from `now`, or undefined. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export function classify(result: AttemptResult, now: number): Verdict {
  switch (result.kind) {
    case 'success':
      return { retry: false, success: true };
    case 'http': {
      const reason = `HTTP ${result.status}${result.message ? ` ${result.message}` : ''}`;
      if (!RETRYABLE_HTTP_STATUS.has(result.status)) return { retry: false, success: false, reason };
      const retryAfterMs = parseRetryAfter(result.retryAfter, now);
      return retryAfterMs === undefined ? { retry: true, reason } : { retry: true, reason, retryAfterMs };
    }
    case 'grpc': {
      const reason = `gRPC status ${result.code}${result.message ? ` ${result.message}` : ''}`;
      const retryable =
        RETRYABLE_GRPC_CODES.has(result.code) || (result.code === 8 && result.retryAfterMs !== undefined);
      if (!retryable) return { retry: false, success: false, reason };
      return result.retryAfterMs === undefined
        ? { retry: true, reason }
        : { retry: true, reason, retryAfterMs: result.retryAfterMs };
    }
    case 'timeout':
      return { retry: true, reason: result.message ?? 'timeout' };
    case 'network':
      return { retry: true, reason: result.message ?? `network error ${result.code ?? ''}`.trim() };
    case 'aborted':
      return { retry: false, success: false, reason: result.message ?? 'aborted: flush budget spent' };
    case 'retryable':
      return result.retryAfterMs === undefined
        ? { retry: true, reason: result.message }
        : { retry: true, reason: result.message, retryAfterMs: result.retryAfterMs };
    case 'failed':
      return { retry: false, success: false, reason: result.message };
  }
}

/** Back-off before attempt `attempt + 1` (attempt counts from 1), with jitter from `random`. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** (attempt - 1));
  const jitter = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + jitter));
}

export interface RetryBudget {
  /** Epoch ms (same clock as `now`) after which no attempt may still be running. */
  deadline: number;
  signal?: AbortSignal;
}

export interface RetryDeps {
  now: () => number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  policy?: RetryPolicy;
}

/**
 * Why a batch was not delivered:
 * - `unavailable`: retryable failures until attempts or budget ran out; the backend looks unhealthy
 *   (this is what feeds the circuit breaker);
 * - `rejected`: the backend answered with a non-retryable status (400, 401, 500, ...) for this batch
 *   (which of them lose the batch is `classifyRefusal`'s call);
 * - `budget`: the flush was aborted or its deadline passed before any verdict.
 */
export type FailureCause = 'unavailable' | 'rejected' | 'budget';

export type RetryOutcome =
  | { delivered: true; attempts: number; rejected: number; message?: string }
  | {
      delivered: false;
      attempts: number;
      cause: FailureCause;
      reason: string;
      retryAfterMs?: number;
      /** The HTTP status of a `rejected` batch, when there was one. */
      status?: number;
    };

/**
 * Runs `attempt` until it succeeds, fails for good, runs out of attempts, or the next wait would
 * pass the deadline. `attempt` receives the same budget and must respect it itself.
 */
export async function withRetry(
  attempt: (budget: RetryBudget, attemptNumber: number) => Promise<AttemptResult>,
  budget: RetryBudget,
  deps: RetryDeps,
): Promise<RetryOutcome> {
  const policy = deps.policy ?? DEFAULT_RETRY_POLICY;
  const random = deps.random ?? Math.random;
  let last: { reason: string; retryAfterMs?: number } | undefined;
  const giveUp = (attempts: number, reason?: string): RetryOutcome =>
    last
      ? { delivered: false, attempts, cause: 'unavailable', ...last, ...(reason ? { reason } : {}) }
      : {
          delivered: false,
          attempts,
          cause: 'budget',
          reason: reason ?? 'flush budget spent before any attempt',
        };
  for (let n = 1; n <= policy.maxAttempts; n++) {
    if (budget.signal?.aborted || deps.now() >= budget.deadline) return giveUp(n - 1);
    const result = await attempt(budget, n);
    const verdict = classify(result, deps.now());
    if (!verdict.retry) {
      if (verdict.success) {
        const ok = result as Extract<AttemptResult, { kind: 'success' }>;
        const out: RetryOutcome = { delivered: true, attempts: n, rejected: ok.rejected ?? 0 };
        if (ok.message) out.message = ok.message;
        return out;
      }
      // An attempt cut short by the budget says nothing about the backend unless earlier ones did.
      const cutShort =
        result.kind === 'aborted' ||
        (result.kind === 'failed' &&
          result.status === undefined &&
          (budget.signal?.aborted === true || deps.now() >= budget.deadline));
      if (cutShort) return giveUp(n, last ? undefined : verdict.reason);
      const rejected: RetryOutcome = {
        delivered: false,
        attempts: n,
        cause: 'rejected',
        reason: verdict.reason,
      };
      if ((result.kind === 'http' || result.kind === 'failed') && result.status !== undefined) {
        rejected.status = result.status;
      }
      return rejected;
    }
    last =
      verdict.retryAfterMs === undefined
        ? { reason: verdict.reason }
        : { reason: verdict.reason, retryAfterMs: verdict.retryAfterMs };
    if (result.kind === 'retryable' && result.notThisFlush) return giveUp(n);
    if (n === policy.maxAttempts) break;
    const wait = verdict.retryAfterMs ?? backoffMs(policy, n, random);
    if (deps.now() + wait >= budget.deadline) {
      return giveUp(
        n,
        verdict.retryAfterMs !== undefined
          ? `${verdict.reason}; Retry-After ${verdict.retryAfterMs} ms is past the flush budget`
          : `${verdict.reason}; no budget left to retry`,
      );
    }
    await deps.sleep(wait, budget.signal);
  }
  return giveUp(
    policy.maxAttempts,
    `${last?.reason ?? 'failed'}; gave up after ${policy.maxAttempts} attempts`,
  );
}

/** A sleep that wakes early on abort; the default for `RetryDeps.sleep`. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
