// Sends one OTLP/HTTP request to the collector, with the same retry rules as the extension (retryable
// statuses, back-off, Retry-After), under a per-item deadline.
import { HttpRequestError, httpRequest } from '../../aws/index.js';
import { abortableSleep, type RetryOutcome, withRetry } from '../../extension/export/retry.js';
import type { Signal } from '../../otlp/index.js';

export interface CollectorTarget {
  /** Base OTLP/HTTP endpoint, e.g. http://localhost:4318; `/v1/<signal>` is appended. */
  endpoint: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export function signalUrl(endpoint: string, signal: Signal): URL {
  return new URL(`${endpoint.replace(/\/+$/, '')}/v1/${signal}`);
}

export function sendToCollector(
  target: CollectorTarget,
  signal: Signal,
  body: Uint8Array,
  contentType: string,
): Promise<RetryOutcome> {
  const url = signalUrl(target.endpoint, signal);
  const now = Date.now;
  return withRetry(
    async (budget) => {
      try {
        const res = await httpRequest(
          url,
          { method: 'POST', headers: { ...target.headers, 'content-type': contentType }, body },
          { timeoutMs: budget.deadline - now(), signal: budget.signal },
        );
        if (res.status >= 200 && res.status < 300) return { kind: 'success' };
        const retryAfter = res.headers['retry-after'];
        return {
          kind: 'http',
          status: res.status,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
          message: Buffer.from(res.body)
            .toString('utf8')
            .slice(0, 200)
            .replace(/[^\x20-\x7e]+/g, ' ')
            .trim(),
        };
      } catch (err) {
        if (err instanceof HttpRequestError) {
          if (err.kind === 'timeout') return { kind: 'timeout', message: err.message };
          if (err.kind === 'aborted') return { kind: 'aborted', message: err.message };
          return { kind: 'network', message: err.message };
        }
        return { kind: 'network', message: (err as Error).message };
      }
    },
    { deadline: now() + target.timeoutMs },
    {
      now,
      sleep: abortableSleep,
      policy: { maxAttempts: 5, initialBackoffMs: 500, maxBackoffMs: 5000, multiplier: 2, jitter: 0.2 },
    },
  );
}
