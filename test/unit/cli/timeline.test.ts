import { describe, expect, it } from 'vitest';
import { timelinePath } from '../../../src/cli/commands/local.js';
import { renderTimeline, TimelineRecorder } from '../../../src/cli/timeline/index.js';
import { relayEvent } from '../../../src/cli/timeline/record.js';
import { UsageError } from '../../../src/cli/usage.js';
import type { InvocationResult } from '../../../src/local/types.js';

function result(overrides: Partial<InvocationResult>): InvocationResult {
  return {
    requestId: 'r',
    status: 'success',
    durationMs: 100,
    postRuntimeMs: 20,
    billedDurationMs: 100,
    maxMemoryUsedMB: 64,
    ...overrides,
  };
}

const line = (msg: string, time: string, level = 'info') =>
  JSON.stringify({ time, level, source: 'otel-relay', msg });

describe('relay events', () => {
  it('classifies the relay log lines it draws and ignores the rest', () => {
    const t = '2026-12-03T10:00:00.250Z';
    expect(relayEvent(line('3 spans spilled to s3://b/p/year=2026/x', t))).toEqual({
      kind: 'spill',
      at: Date.parse(t),
      text: '3 spans spilled to s3://b/p/year=2026/x',
    });
    expect(relayEvent(line('exported 12 spans in 8 ms', t))?.kind).toBe('export');
    expect(relayEvent(line('flush at end of invocation', t))?.kind).toBe('flush');
    expect(relayEvent(line('registered with the Extensions API', t))).toBeUndefined();
    expect(relayEvent('not json')).toBeUndefined();
  });
});

describe('TimelineRecorder', () => {
  it('lays each invocation back from its end by the reported durations, frozen in between', () => {
    // Prepare
    let now = 10_000;
    const r = new TimelineRecorder(() => now);

    // Act: a cold start (init 300 ms), then a warm invocation 1 s later.
    r.onInvocation(result({ initDurationMs: 300 }), 0);
    now = 11_000;
    r.onInvocation(result({ durationMs: 50, postRuntimeMs: 0 }), 1);
    r.onOutput({
      role: 'extension',
      name: 'otel-relay',
      stream: 'stderr',
      text: line('flush', new Date(10_500).toISOString()),
    });
    r.onOutput({
      role: 'runtime',
      name: 'function',
      stream: 'stdout',
      text: line('flush by the function', new Date(1).toISOString()),
    });

    // Assess
    expect(r.model()).toEqual({
      phases: [
        { kind: 'init', start: 9_600, end: 9_900, invocation: 1 },
        { kind: 'runtime', start: 9_900, end: 9_980, invocation: 1 },
        { kind: 'post-runtime', start: 9_980, end: 10_000, invocation: 1 },
        { kind: 'frozen', start: 10_000, end: 10_950, invocation: 1 },
        { kind: 'runtime', start: 10_950, end: 11_000, invocation: 2 },
      ],
      events: [{ kind: 'flush', at: 10_500, text: 'flush' }],
    });
  });
});

describe('renderTimeline', () => {
  it('draws every phase and event on one axis, in proportion, with a title', () => {
    // Act
    const svg = renderTimeline({
      phases: [
        { kind: 'runtime', start: 0, end: 500, invocation: 1 },
        { kind: 'frozen', start: 500, end: 1000, invocation: 1 },
      ],
      events: [{ kind: 'spill', at: 1000, text: '3 spans spilled <to> s3' }],
    });

    // Assess
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('<title>lambda-otel-relay local run</title>');
    const rect = (kind: string) =>
      new RegExp(`class="phase ${kind}" x="([\\d.]+)" y="\\d+" width="([\\d.]+)"`).exec(svg)!;
    const [runX, runW] = rect('runtime').slice(1).map(Number);
    const [frozenX, frozenW] = rect('frozen').slice(1).map(Number);
    expect(runW).toBeCloseTo(frozenW!, 5);
    expect(frozenX).toBeCloseTo(runX! + runW!, 5);
    expect(svg).toContain('class="event spill"');
    expect(svg).toContain('3 spans spilled &lt;to&gt; s3');
    expect(svg).toContain('1000 ms');
  });
});

describe('local --timeline', () => {
  it('takes an .svg path and refuses anything else', () => {
    expect(timelinePath(['--code', '.', '--handler', 'i.h', '--timeline', 'run.svg'])).toBe('run.svg');
    expect(timelinePath(['--code', '.', '--handler', 'i.h'])).toBeUndefined();
    expect(() => timelinePath(['--timeline', 'run.png'])).toThrow(UsageError);
  });
});
