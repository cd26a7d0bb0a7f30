// One HTTP attempt for destinations that speak HTTP (zipkin, prometheusremotewrite, pushgateway,
// awsxray, awslogs), classified into an ExportOutcome the same way for all of them: the delivery
// stages (retry, breaker, spill) then treat every destination alike.
import { HttpRequestError, httpRequest } from '../../aws/http.js';
import { nothingListeningCode, parseRetryAfter } from '../export/otlp-exporter.js';
import type { Clock, ExportOutcome, FlushBudget } from '../export/types.js';

/** HTTP statuses worth another attempt, as for OTLP/HTTP. */
const RETRYABLE = new Set([429, 502, 503, 504]);

export interface PostInit {
  method?: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** The endpoint's own timeout; the attempt takes the smaller of this and the budget left. */
  timeoutMs: number;
}

/** Makes exactly one request within the flush budget; never throws. */
export async function sendOnce(
  destination: string,
  url: URL,
  init: PostInit,
  budget: FlushBudget,
  clock: Clock,
): Promise<ExportOutcome> {
  const timeoutMs = Math.floor(Math.min(init.timeoutMs, budget.deadline - clock.now()));
  if (timeoutMs <= 0 || budget.abort.aborted)
    return { kind: 'retryable', reason: `${destination}: flush budget exhausted before sending` };
  const method = init.method ?? 'POST';
  try {
    const res = await httpRequest(
      url,
      { method, headers: init.headers, body: init.body },
      { timeoutMs, signal: budget.abort },
    );
    if (res.status >= 200 && res.status < 300) return { kind: 'success' };
    const text = Buffer.from(res.body).toString('utf8').slice(0, 300).trim();
    const reason = `${destination}: ${method} ${url.host}${url.pathname} answered ${res.status}${text ? `: ${text}` : ''}`;
    if (RETRYABLE.has(res.status)) {
      const header = res.headers['retry-after'];
      const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header, clock.now());
      return {
        kind: 'retryable',
        reason,
        status: res.status,
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      };
    }
    return { kind: 'failed', reason, status: res.status };
  } catch (err) {
    const reason = `${destination}: ${method} ${url.host}${url.pathname} failed: ${err instanceof Error ? err.message : String(err)}`;
    if (err instanceof HttpRequestError && nothingListeningCode(err))
      return { kind: 'retryable', reason, notThisFlush: true };
    return { kind: 'retryable', reason };
  }
}
