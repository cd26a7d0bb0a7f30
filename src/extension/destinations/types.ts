// The seam between the delivery stages (retry, breaker, spill to S3, spool) and one destination's
// transport. Every destination (otlp, zipkin, prometheusremotewrite, kafka, ...) implements this; the
// stages wrap each one the same way, so retry, fallback and the ledger are written once.
import type { Clock, ExportOutcome, FlushBudget, Logger, Signal, SignalExporter } from '../export/types.js';

export type { ExportOutcome, FlushBudget, Signal };

/**
 * One configured destination. `export` makes exactly ONE attempt to deliver one encoded OTLP
 * Export<Signal>ServiceRequest (protobuf bytes, possibly a concatenation of several requests) and
 * classifies the result; it never retries, never spills and never throws (a thrown error is a
 * programming error and is reported as `failed`). Destinations that need structure decode `body`
 * themselves (lazily, only when configured).
 */
export interface Destination extends SignalExporter {
  /** The instance name used in logs, the ledger, S3 keys and spool file names, e.g. `zipkin`. */
  readonly name: string;
  /** The signals this destination takes; a batch of another signal is never offered to it. */
  readonly signals: ReadonlySet<Signal>;
  /**
   * Called once at SHUTDOWN after the last flush, side by side with the other destinations: clean up
   * on the peer and close connections (Pushgateway group delete, Kafka producer disconnect, Redis
   * QUIT, PostgreSQL end). It should watch `budget.deadline`; if it has not finished by then the relay
   * stops waiting and calls `close()`. Without it, `close()` is called. Nothing is exported after it.
   */
  shutdown?(budget: FlushBudget): Promise<void>;
}

/** What a destination's factory gets: its own settings and the extension's shared services. */
export interface DestinationContext {
  /** The extension's environment (the function's variables, minus what Lambda withholds). */
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  log: Logger;
  /** Counts an invalid setting (the factory logs the line itself) in self-telemetry. */
  onConfigProblem?: (problem: string) => void;
}

/**
 * A destination module, loaded with a dynamic import only when the destination is selected, so the
 * default cold start never pays for code it does not use.
 */
export interface DestinationModule {
  createDestination(ctx: DestinationContext): Promise<Destination> | Destination;
}
