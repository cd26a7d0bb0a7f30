// What the destinations that keep a connection open (kafka, redis, postgres) share: every call on the
// connection races the flush budget, a connection the budget abandoned is torn down (nothing may stay
// in flight across a freeze), and a problem the user must fix (unknown broker, refused credentials,
// missing table rights) is logged once, in one line, however many batches it sends to the fallback.
import type { Clock, ExportOutcome, FlushBudget, Logger } from '../export/types.js';

/** Why a call did not finish within the budget. */
export class BudgetExpired extends Error {
  override readonly name = 'BudgetExpired';
}

/**
 * Resolves with `work`, or rejects with BudgetExpired when the budget's deadline passes or its abort
 * fires first (then `onExpire` runs, to destroy the sockets `work` is using). Never leaves a timer.
 */
export function withinBudget<T>(
  work: Promise<T>,
  budget: FlushBudget,
  clock: Clock,
  onExpire: () => void,
  capMs = Number.POSITIVE_INFINITY,
): Promise<T> {
  const leftMs = Math.min(budget.deadline - clock.now(), capMs);
  if (leftMs <= 0 || budget.abort.aborted) {
    work.catch(() => {});
    onExpire();
    return Promise.reject(new BudgetExpired('the flush budget was used up'));
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const expire = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      budget.abort.removeEventListener('abort', onAbort);
      work.catch(() => {});
      onExpire();
      reject(new BudgetExpired(why));
    };
    const onAbort = (): void => expire('the flush was aborted (the environment is about to freeze)');
    const timer = setTimeout(() => expire(`no answer within ${Math.round(leftMs)} ms`), leftMs);
    budget.abort.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        budget.abort.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        budget.abort.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** The outcome for a call the budget cut short: the batch is worth another try, in a later flush. */
export function expiredOutcome(destination: string, err: BudgetExpired): ExportOutcome {
  return { kind: 'retryable', reason: `${destination}: ${err.message}`, notThisFlush: true };
}

/**
 * Logs each distinct configuration problem once (by key), at error level, with what happens to the
 * data. Transient trouble (a broker restarting) is left to the delivery stages' own lines.
 */
export class ProblemLog {
  private readonly seen = new Set<string>();
  constructor(
    private readonly log: Logger,
    private readonly destination: string,
  ) {}

  once(key: string, message: string, fields?: Record<string, unknown>): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.log.error(
      `${this.destination}: ${message}; its batches go to the fallback (S3, then /tmp) until this is fixed`,
      {
        destination: this.destination,
        ...fields,
      },
    );
  }
}

/** The message of anything thrown, with its cause's message when it adds something. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && !err.message.includes(cause) ? `${err.message} (${cause})` : err.message;
}
