import type { Clock, FlushBudget, FlushReason } from '../export/types.js';

export interface OwnedBudget {
  budget: FlushBudget;
  /** Aborts now (e.g. `next` must be called). */
  abort(why: string): void;
  /** Clears the deadline timer. */
  dispose(): void;
}

/** A budget ending at `deadline` (clock ms): its AbortSignal fires then, or when `abort` is called. */
export function createBudget(clock: Clock, deadline: number, reason: FlushReason): OwnedBudget {
  const controller = new AbortController();
  const ms = Math.max(0, deadline - clock.now());
  const timer = setTimeout(() => controller.abort(new Error('flush budget ended')), ms);
  timer.unref?.();
  return {
    budget: { deadline, abort: controller.signal, reason },
    abort: (why) => controller.abort(new Error(why)),
    dispose: () => clearTimeout(timer),
  };
}

/**
 * The budget of a flush before `next`: min(flush timeout, invocation deadline − margin), from now.
 * Never negative: a flush with no time left does nothing.
 */
export function invokeFlushDeadline(
  now: number,
  invocationDeadline: number,
  flushTimeoutMs: number,
  marginMs: number,
): number {
  return Math.max(now, Math.min(now + flushTimeoutMs, invocationDeadline - marginMs));
}
