import { describe, expect, it } from 'vitest';
import { type BreakerStateChange, CircuitBreaker } from '../../../src/extension/export/breaker.js';

function setup(opts: { threshold?: number; openMs?: number } = {}) {
  let t = 1_000;
  const changes: BreakerStateChange[] = [];
  const breaker = new CircuitBreaker({
    name: 'collector',
    failureThreshold: opts.threshold ?? 3,
    openMs: opts.openMs ?? 1000,
    maxOpenMs: 3000,
    now: () => t,
    onStateChange: (c) => changes.push(c),
  });
  return { breaker, changes, advance: (ms: number) => (t += ms), now: () => t };
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures and refuses callers', () => {
    const { breaker, changes } = setup();
    breaker.recordFailure('HTTP 503');
    breaker.recordFailure('HTTP 503');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure('HTTP 503');
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(changes).toEqual([
      expect.objectContaining({
        from: 'closed',
        to: 'open',
        reason: 'HTTP 503',
        retryAt: 2000,
        consecutiveFailures: 3,
      }),
    ]);
  });

  it('resets the count on success so scattered failures never open it', () => {
    const { breaker } = setup();
    for (let i = 0; i < 10; i++) {
      breaker.recordFailure('timeout');
      breaker.recordFailure('timeout');
      breaker.recordSuccess();
    }
    expect(breaker.state).toBe('closed');
  });

  it('lets exactly one probe through after the cool-down and closes on its success', () => {
    const { breaker, advance, changes } = setup({ threshold: 1 });
    breaker.recordFailure('ECONNREFUSED');
    advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(false);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes.map((c) => c.to)).toEqual(['open', 'half-open', 'closed']);
  });

  it('re-opens for twice as long, up to the cap, when the probe fails', () => {
    const { breaker, advance, now } = setup({ threshold: 1 });
    breaker.recordFailure('down');
    const opens: number[] = [];
    for (let i = 0; i < 4; i++) {
      advance(10_000);
      expect(breaker.tryAcquire()).toBe(true);
      breaker.recordFailure('still down');
      opens.push((breaker.snapshot().retryAt ?? 0) - now());
    }
    expect(opens).toEqual([2000, 3000, 3000, 3000]);
  });

  it('stays open at least as long as Retry-After asks', () => {
    const { breaker, now } = setup({ threshold: 1 });
    breaker.recordFailure('HTTP 429', 60_000);
    expect((breaker.snapshot().retryAt ?? 0) - now()).toBe(60_000);
  });

  it('lets another caller probe when a probe is released without a verdict', () => {
    const { breaker, advance } = setup({ threshold: 1 });
    breaker.recordFailure('down');
    advance(1000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
  });
  it('forceProbe lets one caller through during the cool-down, and the waiters learn its verdict', async () => {
    const { breaker, now } = setup({ threshold: 1 });
    breaker.recordFailure('down');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.forceProbe('last chance')).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(breaker.forceProbe('last chance')).toBe(false);
    const waited = breaker.whenProbed(now() + 10_000);
    breaker.recordSuccess();
    expect(await waited).toBe(true);
    expect(breaker.state).toBe('closed');
  });

  it('forceProbe respects a Retry-After the backend sent', () => {
    const { breaker, advance } = setup({ threshold: 1 });
    breaker.recordFailure('HTTP 429', 30_000);
    expect(breaker.forceProbe('last chance')).toBe(false);
    advance(30_000);
    expect(breaker.forceProbe('last chance')).toBe(true);
  });
});
