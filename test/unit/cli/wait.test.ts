import { describe, expect, it } from 'vitest';
import { waitUntilUpdated } from '../../../src/cli/lambda/functions.js';
import { virtualClock } from './virtual-clock.js';

function statuses(...seq: string[]) {
  let i = 0;
  return async () => ({
    lastUpdateStatus: seq[Math.min(i++, seq.length - 1)],
    reason: 'role cannot be assumed',
  });
}

describe('waitUntilUpdated', () => {
  it('returns at once when the update is already applied', async () => {
    const clock = virtualClock();
    await waitUntilUpdated(statuses('Successful'), 'fn', { clock, timeoutMs: 1000 });
    expect(clock.slept).toEqual([]);
  });

  it('polls with a doubling interval capped at 2 s while InProgress', async () => {
    const clock = virtualClock();
    await waitUntilUpdated(
      statuses(
        'InProgress',
        'InProgress',
        'InProgress',
        'InProgress',
        'InProgress',
        'InProgress',
        'Successful',
      ),
      'fn',
      {
        clock,
        timeoutMs: 60_000,
      },
    );
    expect(clock.slept).toEqual([250, 500, 1000, 2000, 2000, 2000]);
  });

  it('never sleeps past the deadline and then says the change may still apply', async () => {
    const clock = virtualClock();
    await expect(waitUntilUpdated(statuses('InProgress'), 'fn', { clock, timeoutMs: 3000 })).rejects.toThrow(
      /fn was still updating after 3 s; the change was submitted and may still apply/,
    );
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(3000);
  });

  it('reports Lambda’s reason when the update failed', async () => {
    await expect(
      waitUntilUpdated(statuses('InProgress', 'Failed'), 'fn', { clock: virtualClock(), timeoutMs: 10_000 }),
    ).rejects.toThrow(
      /update of fn failed: role cannot be assumed; the function keeps its previous configuration/,
    );
  });
});
