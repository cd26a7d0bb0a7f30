// The seam between the flush pipeline and the processors (filter, redact, sample, ratelimit,
// attributes). A signal's processors run in order on each batch taken from the buffer, BEFORE the
// batch is fanned out to the destinations; with none configured nothing here is loaded and the batch
// is never decoded (the zero-decode OTLP -> OTLP path).
import type { Batch, FlushBudget, Logger, Signal } from '../export/types.js';

export type { Batch, Signal };

/**
 * One processor's answer for one batch. `batch` is what continues down the chain (the same object when
 * nothing changed); `filtered` is how many items the processor removed ON PURPOSE (a filter rule, a
 * sampling decision, a rate limit): the ledger counts them as `filtered`, never as `dropped`. So
 * `batch.items + filtered` always equals the input's `items`. `batch` is undefined when every item was
 * removed (`filtered` is then the input's `items`).
 */
export interface ProcessorResult {
  batch: Batch | undefined;
  filtered: number;
  /** Why items were removed, for the ledger's `filtered` reasons (e.g. `filter`, `sample`, `ratelimit`). */
  reason?: string;
}

/** A `(batch) => batch'` step. Never throws: a processor that cannot run passes the batch through. */
export interface Processor {
  /** The processor's kind, in logs: `filter`, `redact`, `sample`, `ratelimit`, `attributes`. */
  readonly name: string;
  /** The signals it applies to; other batches skip it. */
  readonly signals: ReadonlySet<Signal>;
  process(batch: Batch, budget: FlushBudget): ProcessorResult | Promise<ProcessorResult>;
}

/** What a processor factory gets. */
export interface ProcessorContext {
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  clock: { now(): number; monotonic(): number };
  /** Counts an invalid setting (the factory logs the line itself) in self-telemetry. */
  onConfigProblem?: (problem: string) => void;
}

/**
 * The processors module, loaded with a dynamic import only when a processor is configured. Returns
 * the configured chain (possibly empty).
 */
export interface ProcessorsModule {
  createProcessors(ctx: ProcessorContext): Promise<Processor[]> | Processor[];
}
