// Fan-out: every batch goes to each destination its signal is routed to. Each destination has its own
// delivery chain (retry -> breaker gate -> spill to S3 -> spool), its own queue of batches it could
// not take yet, and its own ledger line; all share one flush budget and run side by side, so a slow
// or dead destination costs the others no more than the budget, and loses them nothing.
import type { Signal } from '../../otlp/index.js';
import { BudgetExpired, withinBudget } from '../destinations/session.js';
import type { Batch, Clock, Delivery, DeliveryResult, FlushBudget, Logger } from '../export/types.js';
import { itemsText } from '../log.js';
import type { DestinationLine, RelayStats } from '../telemetry/stats.js';

export interface Route {
  name: string;
  signals: ReadonlySet<Signal>;
  delivery: Delivery;
  /** The destination's own SHUTDOWN step (see Destination.shutdown). Without it, `close` is called. */
  shutdown?: (budget: FlushBudget) => Promise<void>;
  /** Drops the destination's connections at once; also for a `shutdown` still running at the deadline. */
  close?: () => void;
}

interface Lane extends Route {
  line: DestinationLine;
  /** Batches this destination retained while others took them: its own queue position. */
  pending: Batch[];
  pendingBytes: number;
}

/** Kind of a result, from the least delivered to the most (the top-level ledger takes the least). */
const RANK: Record<DeliveryResult['kind'], number> = {
  dropped: 0,
  rejected: 1,
  spilled: 2,
  split: 3,
  filtered: 3,
  exported: 4,
  retained: 5,
};

/** Items of a result that reached the destination (exported, not rejected). */
function delivered(r: DeliveryResult): number {
  switch (r.kind) {
    case 'exported':
      return r.items - r.rejected;
    case 'split':
      return r.parts.reduce((n, p) => n + delivered(p.result), 0);
    case 'filtered':
      return r.rest ? delivered(r.rest.result) : 0;
    default:
      return 0;
  }
}

/** Records one destination's result for a batch in its own ledger line. */
export function recordInLine(line: DestinationLine, signal: Signal, r: DeliveryResult): void {
  switch (r.kind) {
    case 'exported':
      line.exported[signal] += r.items - r.rejected;
      line.rejected[signal] += r.rejected;
      return;
    case 'spilled':
      line.spilled[signal] += r.items;
      return;
    case 'rejected':
      line.rejected[signal] += r.items;
      return;
    case 'dropped':
      line.dropped[signal] += r.items;
      return;
    case 'split':
      for (const p of r.parts) recordInLine(line, signal, p.result);
      return;
    case 'filtered':
      if (r.rest) recordInLine(line, signal, r.rest.result);
      return;
    case 'retained':
      return;
  }
}

export interface FanOutOptions {
  routes: Route[];
  stats: RelayStats;
  log: Logger;
  clock: Clock;
  /** Bytes of retained batches one destination may queue before it spills them instead. */
  maxPendingBytes: number;
  /** Signals routed to `none`: their batches are filtered. Any other signal without a route is dropped. */
  discard: ReadonlySet<Signal>;
}

export function createFanOut(opts: FanOutOptions): Delivery {
  const lanes: Lane[] = opts.routes.map((r) => ({
    ...r,
    line: opts.stats.destination(r.name),
    pending: [],
    pendingBytes: 0,
  }));
  const lanesOf = (signal: Signal) => lanes.filter((l) => l.signals.has(signal));
  // Routed to `none` on purpose: removed, as a processor would, never counted as lost. A signal whose
  // only destinations could not be set up has nowhere to go: that is a loss, said once per batch.
  const unrouted = (batch: Batch): DeliveryResult =>
    opts.discard.has(batch.signal)
      ? { kind: 'filtered', items: batch.items, filtered: batch.items, reason: 'exporter_none' }
      : {
          kind: 'dropped',
          items: batch.items,
          reason: 'no_destination',
          detail: 'none of their destinations could be set up (see the error logged at start)',
        };

  /** Sends a destination's queued batches first, oldest first; stops at the first it keeps again. */
  async function drainPending(lane: Lane, budget: FlushBudget): Promise<void> {
    while (lane.pending.length > 0) {
      if (budget.abort.aborted || opts.clock.now() >= budget.deadline) return;
      const batch = lane.pending[0]!;
      // Over its share of memory: spill it rather than keep waiting for the destination. At SHUTDOWN it
      // is delivered (the destination gets its last-chance probe), which spills what it does not take.
      const spill = lane.pendingBytes > opts.maxPendingBytes;
      const r =
        spill && lane.delivery.spill
          ? await lane.delivery.spill(batch, budget)
          : await lane.delivery.deliver(batch, budget);
      if (r.kind === 'retained') {
        if (budget.reason === 'shutdown') {
          lane.pending.shift();
          lane.pendingBytes -= batch.body.byteLength;
          lane.line.dropped[batch.signal] += batch.items;
          opts.log.error(
            `${itemsText(batch.signal, batch.items)} for ${lane.name} dropped: the destination did not take them before SHUTDOWN and they could not be spilled (${r.reason})`,
          );
          continue;
        }
        return;
      }
      lane.pending.shift();
      lane.pendingBytes -= batch.body.byteLength;
      recordInLine(lane.line, batch.signal, r);
    }
  }

  return {
    async replay(budget) {
      await Promise.all(
        lanes.map(async (lane) => {
          try {
            await lane.delivery.replay?.(budget);
          } catch (err) {
            opts.log.warn(`replay of ${lane.name}'s spilled data failed; it stays where it is`, {
              error: err,
            });
          }
          await drainPending(lane, budget);
        }),
      );
    },

    async deliver(batch, budget) {
      const targets = lanesOf(batch.signal);
      // Routed to `none` on purpose: removed, as a processor would, never counted as lost.
      if (targets.length === 0) return unrouted(batch);
      for (const l of targets) l.line.offered[batch.signal] += batch.items;
      // A destination with batches still queued takes this one behind them: its order is kept.
      const results = await Promise.all(
        targets.map(async (lane) => {
          if (lane.pending.length > 0) return { lane, r: undefined };
          try {
            return { lane, r: await lane.delivery.deliver(batch, budget) };
          } catch (err) {
            return {
              lane,
              r: { kind: 'retained', items: batch.items, reason: String(err) } as DeliveryResult,
            };
          }
        }),
      );
      const settled = results.filter(
        (x): x is { lane: Lane; r: DeliveryResult } => !!x.r && x.r.kind !== 'retained',
      );
      if (settled.length === 0) {
        // Nobody took it: it goes back to the buffer as one batch (no destination has it twice).
        for (const l of targets) l.line.offered[batch.signal] -= batch.items;
        const reasons = results.map(
          (x) => `${x.lane.name}: ${x.r?.kind === 'retained' ? x.r.reason : 'queued'}`,
        );
        return { kind: 'retained', items: batch.items, reason: reasons.join('; ') };
      }
      for (const { lane, r } of results) {
        if (r && r.kind !== 'retained') recordInLine(lane.line, batch.signal, r);
        else {
          lane.pending.push(batch);
          lane.pendingBytes += batch.body.byteLength;
        }
      }
      // The top-level ledger counts each item once: in the state of the destination that did worst.
      let worst = settled[0]!.r;
      for (const { r } of settled.slice(1)) {
        const a = delivered(r);
        const b = delivered(worst);
        if (a < b || (a === b && RANK[r.kind] < RANK[worst.kind])) worst = r;
      }
      return worst;
    },

    async spill(batch, budget) {
      const targets = lanesOf(batch.signal);
      if (targets.length === 0) return unrouted(batch);
      for (const l of targets) l.line.offered[batch.signal] += batch.items;
      const results = await Promise.all(
        targets.map(async (lane) => ({
          lane,
          r: lane.delivery.spill
            ? await lane.delivery.spill(batch, budget)
            : await lane.delivery.deliver(batch, budget),
        })),
      );
      if (results.every((x) => x.r.kind === 'retained')) {
        for (const l of targets) l.line.offered[batch.signal] -= batch.items;
        return results[0]?.r ?? { kind: 'retained', items: batch.items, reason: 'no destination' };
      }
      let worst: DeliveryResult | undefined;
      for (const { lane, r } of results) {
        if (r.kind === 'retained') {
          lane.pending.push(batch);
          lane.pendingBytes += batch.body.byteLength;
          continue;
        }
        recordInLine(lane.line, batch.signal, r);
        if (!worst || delivered(r) < delivered(worst) || RANK[r.kind] < RANK[worst.kind]) worst = r;
      }
      return worst!;
    },

    async shutdown(budget) {
      // Side by side, each bounded by the same deadline: a hung peer costs the others nothing and never
      // holds the exit past the deadline (its connections are dropped then).
      await Promise.all(
        lanes.map(async (lane) => {
          if (!lane.shutdown) return lane.close?.();
          try {
            await withinBudget(lane.shutdown(budget), budget, opts.clock, () => lane.close?.());
          } catch (err) {
            if (err instanceof BudgetExpired) {
              opts.log.warn(
                `${lane.name} did not shut down before the SHUTDOWN deadline (${err.message}); its connections were dropped`,
              );
              return;
            }
            lane.close?.();
            opts.log.warn(`${lane.name} failed to shut down cleanly; its connections were dropped`, {
              error: err,
            });
          }
        }),
      );
    },

    state() {
      const s: Record<string, string | number> = {};
      for (const lane of lanes) {
        for (const [k, v] of Object.entries(lane.delivery.state?.() ?? {})) s[`${lane.name}.${k}`] = v;
        if (lane.pending.length > 0) s[`${lane.name}.pendingBatches`] = lane.pending.length;
      }
      return s;
    },
  };
}
