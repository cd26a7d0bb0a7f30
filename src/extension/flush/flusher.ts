// Runs flushes: takes batches out of the buffer, hands each to the Delivery, accounts for every
// item, and puts back what was not delivered. One run at a time; a run never outlives its budget.
import type { Signal } from '../../otlp/index.js';
import type { TelemetryBuffer } from '../buffer/index.js';
import type { Batch, Clock, Delivery, DeliveryResult, FlushBudget, Logger } from '../export/types.js';
import { itemsText } from '../log.js';
import type { RelayStats } from '../telemetry/stats.js';
import { createBudget } from './budget.js';

const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];
/** The most `settle` waits, past the deadline, for an aborted run to hand its batches back. */
export const ABORT_GRACE_MS = 25;

export interface FlushSummary {
  reason: FlushBudget['reason'];
  durationMs: number;
  batches: number;
  exported: number;
  spilled: number;
  retained: number;
  dropped: number;
  /** True when the budget ended before the buffer was empty. */
  outOfBudget: boolean;
}

export class Flusher {
  private active: { promise: Promise<FlushSummary>; abort(why: string): void } | undefined;
  /**
   * Signals whose last batch was kept back. Logs stay quiet through an outage: the change to keeping
   * data back is said once at info, each repeat (one per invocation while a breaker is open) at debug.
   */
  private readonly retaining = new Set<Signal>();
  /** Clock ms the last run that sent anything ended (start time before the first): `periodic` counts from it. */
  lastFlushAt: number;

  constructor(
    private readonly buffer: TelemetryBuffer,
    private readonly delivery: Delivery,
    private readonly stats: RelayStats,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.lastFlushAt = clock.now();
  }

  get running(): boolean {
    return this.active !== undefined;
  }

  /**
   * Flushes until the buffer is empty or the deadline; if a run is already going, waits for it and
   * then flushes what is left. Never rejects.
   */
  async flush(deadline: number, reason: FlushBudget['reason']): Promise<FlushSummary> {
    // A run already going (started at INVOKE, or continuous) is given the same deadline, not its own.
    if (this.active) await this.settle(deadline);
    if (this.active) {
      // It ignored its abort: never stack a second run on top of a stuck one.
      this.log.error('a flush did not stop at its deadline; its batches stay with it', { reason });
      return { ...emptySummary(reason), outOfBudget: true };
    }
    return this.start(deadline, reason).promise;
  }

  /** Starts a run in the background (no-op when one is going or nothing is buffered). */
  startBackground(deadline: number, reason: FlushBudget['reason']): void {
    if (this.active || this.buffer.isEmpty()) return;
    this.start(deadline, reason);
  }

  /**
   * Waits for the run in flight until `deadline`, then aborts it and waits for it to put its
   * batches back. After this resolves nothing is in flight (the precondition of `next`).
   */
  async settle(deadline: number): Promise<void> {
    const run = this.active;
    if (!run) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - this.clock.now()));
    });
    const first = await Promise.race([run.promise, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout') {
      run.abort('next must be called: nothing may be in flight across a freeze');
      // A Delivery honours its abort signal at once; this short bound only guards against one that does
      // not, and stays well inside the deadline margin.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([run.promise, new Promise((r) => (grace = setTimeout(r, ABORT_GRACE_MS)))]);
      clearTimeout(grace);
    }
  }

  private start(deadline: number, reason: FlushBudget['reason']) {
    const owned = createBudget(this.clock, deadline, reason);
    const promise = this.run(owned.budget).finally(() => {
      owned.dispose();
      if (this.active?.promise === promise) this.active = undefined;
    });
    this.active = { promise, abort: owned.abort };
    return this.active;
  }

  private async run(budget: FlushBudget): Promise<FlushSummary> {
    const started = this.clock.monotonic();
    const sum = emptySummary(budget.reason);
    try {
      if (this.delivery.replay) await this.delivery.replay(budget);
    } catch (err) {
      this.log.warn('replay of spilled data failed; it stays where it is', { error: err });
    }
    // Evicted data is the oldest: it goes first. One comparison when nothing was evicted.
    if (this.buffer.hasEvicted()) await this.spillEvicted(budget, sum);
    await Promise.all(SIGNALS.map((s) => this.drainSignal(s, budget, sum)));
    // At SHUTDOWN the spool dies with the environment: once the buffer is out, it gets the time left.
    if (budget.reason === 'shutdown' && this.delivery.replay && this.buffer.isEmpty()) {
      try {
        await this.delivery.replay(budget);
      } catch (err) {
        this.log.warn('replay of spilled data failed; it stays where it is', { error: err });
      }
    }
    sum.outOfBudget = !this.buffer.isEmpty() && (budget.abort.aborted || this.clock.now() >= budget.deadline);
    sum.durationMs = this.clock.monotonic() - started;
    if (sum.batches > 0) {
      this.lastFlushAt = this.clock.now();
      this.stats.record(this.stats.flushDurationsMs, sum.durationMs);
      this.log.debug('flush', { ...sum, durationMs: Math.round(sum.durationMs * 100) / 100 });
    }
    return sum;
  }

  private async drainSignal(signal: Signal, budget: FlushBudget, sum: FlushSummary): Promise<void> {
    // Bounded: each pass removes one batch or stops; a buffer refilled concurrently stops at the deadline.
    for (let i = 0; i < 100_000; i++) {
      if (budget.abort.aborted || this.clock.now() >= budget.deadline) return;
      const batch = this.buffer.takeBatch(signal);
      if (!batch) return;
      sum.batches++;
      this.stats.exportRequests[signal]++;
      let result: DeliveryResult;
      try {
        result = await this.delivery.deliver(batch, budget);
      } catch (err) {
        result = { kind: 'retained', items: batch.items, reason: `delivery fault: ${String(err)}` };
        this.log.error('delivery threw; the batch stays buffered', { signal, error: err });
      }
      if (this.account(signal, batch, result, budget, sum) === 'stop') return;
    }
  }

  /** Hands the batches evicted from a full buffer to the fallback, oldest first, within the budget. */
  private async spillEvicted(budget: FlushBudget, sum: FlushSummary): Promise<void> {
    const handedOver = (sig: Signal) => this.stats.spilled[sig] + this.stats.exported[sig];
    const before = SIGNALS.map(handedOver);
    // Bounded: each pass removes one batch or stops.
    for (let i = 0; i < 100_000; i++) {
      if (budget.abort.aborted || this.clock.now() >= budget.deadline) break;
      const batch = this.buffer.takeEvicted();
      if (!batch) break;
      sum.batches++;
      let result: DeliveryResult;
      try {
        result = this.delivery.spill
          ? await this.delivery.spill(batch, budget)
          : await this.delivery.deliver(batch, budget);
      } catch (err) {
        result = { kind: 'retained', items: batch.items, reason: `delivery fault: ${String(err)}` };
        this.log.error('spill of evicted data threw; it stays queued', { signal: batch.signal, error: err });
      }
      if (this.account(batch.signal, batch, result, budget, sum, 'evicted') === 'stop') break;
    }
    const moved = SIGNALS.map((sig, i) => [sig, handedOver(sig) - before[i]!] as const).filter(
      ([, n]) => n > 0,
    );
    if (moved.length > 0) {
      this.log.warn(
        `buffer full: ${moved.map(([sig, n]) => itemsText(sig, n)).join(', ')} evicted (oldest first) to make room for newer data were handed to the fallback instead. Raise OTEL_RELAY_BUFFER_MAX_BYTES or flush more often`,
        { items: moved.reduce((n, [, m]) => n + m, 0) },
      );
    }
  }

  /** Counts and logs what became of one batch; 'stop' when it went back to the buffer. */
  private account(
    signal: Signal,
    batch: Batch,
    result: DeliveryResult,
    budget: FlushBudget,
    sum: FlushSummary,
    from: 'buffer' | 'evicted' = 'buffer',
  ): 'next' | 'stop' {
    if (result.kind !== 'retained') this.retaining.delete(signal);
    switch (result.kind) {
      case 'exported':
        this.stats.exported[signal] += result.items - result.rejected;
        this.stats.rejected[signal] += result.rejected;
        sum.exported += result.items;
        return 'next';
      case 'rejected':
        this.stats.rejected[signal] += result.items;
        sum.dropped += result.items;
        this.log.error(`${itemsText(signal, result.items)} rejected: ${result.detail ?? result.reason}`, {
          signal,
          items: result.items,
          reason: result.reason,
        });
        return 'next';
      case 'filtered':
        this.stats.filter(result.reason, signal, result.filtered);
        if (!result.rest) return 'next';
        return this.account(signal, result.rest.batch, result.rest.result, budget, sum, from);
      case 'spilled':
        this.stats.spilled[signal] += result.items;
        sum.spilled += result.items;
        return 'next';
      case 'dropped':
        this.stats.drop(result.reason, signal, result.items);
        sum.dropped += result.items;
        // The one line for this loss (a Delivery counts and explains it; it does not log it).
        this.log.error(`${itemsText(signal, result.items)} dropped: ${result.detail ?? result.reason}`, {
          signal,
          items: result.items,
          reason: result.reason,
        });
        return 'next';
      case 'split': {
        let next: 'next' | 'stop' = 'next';
        for (const part of result.parts) {
          if (this.account(signal, part.batch, part.result, budget, sum, from) === 'stop') next = 'stop';
        }
        return next;
      }
      case 'retained': {
        sum.retained += result.items;
        const dropped =
          from === 'evicted' ? this.buffer.returnEvicted(batch) : this.buffer.putBack(batch).dropped;
        for (const [s, n] of Object.entries(dropped) as [Signal, number][]) {
          this.stats.drop('buffer_full', s, n);
          this.log.error(
            `${itemsText(s, n)} dropped: the buffer and its queue of evicted data waiting to be spilled are full`,
            { signal: s, items: n, reason: 'buffer_full' },
          );
        }
        if (budget.reason !== 'shutdown') {
          const msg = `${itemsText(signal, result.items)} kept in the buffer for the next flush: ${result.reason}`;
          if (this.retaining.has(signal)) this.log.debug(msg);
          else this.log.info(msg);
          this.retaining.add(signal);
        }
        return 'stop';
      }
    }
  }
}

function emptySummary(reason: FlushBudget['reason']): FlushSummary {
  return {
    reason,
    durationMs: 0,
    batches: 0,
    exported: 0,
    spilled: 0,
    retained: 0,
    dropped: 0,
    outOfBudget: false,
  };
}
