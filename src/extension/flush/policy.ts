// The flush policy: a pure decision from the strategy, the buffer and measured
// invocation arrivals. Time comes in as numbers, so every branch is testable without waiting.
import type { FlushStrategy } from '../settings/types.js';

export interface BufferView {
  bytes: number;
  /** Clock ms the oldest buffered data was accepted; undefined when empty. */
  oldestAcceptedAt: number | undefined;
}

export interface PolicyState {
  now: number;
  buffer: BufferView;
  /** Clock ms the last flush finished (or the extension started). */
  lastFlushAt: number;
  /** Expected time until the next INVOKE, from measured inter-arrival; undefined without history. */
  predictedGapMs: number | undefined;
}

export interface PolicyLimits {
  /** Size past which data goes out before `next` whatever the strategy (memory pressure). */
  sizeLimitBytes: number;
  /** Adaptive: oldest data is never carried past this age if a flush could have sent it. */
  maxAgeMs: number;
  /**
   * Adaptive: data younger than this is not worth an export request of its own while more is expected
   * soon; it waits to be batched with the next invocations' data.
   */
  batchAgeMs: number;
}

export interface Decision {
  flush: boolean;
  reason: string;
}

/** At INVOKE: start exporting what earlier invocations left, overlapping this handler? */
export function exportAtInvokeStart(strategy: FlushStrategy, s: PolicyState, limits: PolicyLimits): boolean {
  if (s.buffer.oldestAcceptedAt === undefined) return false;
  if (s.buffer.bytes >= limits.sizeLimitBytes) return true;
  switch (strategy.kind) {
    case 'periodic':
      return s.now - s.lastFlushAt >= strategy.intervalMs;
    case 'adaptive':
      return s.now - s.buffer.oldestAcceptedAt >= limits.batchAgeMs;
    default:
      return true;
  }
}

/**
 * At INVOKE (adaptive and periodic): is it already clear that this invocation will not flush before
 * `next`? Then the relay need not wait for the end of the invocation at all (which, without the
 * middleware's done signal, costs Lambda's ≥ 25 ms Telemetry API buffering in billed post-runtime
 * time): it calls `next` at once and keeps receiving while the handler runs; the data leaves during a
 * later invocation. Only when invocations arrive steadily and often, and the buffer is far from full:
 * the margins are doubled because the prediction can be wrong.
 */
export function deferWithoutWaiting(strategy: FlushStrategy, s: PolicyState, limits: PolicyLimits): boolean {
  if (s.predictedGapMs === undefined) return false;
  if (s.buffer.bytes * 2 >= limits.sizeLimitBytes) return false;
  if (strategy.kind === 'periodic') return s.now - s.lastFlushAt + 2 * s.predictedGapMs < strategy.intervalMs;
  if (strategy.kind !== 'adaptive') return false;
  const age = s.buffer.oldestAcceptedAt === undefined ? 0 : s.now - s.buffer.oldestAcceptedAt;
  return age + 2 * s.predictedGapMs < limits.maxAgeMs / 2;
}

/** At the end of an invocation, before `next`: flush now under a budget, or carry data across the freeze? */
export function decideAtInvocationEnd(
  strategy: FlushStrategy,
  s: PolicyState,
  limits: PolicyLimits,
): Decision {
  if (s.buffer.oldestAcceptedAt === undefined || s.buffer.bytes === 0)
    return { flush: false, reason: 'empty' };
  if (strategy.kind === 'end') return { flush: true, reason: 'end' };
  if (s.buffer.bytes >= limits.sizeLimitBytes) return { flush: true, reason: 'size' };
  switch (strategy.kind) {
    case 'periodic':
      return s.now - s.lastFlushAt >= strategy.intervalMs
        ? { flush: true, reason: 'interval' }
        : { flush: false, reason: 'interval not reached' };
    case 'continuous':
      // Continuous exports while the function runs; what arrives at the very end waits for the next one.
      return { flush: false, reason: 'continuous' };
    case 'adaptive': {
      const age = s.now - s.buffer.oldestAcceptedAt;
      if (age >= limits.maxAgeMs) return { flush: true, reason: 'stale' };
      if (s.predictedGapMs === undefined) return { flush: true, reason: 'no arrival history' };
      // Deferring means the data leaves during the next invocation; flush now if that is too late.
      if (age + s.predictedGapMs >= limits.maxAgeMs)
        return { flush: true, reason: 'next invocation likely far' };
      return { flush: false, reason: 'next invocation likely soon' };
    }
  }
}

/** Exponentially weighted inter-arrival time of INVOKE events. */
export class ArrivalPredictor {
  private last: number | undefined;
  private ewma: number | undefined;
  constructor(private readonly alpha = 0.3) {}

  /** Records an INVOKE at `now` (clock ms). */
  arrival(now: number): void {
    if (this.last !== undefined) {
      const gap = Math.max(0, now - this.last);
      this.ewma = this.ewma === undefined ? gap : this.alpha * gap + (1 - this.alpha) * this.ewma;
    }
    this.last = now;
  }

  /** Expected time from `now` to the next INVOKE, or undefined before two arrivals were seen. */
  predictGap(now: number): number | undefined {
    if (this.ewma === undefined || this.last === undefined) return undefined;
    return Math.max(0, this.last + this.ewma - now);
  }
}
