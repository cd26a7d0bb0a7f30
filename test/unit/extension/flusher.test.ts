// The flush pipeline's accounting, with a scripted Delivery: every item of a batch ends in exactly one
// counter, and a drop is logged once, in words.
import { describe, expect, it } from 'vitest';
import { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import type { Batch, Delivery, DeliveryResult } from '../../../src/extension/export/index.js';
import { Flusher } from '../../../src/extension/flush/index.js';
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
  it('logs a dropped batch once, saying what it was and what happened to it', async () => {
    const t = setup((b) => ({
      kind: 'dropped',
      items: b.items,
      reason: 'rejected-by-collector',
      detail: 'the collector rejected them as invalid (collector answered 400 for traces: bad)',
    }));
    t.buffer.add('traces', [{ body: await traceRequest(3), items: 3 }]);
    await t.flusher.flush(t.clock.now() + 1000, 'invoke');
    expect(t.log.lines.filter((l) => l.level !== 'debug').map((l) => `${l.level} ${l.msg}`)).toEqual([
      'error 3 spans dropped: the collector rejected them as invalid (collector answered 400 for traces: bad)',
    ]);
    expect(t.stats.droppedTotal()).toBe(3);
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
