import { describe, expect, it } from 'vitest';
import { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import { splitEntries, validateExportRequest } from '../../../src/otlp/index.js';
import { manualClock, traceRequest } from './fakes.js';

describe('TelemetryBuffer', () => {
  it('makes batches that are valid requests, split only between requests, at the batch size', async () => {
    const clock = manualClock();
    const reqs = await Promise.all([1, 2, 3, 4].map((i) => traceRequest(i, `r${i}`)));
    const max = reqs[0]!.length + reqs[1]!.length;
    const buf = new TelemetryBuffer(1 << 20, max, clock);
    for (const r of reqs) buf.add('traces', [{ body: r, items: validateExportRequest('traces', r).items }]);
    expect(buf.items('traces')).toBe(10);
    const b1 = buf.takeBatch('traces')!;
    expect(b1.body.length).toBe(max);
    expect(validateExportRequest('traces', b1.body).items).toBe(3);
    expect(b1.items).toBe(3);
    expect(splitEntries(b1.body)).toHaveLength(2);
    const b2 = buf.takeBatch('traces')!;
    expect(b2.items).toBe(3); // r3 alone: r3 + r4 is over the batch size
    const b3 = buf.takeBatch('traces')!;
    expect(b3.items).toBe(4);
    expect(buf.takeBatch('traces')).toBeUndefined();
    expect(buf.isEmpty()).toBe(true);
  });

  it('puts an undelivered batch back in front of newer data', async () => {
    const clock = manualClock();
    const buf = new TelemetryBuffer(1 << 20, 1 << 20, clock);
    const a = await traceRequest(2, 'a');
    const b = await traceRequest(1, 'b');
    buf.add('traces', [{ body: a, items: 2 }]);
    const batch = buf.takeBatch('traces')!;
    clock.advance(5);
    buf.add('traces', [{ body: b, items: 1 }]);
    buf.putBack(batch);
    expect(buf.oldestAcceptedAt()).toBe(batch.oldestAcceptedAt);
    const again = buf.takeBatch('traces')!;
    expect(Buffer.from(again.body.subarray(0, a.length)).equals(Buffer.from(a))).toBe(true);
    expect(again.items).toBe(3);
  });

  it('moves the oldest data across signals to the eviction queue when over the cap, by signal', async () => {
    const clock = manualClock();
    const r = await traceRequest(5, 'x');
    const buf = new TelemetryBuffer(r.length * 2 + 10, r.length, clock);
    buf.add('traces', [{ body: r, items: 5 }]);
    clock.advance(1);
    buf.add('logs', [{ body: r, items: 5 }]); // sizes only matter to the buffer
    clock.advance(1);
    const res = buf.add('metrics', [{ body: r, items: 5 }]);
    expect(res).toEqual({ rejectedOwn: 0, evicted: { traces: 5 }, dropped: {} });
    expect(buf.droppedFull).toEqual({ traces: 0, metrics: 0, logs: 0 });
    expect(buf.bytes()).toBeLessThanOrEqual(r.length * 2 + 10);
    expect(buf.evictedItems()).toBe(5);
    expect(buf.items()).toBe(15);
    const evicted = buf.takeEvicted();
    expect(evicted).toMatchObject({ signal: 'traces', items: 5, oldestAcceptedAt: clock.now() - 2 });
    expect(Buffer.from(evicted?.body ?? []).equals(Buffer.from(r))).toBe(true);
    expect(buf.hasEvicted()).toBe(false);
  });

  it('drops and counts only what the eviction queue cannot hold either, oldest first', async () => {
    const clock = manualClock();
    const r = await traceRequest(5, 'x');
    const buf = new TelemetryBuffer(r.length, r.length, clock, r.length);
    buf.add('traces', [{ body: r, items: 5 }]);
    clock.advance(1);
    expect(buf.add('logs', [{ body: r, items: 5 }]).dropped).toEqual({});
    clock.advance(1);
    expect(buf.add('metrics', [{ body: r, items: 5 }])).toEqual({
      rejectedOwn: 0,
      evicted: { logs: 5 },
      dropped: { traces: 5 },
    });
    expect(buf.droppedFull).toEqual({ traces: 5, metrics: 0, logs: 0 });
    const back = buf.takeEvicted();
    expect(back?.signal).toBe('logs');
    // A batch that could not be spilled goes back in front; the queue still honours its cap.
    clock.advance(1);
    buf.add('traces', [{ body: r, items: 5 }]);
    expect(buf.returnEvicted(back!)).toEqual({ logs: 5 });
    expect(buf.takeEvicted()?.signal).toBe('metrics');
    expect(buf.items()).toBe(5);
  });

  it('rejects a request larger than the whole buffer and keeps what it had', async () => {
    const clock = manualClock();
    const small = await traceRequest(1);
    const big = await traceRequest(50);
    const buf = new TelemetryBuffer(big.length - 1, big.length, clock);
    buf.add('traces', [{ body: small, items: 1 }]);
    expect(buf.add('traces', [{ body: big, items: 50 }])).toEqual({
      rejectedOwn: 50,
      evicted: {},
      dropped: {},
    });
    expect(buf.items('traces')).toBe(1);
  });
});
