// Counters the extension keeps about itself; turned into OTLP metrics by self.ts and into log lines.
import type { Signal } from '../../otlp/index.js';

export type PerSignal = Record<Signal, number>;
const zero = (): PerSignal => ({ traces: 0, metrics: 0, logs: 0 });

export class RelayStats {
  readonly received = zero();
  /** Requests accepted by the receivers. */
  readonly requests = zero();
  readonly exported = zero();
  readonly rejectedByCollector = zero();
  readonly spilled = zero();
  /** Dropped items by reason, then by signal. */
  readonly dropped: Record<string, PerSignal> = {};
  /** Export requests made to the collector (batches), by signal. */
  readonly exportRequests = zero();
  readonly flushDurationsMs: number[] = [];
  readonly postRuntimeMs: number[] = [];
  invalidRequests = 0;
  invocations = 0;
  configProblems = 0;

  invocationsSeen(): number {
    return this.invocations;
  }

  drop(reason: string, signal: Signal, items: number): void {
    if (items <= 0) return;
    this.dropped[reason] ??= zero();
    this.dropped[reason][signal] += items;
  }

  droppedTotal(signal?: Signal): number {
    let n = 0;
    for (const per of Object.values(this.dropped)) {
      n += signal ? per[signal] : per.traces + per.metrics + per.logs;
    }
    return n;
  }
}
