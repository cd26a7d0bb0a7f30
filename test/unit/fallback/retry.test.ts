import { describe, expect, it } from 'vitest';
import {
  type AttemptResult,
  backoffMs,
  classify,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  withRetry,
} from '../../../src/extension/export/retry.js';

function fakeTime(start = 1_700_000_000_000) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

function scripted(results: AttemptResult[], time?: ReturnType<typeof fakeTime>, costMs = 0) {
  let i = 0;
  return async () => {
    time?.advance(costMs);
    const r = results[Math.min(i, results.length - 1)];
    i++;
    if (!r) throw new Error('script empty');
    return r;
  };
}

describe('classify', () => {
  it('retries exactly 429, 502, 503 and 504 among HTTP statuses', () => {
    const retried = [400, 401, 403, 404, 408, 413, 429, 500, 501, 502, 503, 504].filter(
      (status) => classify({ kind: 'http', status }, 0).retry,
    );
    expect(retried).toEqual([429, 502, 503, 504]);
  });

  it('retries timeouts and network errors and not aborts', () => {
    expect(classify({ kind: 'timeout' }, 0).retry).toBe(true);
    expect(classify({ kind: 'network', code: 'ECONNREFUSED' }, 0).retry).toBe(true);
    expect(classify({ kind: 'aborted' }, 0).retry).toBe(false);
  });

  it('retries UNAVAILABLE but RESOURCE_EXHAUSTED only with retry info', () => {
    expect(classify({ kind: 'grpc', code: 14 }, 0).retry).toBe(true);
    expect(classify({ kind: 'grpc', code: 8 }, 0).retry).toBe(false);
    expect(classify({ kind: 'grpc', code: 8, retryAfterMs: 100 }, 0).retry).toBe(true);
    expect(classify({ kind: 'grpc', code: 3 }, 0).retry).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
  });
  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('Sat, 21 Nov 2026 08:00:00 GMT');
    expect(parseRetryAfter('Sat, 21 Nov 2026 08:00:02 GMT', now)).toBe(2000);
  });
  it('ignores garbage', () => {
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});

describe('backoffMs', () => {
  it('grows by the multiplier, stays within the jitter band and the cap', () => {
    const p = DEFAULT_RETRY_POLICY;
    expect(backoffMs(p, 1, () => 0.5)).toBe(p.initialBackoffMs);
    expect(backoffMs(p, 2, () => 0.5)).toBe(Math.round(p.initialBackoffMs * p.multiplier));
    expect(backoffMs(p, 1, () => 0)).toBe(Math.round(p.initialBackoffMs * (1 - p.jitter)));
    expect(backoffMs(p, 1, () => 1)).toBe(Math.round(p.initialBackoffMs * (1 + p.jitter)));
    expect(backoffMs(p, 50, () => 0.5)).toBe(p.maxBackoffMs);
  });
});

describe('withRetry', () => {
  it('delivers after retryable failures', async () => {
    const time = fakeTime();
    const out = await withRetry(
      scripted([{ kind: 'http', status: 503 }, { kind: 'network', code: 'ECONNRESET' }, { kind: 'success' }]),
      { deadline: time.now() + 10_000 },
      { now: time.now, sleep: time.sleep, random: () => 0.5 },
    );
    expect(out).toEqual({ delivered: true, attempts: 3, rejected: 0 });
    expect(time.sleeps).toEqual([50, 75]);
  });

  it('fails fast on a 400 without sleeping', async () => {
    const time = fakeTime();
    const out = await withRetry(
      scripted([{ kind: 'http', status: 400, message: 'bad' }]),
      { deadline: time.now() + 10_000 },
      { now: time.now, sleep: time.sleep },
    );
    expect(out).toMatchObject({ delivered: false, attempts: 1, cause: 'rejected' });
    expect(time.sleeps).toEqual([]);
  });

  it('reports partial success as delivered with the rejected count', async () => {
    const time = fakeTime();
    const out = await withRetry(
      scripted([{ kind: 'success', rejected: 2, message: 'dropped 2' }]),
      { deadline: time.now() + 1000 },
      { now: time.now, sleep: time.sleep },
    );
    expect(out).toEqual({ delivered: true, attempts: 1, rejected: 2, message: 'dropped 2' });
  });

  it('honours Retry-After instead of its own back-off', async () => {
    const time = fakeTime();
    await withRetry(
      scripted([{ kind: 'http', status: 429, retryAfter: '2' }, { kind: 'success' }]),
      { deadline: time.now() + 10_000 },
      { now: time.now, sleep: time.sleep, random: () => 0.5 },
    );
    expect(time.sleeps).toEqual([2000]);
  });

  it('gives up without sleeping when Retry-After is past the deadline', async () => {
    const time = fakeTime();
    const out = await withRetry(
      scripted([{ kind: 'http', status: 503, retryAfter: '5' }, { kind: 'success' }]),
      { deadline: time.now() + 1000 },
      { now: time.now, sleep: time.sleep },
    );
    expect(out).toMatchObject({ delivered: false, attempts: 1, cause: 'unavailable', retryAfterMs: 5000 });
    expect(time.sleeps).toEqual([]);
  });

  it('never lets attempts and sleeps pass the deadline', async () => {
    const time = fakeTime();
    const start = time.now();
    // Each attempt times out after 120 ms or at the deadline, as a budget-respecting exporter does.
    const out = await withRetry(
      async (budget) => {
        time.advance(Math.min(120, budget.deadline - time.now()));
        return { kind: 'timeout' };
      },
      { deadline: start + 500 },
      {
        now: time.now,
        sleep: time.sleep,
        random: () => 1,
        policy: { ...DEFAULT_RETRY_POLICY, maxAttempts: 50 },
      },
    );
    expect(out.delivered).toBe(false);
    expect(time.now()).toBeLessThanOrEqual(start + 500);
  });

  it('stops after maxAttempts and says the backend is unavailable', async () => {
    const time = fakeTime();
    const out = await withRetry(
      scripted([{ kind: 'http', status: 502 }]),
      { deadline: time.now() + 60_000 },
      { now: time.now, sleep: time.sleep, random: () => 0.5 },
    );
    expect(out).toMatchObject({ delivered: false, attempts: 5, cause: 'unavailable' });
    expect(time.sleeps).toHaveLength(4);
  });

  it('makes no attempt when the budget is already spent', async () => {
    const time = fakeTime();
    let calls = 0;
    const out = await withRetry(
      async () => {
        calls++;
        return { kind: 'success' };
      },
      { deadline: time.now() },
      { now: time.now, sleep: time.sleep },
    );
    expect(calls).toBe(0);
    expect(out).toMatchObject({ delivered: false, attempts: 0, cause: 'budget' });
  });
});

describe('withRetry with outcomes the transport already classified', () => {
  it('retries a retryable outcome after its Retry-After', async () => {
    const time = fakeTime();
    const out = await withRetry(
      scripted([{ kind: 'retryable', message: 'HTTP 503', retryAfterMs: 300 }, { kind: 'success' }]),
      { deadline: time.now() + 10_000 },
      { now: time.now, sleep: time.sleep },
    );
    expect(out.delivered).toBe(true);
    expect(time.sleeps).toEqual([300]);
  });

  it('gives a notThisFlush outcome up at once as unavailable, keeping its Retry-After for the breaker', async () => {
    const time = fakeTime();
    const out = await withRetry(
      scripted([
        { kind: 'retryable', message: 'no auth headers yet', retryAfterMs: 300, notThisFlush: true },
        { kind: 'success' },
      ]),
      { deadline: time.now() + 10_000 },
      { now: time.now, sleep: time.sleep },
    );
    expect(out).toEqual({
      delivered: false,
      attempts: 1,
      cause: 'unavailable',
      reason: 'no auth headers yet',
      retryAfterMs: 300,
    });
    expect(time.sleeps).toEqual([]);
  });

  it('reports a failed outcome with its status as rejected', async () => {
    const time = fakeTime();
    const out = await withRetry(
      scripted([{ kind: 'failed', message: 'HTTP 500', status: 500 }]),
      { deadline: time.now() + 10_000 },
      { now: time.now, sleep: time.sleep },
    );
    expect(out).toMatchObject({ delivered: false, cause: 'rejected', status: 500 });
  });

  it('reads a status-less failure at the deadline as the budget running out, not a rejection', async () => {
    const time = fakeTime();
    const out = await withRetry(
      async (budget) => {
        time.advance(budget.deadline - time.now());
        return { kind: 'failed', message: 'budget gone' };
      },
      { deadline: time.now() + 100 },
      { now: time.now, sleep: time.sleep },
    );
    expect(out).toMatchObject({ delivered: false, cause: 'budget' });
  });
});
