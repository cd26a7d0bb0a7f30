// Counters the extension keeps about itself, and THE LEDGER: every item a receiver (or the relay
// itself) accepted ends in exactly one state, per signal, so that
//   received = exported + spilled + rejected + dropped + filtered
// holds at all times outside a flush in flight and the buffer's content. With several destinations the
// same holds per destination (see `DestinationLine`). Turned into OTLP metrics by self.ts and into the
// final "shut down" log line.
import type { Signal } from '../../otlp/index.js';

export type PerSignal = Record<Signal, number>;
const zero = (): PerSignal => ({ traces: 0, metrics: 0, logs: 0 });
const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** The states an accepted item can end in. */
export type LedgerState = 'exported' | 'spilled' | 'rejected' | 'dropped' | 'filtered';

/** One destination's own line: the states of the items offered to it. */
export interface DestinationLine {
  offered: PerSignal;
  exported: PerSignal;
  spilled: PerSignal;
  rejected: PerSignal;
  dropped: PerSignal;
  /** Spilled items a later replay delivered (they moved from `spilled` to `exported`). */
  replayed: PerSignal;
}

function newLine(): DestinationLine {
  return {
    offered: zero(),
    exported: zero(),
    spilled: zero(),
    rejected: zero(),
    dropped: zero(),
    replayed: zero(),
  };
}

export class RelayStats {
  readonly received = zero();
  /** Requests accepted by the receivers. */
  readonly requests = zero();
  readonly exported = zero();
  /** Refused for good by a destination: OTLP partial_success, or a refusal of the data itself. */
  readonly rejected = zero();
  readonly spilled = zero();
  /** Spilled items that a replay later delivered: counted in `exported` now, no longer in `spilled`. */
  readonly replayed = zero();
  /** Dropped items by reason, then by signal. */
  readonly dropped: Record<string, PerSignal> = {};
  /** Items removed on purpose (processors, a signal routed to `none`), by reason, then by signal. */
  readonly filtered: Record<string, PerSignal> = {};
  /** Per destination, when there are several. */
  readonly destinations: Record<string, DestinationLine> = {};
  /** Export requests made to the destinations (batches), by signal. */
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

  filter(reason: string, signal: Signal, items: number): void {
    if (items <= 0) return;
    this.filtered[reason] ??= zero();
    this.filtered[reason][signal] += items;
  }

  /** A spilled batch settled by a replay: its items move from `spilled` to `exported` or `rejected`. */
  settleSpilled(
    signal: Signal,
    state: 'exported' | 'rejected',
    items: number,
    line?: DestinationLine,
    topLevel = true,
  ): void {
    const lines: Array<Pick<DestinationLine, 'spilled' | 'exported' | 'rejected' | 'replayed'>> = [];
    if (topLevel) lines.push(this);
    if (line) lines.push(line);
    for (const l of lines) {
      l.spilled[signal] -= items;
      l[state][signal] += items;
      if (state === 'exported') l.replayed[signal] += items;
    }
  }

  destination(name: string): DestinationLine {
    this.destinations[name] ??= newLine();
    return this.destinations[name];
  }

  droppedTotal(signal?: Signal): number {
    return total(this.dropped, signal);
  }

  filteredTotal(signal?: Signal): number {
    return total(this.filtered, signal);
  }

  /** The ledger as the final log line and the docs show it: each state an object keyed by signal. */
  ledger(): Record<string, unknown> {
    const by = (f: (s: Signal) => number) => Object.fromEntries(SIGNALS.map((s) => [s, f(s)]));
    const out: Record<string, unknown> = {
      received: { ...this.received },
      exported: { ...this.exported },
      spilled: { ...this.spilled },
      rejected: { ...this.rejected },
      dropped: by((s) => this.droppedTotal(s)),
      filtered: by((s) => this.filteredTotal(s)),
    };
    if (SIGNALS.some((s) => this.replayed[s] > 0)) out.replayed = { ...this.replayed };
    if (Object.keys(this.destinations).length > 1) out.destinations = structuredClone(this.destinations);
    return out;
  }

  /** received − (exported + spilled + rejected + dropped + filtered), per signal: what is still held. */
  unsettled(signal: Signal): number {
    return (
      this.received[signal] -
      this.exported[signal] -
      this.spilled[signal] -
      this.rejected[signal] -
      this.droppedTotal(signal) -
      this.filteredTotal(signal)
    );
  }
}

function total(by: Record<string, PerSignal>, signal?: Signal): number {
  let n = 0;
  for (const per of Object.values(by)) n += signal ? per[signal] : per.traces + per.metrics + per.logs;
  return n;
}
