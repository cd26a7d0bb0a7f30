// A circuit breaker in front of a backend (the collector, or S3). After `failureThreshold`
// consecutive failed deliveries it opens: callers skip the backend and go straight to the fallback,
// so a dead collector costs an invocation nothing instead of a timeout. After `openMs` one caller
// is let through as a probe (half-open); its success closes the breaker, its failure re-opens it
// for twice as long (up to `maxOpenMs`).

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Shown in logs: "collector", "s3". */
  name: string;
  failureThreshold?: number;
  openMs?: number;
  maxOpenMs?: number;
  now?: () => number;
  onStateChange?: (change: BreakerStateChange) => void;
}

export interface BreakerStateChange {
  name: string;
  from: BreakerState;
  to: BreakerState;
  /** Why: the failure that tripped it, "probe succeeded", ... */
  reason: string;
  /** When open: epoch ms at which a probe will be allowed. */
  retryAt?: number;
  consecutiveFailures: number;
}

export interface BreakerSnapshot {
  state: BreakerState;
  consecutiveFailures: number;
  opens: number;
  retryAt?: number;
}

export class CircuitBreaker {
  readonly name: string;
  private readonly failureThreshold: number;
  private readonly baseOpenMs: number;
  private readonly maxOpenMs: number;
  private readonly now: () => number;
  private readonly onStateChange: ((change: BreakerStateChange) => void) | undefined;

  private current: BreakerState = 'closed';
  private failures = 0;
  private openMs: number;
  private retryAt = 0;
  /** Until when the backend itself asked to be left alone (Retry-After); even SHUTDOWN waits for it. */
  private heldUntil = 0;
  private probeInFlight = false;
  private probeWaiters: Array<() => void> = [];
  private opens = 0;

  constructor(options: BreakerOptions) {
    this.name = options.name;
    this.failureThreshold = options.failureThreshold ?? 3;
    this.baseOpenMs = options.openMs ?? 10_000;
    this.maxOpenMs = options.maxOpenMs ?? 300_000;
    this.now = options.now ?? Date.now;
    this.onStateChange = options.onStateChange;
    this.openMs = this.baseOpenMs;
  }

  get state(): BreakerState {
    return this.current;
  }

  snapshot(): BreakerSnapshot {
    const s: BreakerSnapshot = { state: this.current, consecutiveFailures: this.failures, opens: this.opens };
    if (this.current === 'open') s.retryAt = this.retryAt;
    return s;
  }

  /**
   * May this caller use the backend now? Closed: yes. Open: no, until `retryAt`, when the first
   * caller becomes the probe (half-open) and the others keep being refused until it reports.
   */
  tryAcquire(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.now() < this.retryAt) return false;
      this.transition('half-open', 'cool-down elapsed; probing');
    }
    if (this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  /** A probe is out and has not reported yet. */
  get probing(): boolean {
    return this.probeInFlight;
  }

  /**
   * Lets one caller through now, whatever the cool-down says: SHUTDOWN is the last chance, and a
   * backend that came back during the cool-down must not be skipped then. False while a probe is out,
   * or while the backend's own Retry-After holds.
   */
  forceProbe(reason: string): boolean {
    if (this.current === 'closed') return true;
    if (this.probeInFlight || this.now() < this.heldUntil) return false;
    if (this.current === 'open') this.transition('half-open', reason);
    this.probeInFlight = true;
    return true;
  }

  /**
   * Resolves when the probe in flight reports (at once when none is out), or at `deadline` (clock ms)
   * or `abort`, whichever is first: true when the probe reported.
   */
  whenProbed(deadline: number, abort?: AbortSignal): Promise<boolean> {
    if (!this.probeInFlight) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (reported: boolean) => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        this.probeWaiters = this.probeWaiters.filter((w) => w !== onReport);
        resolve(reported);
      };
      const onReport = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(onAbort, Math.max(0, deadline - this.now()));
      abort?.addEventListener('abort', onAbort, { once: true });
      this.probeWaiters.push(onReport);
    });
  }

  private probeReported(): void {
    this.probeInFlight = false;
    const waiters = this.probeWaiters;
    this.probeWaiters = [];
    for (const w of waiters) w();
  }

  /** The backend confirmed a delivery. */
  recordSuccess(): void {
    this.failures = 0;
    this.probeReported();
    if (this.current !== 'closed') {
      this.openMs = this.baseOpenMs;
      this.transition('closed', 'probe succeeded');
    }
  }

  /**
   * A delivery failed in a way that says the backend is unhealthy (retryable errors, timeouts).
   * `retryAfterMs` (from Retry-After) holds the breaker open at least that long.
   */
  recordFailure(reason: string, retryAfterMs?: number): void {
    this.failures++;
    if (this.current === 'half-open') {
      this.probeReported();
      this.openMs = Math.min(this.openMs * 2, this.maxOpenMs);
      this.open(reason, retryAfterMs);
      return;
    }
    if (this.current === 'closed' && this.failures >= this.failureThreshold) this.open(reason, retryAfterMs);
  }

  /** A probe ended without a verdict (aborted by the budget): let the next caller probe. */
  release(): void {
    this.probeReported();
  }

  private open(reason: string, retryAfterMs?: number): void {
    this.retryAt = this.now() + Math.max(this.openMs, retryAfterMs ?? 0);
    this.heldUntil = retryAfterMs ? this.now() + retryAfterMs : 0;
    this.opens++;
    this.transition('open', reason);
  }

  private transition(to: BreakerState, reason: string): void {
    const from = this.current;
    this.current = to;
    const change: BreakerStateChange = {
      name: this.name,
      from,
      to,
      reason,
      consecutiveFailures: this.failures,
    };
    if (to === 'open') change.retryAt = this.retryAt;
    this.onStateChange?.(change);
  }
}
