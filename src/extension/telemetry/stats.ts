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
  /** Durations since the last self-telemetry emission; bounded (see `record`). */
  readonly flushDurationsMs: number[] = [];
  readonly postRuntimeMs: number[] = [];
  invalidRequests = 0;
  invocations = 0;
  configProblems = 0;

  /**
   * Keeps a duration for the next self-telemetry histogram. Bounded to the latest 4,096 values so a
   * long-lived environment (or one with self-telemetry off) never grows without limit.
   */
  record(series: number[], ms: number): void {
    if (series.length >= 4096) series.splice(0, 2048);
    series.push(ms);
  }

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
