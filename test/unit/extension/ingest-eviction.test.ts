// Security review 9: data dropped from a full buffer is not lost silently: the first drop of an
// invocation warns at once with the count, later ones are summed into one warning at the next one.
// Evicted data that the eviction queue holds (the next flush spills it) is not a loss: no warning.
import { describe, expect, it } from 'vitest';
import { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import { Ingest } from '../../../src/extension/receive/ingest.js';
import { RelayStats } from '../../../src/extension/telemetry/stats.js';
import { manualClock, recordingLog, traceRequest } from './fakes.js';

describe('Ingest eviction warnings', () => {
  it('warns once per invocation with the dropped count and reports the rest at the next invocation', async () => {
    const body = await traceRequest(10);
    const buffer = new TelemetryBuffer(3 * body.length, body.length, manualClock(), body.length);
    const stats = new RelayStats();
    const log = recordingLog();
    const ingest = new Ingest(buffer, stats, log);
    ingest.invocationStarted();
    for (let i = 0; i < 3; i++) ingest.accept('traces', body);
    expect(log.lines).toEqual([]);

    ingest.accept('traces', body);
    expect(log.lines).toEqual([]);
    expect(buffer.evictedItems('traces')).toBe(10);
    ingest.accept('traces', body);
    ingest.accept('traces', body);
    ingest.accept('traces', body);
    const warns = log.lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]?.msg).toMatch(/^buffer full: 10 spans dropped/);

    ingest.invocationStarted();
    const after = log.lines.filter((l) => l.level === 'warn');
    expect(after).toHaveLength(2);
    expect(after[1]?.msg).toMatch(/^buffer full: 20 spans dropped .*previous invocation/);
    expect(stats.dropped.buffer_full?.traces).toBe(30);

    ingest.invocationStarted();
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });
});
