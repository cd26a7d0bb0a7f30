import { describe, expect, it } from 'vitest';
import { invokeFlushDeadline } from '../../../src/extension/flush/budget.js';
import {
  ArrivalPredictor,
  decideAtInvocationEnd,
  deferWithoutWaiting,
  exportAtInvokeStart,
  type PolicyState,
} from '../../../src/extension/flush/policy.js';

const limits = { sizeLimitBytes: 1000, maxAgeMs: 10_000, batchAgeMs: 1000 };
const state = (over: Partial<PolicyState> & { bytes?: number; age?: number }): PolicyState => {
  const now = over.now ?? 100_000;
  const bytes = over.bytes ?? 100;
  return {
    now,
    buffer: { bytes, oldestAcceptedAt: bytes > 0 ? now - (over.age ?? 0) : undefined },
    lastFlushAt: over.lastFlushAt ?? now,
    predictedGapMs: 'predictedGapMs' in over ? over.predictedGapMs : 100,
  };
};

describe('decideAtInvocationEnd', () => {
  it('never flushes an empty buffer, whatever the strategy', () => {
    for (const kind of ['end', 'continuous', 'adaptive'] as const) {
      expect(decideAtInvocationEnd({ kind }, state({ bytes: 0 }), limits).flush).toBe(false);
    }
  });

  it('flushes every invocation under end', () => {
    expect(decideAtInvocationEnd({ kind: 'end' }, state({}), limits)).toEqual({ flush: true, reason: 'end' });
  });

  it('flushes under periodic only once the interval has passed since the last flush', () => {
    const s = { kind: 'periodic' as const, intervalMs: 1000 };
    expect(decideAtInvocationEnd(s, state({ lastFlushAt: 100_000 - 999 }), limits).flush).toBe(false);
    expect(decideAtInvocationEnd(s, state({ lastFlushAt: 100_000 - 1000 }), limits).flush).toBe(true);
  });

  it('flushes any non-end strategy when the buffer is past the size limit', () => {
    for (const s of [
      { kind: 'periodic', intervalMs: 60_000 },
      { kind: 'continuous' },
      { kind: 'adaptive' },
    ] as const) {
      expect(decideAtInvocationEnd(s, state({ bytes: 1000 }), limits)).toEqual({
        flush: true,
        reason: 'size',
      });
    }
  });

  it('defers under adaptive when the next invocation is likely soon and the data is fresh', () => {
    expect(
      decideAtInvocationEnd({ kind: 'adaptive' }, state({ predictedGapMs: 200, age: 50 }), limits),
    ).toEqual({
      flush: false,
      reason: 'next invocation likely soon',
    });
  });

  it('flushes under adaptive when the next invocation is likely far, the data is stale, or there is no history', () => {
    const a = { kind: 'adaptive' as const };
    expect(decideAtInvocationEnd(a, state({ predictedGapMs: 9_990, age: 20 }), limits).reason).toBe(
      'next invocation likely far',
    );
    expect(decideAtInvocationEnd(a, state({ predictedGapMs: 10, age: 10_000 }), limits).reason).toBe('stale');
    expect(decideAtInvocationEnd(a, state({ predictedGapMs: undefined }), limits).reason).toBe(
      'no arrival history',
    );
  });

  it('never flushes before next under continuous unless the buffer is past the size limit', () => {
    expect(decideAtInvocationEnd({ kind: 'continuous' }, state({ age: 60_000 }), limits).flush).toBe(false);
  });
});

describe('exportAtInvokeStart', () => {
  it('starts exporting leftovers at INVOKE under end and continuous whenever there are any', () => {
    expect(exportAtInvokeStart({ kind: 'end' }, state({}), limits)).toBe(true);
    expect(exportAtInvokeStart({ kind: 'continuous' }, state({}), limits)).toBe(true);
    expect(exportAtInvokeStart({ kind: 'continuous' }, state({ bytes: 0 }), limits)).toBe(false);
  });

  it('waits under periodic for the interval and under adaptive for the batch age, unless past the size limit', () => {
    const periodic = { kind: 'periodic' as const, intervalMs: 500 };
    expect(exportAtInvokeStart(periodic, state({ lastFlushAt: 100_000 - 10 }), limits)).toBe(false);
    expect(exportAtInvokeStart(periodic, state({ lastFlushAt: 100_000 - 500 }), limits)).toBe(true);
    expect(exportAtInvokeStart({ kind: 'adaptive' }, state({ age: 999 }), limits)).toBe(false);
    expect(exportAtInvokeStart({ kind: 'adaptive' }, state({ age: 1000 }), limits)).toBe(true);
    expect(exportAtInvokeStart({ kind: 'adaptive' }, state({ age: 0, bytes: 1000 }), limits)).toBe(true);
  });
});

describe('deferWithoutWaiting', () => {
  it('skips waiting for the end under adaptive only with history, a young buffer and frequent invocations', () => {
    const a = { kind: 'adaptive' as const };
    expect(deferWithoutWaiting(a, state({ predictedGapMs: 100, age: 100 }), limits)).toBe(true);
    expect(deferWithoutWaiting(a, state({ predictedGapMs: 100, bytes: 0 }), limits)).toBe(true);
    expect(deferWithoutWaiting(a, state({ predictedGapMs: undefined }), limits)).toBe(false);
    expect(deferWithoutWaiting(a, state({ predictedGapMs: 2_000, age: 0 }), limits)).toBe(true);
    expect(deferWithoutWaiting(a, state({ predictedGapMs: 2_500, age: 0 }), limits)).toBe(false);
    expect(deferWithoutWaiting(a, state({ predictedGapMs: 100, age: 4_900 }), limits)).toBe(false);
    expect(deferWithoutWaiting(a, state({ predictedGapMs: 100, bytes: 500 }), limits)).toBe(false);
    expect(deferWithoutWaiting({ kind: 'end' }, state({ predictedGapMs: 100 }), limits)).toBe(false);
    expect(deferWithoutWaiting({ kind: 'continuous' }, state({ predictedGapMs: 100 }), limits)).toBe(false);
  });

  it('skips waiting under periodic only when the interval cannot be reached by the end of this invocation', () => {
    const p = { kind: 'periodic' as const, intervalMs: 1000 };
    expect(deferWithoutWaiting(p, state({ predictedGapMs: 100, lastFlushAt: 100_000 - 700 }), limits)).toBe(
      true,
    );
    expect(deferWithoutWaiting(p, state({ predictedGapMs: 100, lastFlushAt: 100_000 - 800 }), limits)).toBe(
      false,
    );
    expect(deferWithoutWaiting(p, state({ predictedGapMs: undefined }), limits)).toBe(false);
  });
});

describe('ArrivalPredictor', () => {
  it('predicts nothing before two arrivals, then the remaining part of the smoothed gap', () => {
    const p = new ArrivalPredictor(0.5);
    expect(p.predictGap(0)).toBeUndefined();
    p.arrival(0);
    expect(p.predictGap(10)).toBeUndefined();
    p.arrival(100);
    expect(p.predictGap(130)).toBe(70);
    p.arrival(300); // gap 200 → ewma 150
    expect(p.predictGap(300)).toBe(150);
    expect(p.predictGap(1000)).toBe(0);
  });
});

describe('invokeFlushDeadline', () => {
  it('is min(flush timeout, invocation deadline − margin), never before now', () => {
    expect(invokeFlushDeadline(1000, 10_000, 500, 100)).toBe(1500);
    expect(invokeFlushDeadline(1000, 1300, 500, 100)).toBe(1200);
    expect(invokeFlushDeadline(1000, 1050, 500, 100)).toBe(1000);
  });
});
