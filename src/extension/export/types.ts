// THE SEAM between the flush pipeline (src/extension/flush) and what happens to a batch on its way out
// (exporters here; retry, breaker, S3 spill and /tmp spool in src/extension/fallback and
// export/retry.ts + export/breaker.ts). Everything here is a contract the flush, export and fallback folders share.
import type { Signal } from '../../otlp/index.js';
import type { FallbackConfig } from '../settings/types.js';

export type { Signal };

/**
 * The time a flush may spend. `deadline` is in clock milliseconds (epoch ms, the same scale as
 * `deadlineMs` in Extensions API events). `abort` fires at the deadline, or earlier when the lifecycle
 * must call `next` (nothing may stay in flight across a freeze).
 */
export interface FlushBudget {
  deadline: number;
  abort: AbortSignal;
  /**
   * Why this flush runs. On `shutdown` a batch that is kept in memory is lost when the process exits,
   * so a Delivery should spill rather than answer `retained`.
   */
  reason: FlushReason;
}

export type FlushReason = 'invoke' | 'background' | 'shutdown';

/** The result of ONE export attempt of one encoded Export<Signal>ServiceRequest. */
export type ExportOutcome =
  | { kind: 'success' }
  /** The collector accepted the request but rejected `rejected` items (OTLP partial_success). */
  | { kind: 'partial'; rejected: number; message: string }
  /** Worth another attempt: 429/502/503/504, gRPC UNAVAILABLE & co, timeouts, network errors. */
  | {
      kind: 'retryable';
      reason: string;
      status?: number;
      retryAfterMs?: number;
      /**
       * True when another attempt within this flush cannot do better (e.g. the auth headers are not
       * available yet): the flush moves on to the fallback at once. Still a failure of the backend.
       */
      notThisFlush?: boolean;
    }
  /** Not worth another attempt: any other 4xx/5xx, bad config, or the budget was gone. */
  | { kind: 'failed'; reason: string; status?: number };

/** One transport to the collector (OTLP/HTTP or OTLP/gRPC). Makes exactly one attempt per call. */
export interface SignalExporter {
  export(signal: Signal, body: Uint8Array, budget: FlushBudget): Promise<ExportOutcome>;
  /** Drops pooled connections (after a thaw or a SnapStart restore they are likely dead). */
  resetConnections(): void;
  /** Closes every connection; used at shutdown after the last flush. */
  close(): void;
}

/**
 * A batch taken out of the buffer: a valid encoded Export<Signal>ServiceRequest (a concatenation of
 * whole top-level entries), with its accounting.
 */
export interface Batch {
  signal: Signal;
  body: Uint8Array;
  /** Spans, metric data points or log records in `body`. */
  items: number;
  /** Clock ms at which the oldest request in this batch was accepted. */
  oldestAcceptedAt: number;
}

/** What became of one batch. Every item of it is accounted for by exactly one of these. */
export type DeliveryResult =
  /** The collector has it. `rejected` items were refused by the collector (partial success). */
  | { kind: 'exported'; items: number; rejected: number }
  /** Durably stored elsewhere (S3 object, spool file); `location` is said in logs. */
  | { kind: 'spilled'; items: number; location: string }
  /** Not delivered; the flush pipeline puts the batch back at the front of the buffer. */
  | { kind: 'retained'; items: number; reason: string }
  /**
   * Gone for good, counted as dropped by signal and `reason` (a short key). `detail` says what it means
   * for the data; the flush pipeline logs it, once, as "<n> spans dropped: <detail>".
   */
  | { kind: 'dropped'; items: number; reason: string; detail?: string }
  /**
   * Refused for good by the destination (it judged the data: HTTP 400/413/415/422, gRPC
   * INVALID_ARGUMENT): re-sending cannot succeed. Counted as `rejected` in the ledger; `detail` is logged.
   */
  | { kind: 'rejected'; items: number; reason: string; detail?: string }
  /**
   * Processors removed `filtered` items on purpose (counted as `filtered`, by `reason`); what was left,
   * if anything, went on as `rest`.
   */
  | {
      kind: 'filtered';
      items: number;
      filtered: number;
      reason: string;
      rest?: { batch: Batch; result: DeliveryResult };
    }
  /**
   * The collector refused the batch as too large (413), so it was sent again in parts, split between
   * its top-level entries; each part is accounted for by its own result (a `retained` part goes back
   * to the buffer as its own batch).
   */
  | { kind: 'split'; items: number; parts: Array<{ batch: Batch; result: DeliveryResult }> };

/** Takes a batch as far as it can within the budget. Never throws; never outlives `budget.abort`. */
export interface Delivery {
  deliver(batch: Batch, budget: FlushBudget): Promise<DeliveryResult>;
  /**
   * Called at the start of every flush, before new batches: a chance to re-send older spilled data
   * (the /tmp spool) ahead of new data. Optional.
   */
  replay?(budget: FlushBudget): Promise<void>;
  /**
   * Stores a batch EVICTED from a full buffer in the fallback (S3, then the spool) without trying the
   * collector: it is the oldest data and the collector is evidently not keeping up. Called by the
   * flush pipeline, never on the receiver's request path. Same results and rules as `deliver`
   * (`retained` puts it back in the eviction queue). Optional: without it, evicted batches go through
   * `deliver`.
   */
  spill?(batch: Batch, budget: FlushBudget): Promise<DeliveryResult>;
  /** Reported in self-telemetry and the flush summary log line (e.g. breaker state). Optional. */
  state?(): Record<string, string | number>;
  /**
   * Called once at SHUTDOWN, after the last flush: closes what the destinations hold open (a
   * Pushgateway group, a producer, a connection). Resolves by `budget.deadline` whatever the peers do.
   * Optional.
   */
  shutdown?(budget: FlushBudget): Promise<void>;
}

/** What the extension hands to a Delivery factory (see src/extension/fallback/index.ts). */
export interface DeliveryContext {
  exporter: SignalExporter;
  /** The extension's environment (the function's variables, minus what Lambda withholds). */
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  log: Logger;
  /**
   * The destination this chain serves, when it is not the default OTLP one: its breaker is named after
   * it, and what it spills is marked with it (spool subdirectory `<dir>/<name>`, S3 key prefix
   * `<prefix>/destination=<name>`), so that replay sends it back to the same destination.
   */
  destination?: string;
  /** The fallback's settings, read with the rest of the config; when absent the Delivery reads them. */
  fallback?: FallbackConfig;
  /** Counts an invalid setting the Delivery read (it logs the line itself) in self-telemetry. Optional. */
  onConfigProblem?: (problem: string) => void;
  /**
   * A spilled batch was settled later (replayed: `exported`; refused on replay: `rejected`): the ledger
   * moves its items out of `spilled`. Optional.
   */
  onSpilledSettled?: (signal: Signal, state: 'exported' | 'rejected', items: number) => void;
}

export type DeliveryFactory = (ctx: DeliveryContext) => Delivery;

/** Injected time, so budgets, freezes and policies are testable. */
export interface Clock {
  /** Epoch milliseconds (Lambda's `deadlineMs` scale). */
  now(): number;
  /** Monotonic milliseconds (never adjusted; may jump backwards only across a SnapStart restore). */
  monotonic(): number;
}

/** JSON-line logger. `fields` never hold secrets (auth headers are redacted before they get here). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
