// The flush pipeline's accounting, with a scripted Delivery: every item of a batch ends in exactly one
// counter, and a drop is logged once, in words.
import { describe, expect, it } from 'vitest';
import { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import type { Batch, Delivery, DeliveryResult } from '../../../src/extension/export/index.js';
import { Flusher } from '../../../src/extension/flush/index.js';
import { Ingest } from '../../../src/extension/receive/ingest.js';
import { RelayStats } from '../../../src/extension/telemetry/index.js';
import { joinRequests } from '../../../src/otlp/index.js';
import { manualClock, recordingLog, traceRequest } from './fakes.js';

function setup(deliver: (batch: Batch) => DeliveryResult) {
  const clock = manualClock();
  const buffer = new TelemetryBuffer(1 << 20, 1 << 20, clock);
  const stats = new RelayStats();
  const log = recordingLog();
  const delivery: Delivery = { deliver: async (batch) => deliver(batch) };
  const flusher = new Flusher(buffer, delivery, stats, clock, log);
  return { clock, buffer, stats, log, flusher };
}

describe('Flusher accounting', () => {
  it('logs a rejected batch once, saying what it was and what happened to it, and counts it as rejected', async () => {
    const t = setup((b) => ({
      kind: 'rejected',
      items: b.items,
      reason: 'rejected-by-destination',
      detail: 'the collector rejected them as invalid (collector answered 400 for traces: bad)',
    }));
    t.buffer.add('traces', [{ body: await traceRequest(3), items: 3 }]);
    await t.flusher.flush(t.clock.now() + 1000, 'invoke');
    expect(t.log.lines.filter((l) => l.level !== 'debug').map((l) => `${l.level} ${l.msg}`)).toEqual([
      'error 3 spans rejected: the collector rejected them as invalid (collector answered 400 for traces: bad)',
    ]);
    expect(t.stats.rejected.traces).toBe(3);
    expect(t.stats.droppedTotal()).toBe(0);
  });

  it('accounts for each part of a split batch, and puts a retained part back as its own batch', async () => {
    const [a, b] = await Promise.all([traceRequest(2, 'a'), traceRequest(5, 'b')]);
    const t = setup((batch) => ({
      kind: 'split',
      items: batch.items,
      parts: [
        { batch: { ...batch, body: a, items: 2 }, result: { kind: 'exported', items: 2, rejected: 0 } },
        { batch: { ...batch, body: b, items: 5 }, result: { kind: 'retained', items: 5, reason: 'budget' } },
      ],
    }));
    t.buffer.add('traces', [{ body: joinRequests([a, b]), items: 7 }]);
    const sum = await t.flusher.flush(t.clock.now() + 1000, 'invoke');
    expect(sum).toMatchObject({ exported: 2, retained: 5, dropped: 0 });
    expect(t.stats.exported.traces).toBe(2);
    expect(t.buffer.items('traces')).toBe(5);
    expect(Buffer.from(t.buffer.takeBatch('traces')?.body ?? []).equals(Buffer.from(b))).toBe(true);
  });
});

describe('Flusher and a full buffer', () => {
  it('spills evicted batches through Delivery.spill first and accounts for every item exactly', async () => {
    const clock = manualClock();
    const r = await traceRequest(4, 'x');
    // Room for two requests in the buffer and one in the eviction queue.
    const buffer = new TelemetryBuffer(2 * r.length, r.length, clock, r.length);
    const stats = new RelayStats();
    const log = recordingLog();
    const order: string[] = [];
    let spillAnswer: 'spilled' | 'retained' = 'retained';
    const delivery: Delivery = {
      deliver: async (batch) => {
        order.push(`deliver ${batch.oldestAcceptedAt}`);
        return { kind: 'retained', items: batch.items, reason: 'collector down' };
      },
      spill: async (batch) => {
        order.push(`spill ${batch.oldestAcceptedAt}`);
        return spillAnswer === 'spilled'
          ? { kind: 'spilled', items: batch.items, location: 'spool' }
          : { kind: 'retained', items: batch.items, reason: 'spool busy' };
      },
    };
    const flusher = new Flusher(buffer, delivery, stats, clock, log);
    const ingest = new Ingest(buffer, stats, log);
    for (let i = 0; i < 4; i++) {
      ingest.accept('traces', r);
      clock.advance(1);
    }
    // Two evicted, one held, one dropped (counted as today).
    expect(stats.dropped.buffer_full?.traces).toBe(4);
    expect(buffer.evictedItems()).toBe(4);

    // A spill that cannot finish keeps the batch queued; nothing is double-counted.
    let sum = await flusher.flush(clock.now() + 1000, 'invoke');
    expect(order).toEqual([`spill ${clock.now() - 3}`, `deliver ${clock.now() - 2}`]);
    expect(sum).toMatchObject({ spilled: 0, retained: 8, dropped: 0 });
    expect(buffer.evictedItems()).toBe(4);
    expect(buffer.items()).toBe(12);

    spillAnswer = 'spilled';
    sum = await flusher.flush(clock.now() + 1000, 'invoke');
    expect(sum).toMatchObject({ spilled: 4 });
    expect(stats.spilled.traces).toBe(4);
    expect(buffer.hasEvicted()).toBe(false);
    expect(
      log.lines.some((l) => l.level === 'warn' && /4 spans evicted .*handed to the fallback/.test(l.msg)),
    ).toBe(true);
    // received = exported + spilled + dropped + still held.
    expect(stats.received.traces).toBe(16);
    expect(stats.exported.traces + stats.spilled.traces + stats.droppedTotal() + buffer.items()).toBe(16);
  });

  it('adds nothing to a flush when nothing was evicted: Delivery.spill is never called', async () => {
    const clock = manualClock();
    const buffer = new TelemetryBuffer(1 << 20, 1 << 20, clock);
    let spills = 0;
    const delivery: Delivery = {
      deliver: async (batch) => ({ kind: 'exported', items: batch.items, rejected: 0 }),
      spill: async (batch) => {
        spills++;
        return { kind: 'spilled', items: batch.items, location: 'spool' };
      },
    };
    const flusher = new Flusher(buffer, delivery, new RelayStats(), clock, recordingLog());
    buffer.add('traces', [{ body: await traceRequest(3), items: 3 }]);
    expect(await flusher.flush(clock.now() + 1000, 'invoke')).toMatchObject({ exported: 3, spilled: 0 });
    expect(spills).toBe(0);
  });
});
