import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, ReplayProgress } from '../../../src/cli/replay/progress.js';

function manualClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('ReplayProgress', () => {
  it('gives objects, bytes, items, the rate so far and the time left at that rate', () => {
    // Prepare
    const clock = manualClock();
    const out: string[] = [];
    const p = new ReplayProgress({
      totalObjects: 10,
      totalBytes: 10 * 2048,
      tty: false,
      write: (t) => out.push(t),
      clock,
    });

    // Act: 4 objects in 2 s.
    for (let i = 0; i < 4; i++) {
      clock.advance(500);
      p.advance(2048, 25);
    }
    const s = p.snapshot();

    // Assess
    expect(s.objects).toEqual({ done: 4, total: 10 });
    expect(s.bytes).toEqual({ done: 8192, total: 20480 });
    expect(s.items).toBe(100);
    expect(s.objectsPerSecond).toBe(2);
    expect(s.bytesPerSecond).toBe(4096);
    expect(s.etaSeconds).toBe(3);
    expect(ReplayProgress.line(s)).toBe(
      '4/10 objects (40%)  8.0 KB/20.0 KB  100 items  2.0 obj/s 4.0 KB/s  ETA 3s',
    );
  });

  it('writes JSON lines at most once a second when not on a terminal, and always the last', () => {
    // Prepare
    const clock = manualClock();
    const out: string[] = [];
    const p = new ReplayProgress({
      totalObjects: 30,
      totalBytes: 30,
      tty: false,
      write: (t) => out.push(t),
      clock,
    });

    // Act: 30 objects over 3 s.
    for (let i = 0; i < 30; i++) {
      clock.advance(100);
      p.advance(1, 1);
    }
    p.finish();

    // Assess
    const lines = out.map((l) => JSON.parse(l).progress);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines.at(-1)).toMatchObject({ objects: { done: 30, total: 30 }, items: 30, etaSeconds: 0 });
  });

  it('redraws one terminal line in place and ends it with a newline', () => {
    // Prepare
    const clock = manualClock();
    const out: string[] = [];
    const p = new ReplayProgress({
      totalObjects: 2,
      totalBytes: 2,
      tty: true,
      write: (t) => out.push(t),
      clock,
    });

    // Act
    p.advance(1);
    clock.advance(1000);
    p.advance(1);
    p.finish();

    // Assess
    expect(out.every((l) => l.startsWith('\r'))).toBe(true);
    expect(out.at(-1)!.endsWith('\n')).toBe(true);
    expect(out.slice(0, -1).some((l) => l.endsWith('\n'))).toBe(false);
    expect(out.at(-1)).toMatch(/^\r2\/2 objects \(100%\).*ETA 0s/);
  });

  it('says the time left is unknown before the first object is done', () => {
    const p = new ReplayProgress({
      totalObjects: 5,
      totalBytes: 0,
      tty: false,
      write: () => {},
      clock: manualClock(),
    });
    expect(p.snapshot().etaSeconds).toBeNull();
    expect(ReplayProgress.line(p.snapshot())).toMatch(/ETA \?$/);
  });
});

describe('formatting', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KB'],
    [5 * 1024 * 1024, '5.0 MB'],
  ])('formatBytes(%i) is %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it.each([
    [42, '42s'],
    [125, '2m05s'],
    [3 * 3600 + 7 * 60, '3h07m'],
  ])('formatDuration(%i) is %s', (n, text) => expect(formatDuration(n)).toBe(text));
});
