// Fan-out: each destination has its own delivery chain and ledger line; a dead one loses the others
// nothing, and every line balances.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TelemetryBuffer } from '../../../src/extension/buffer/index.js';
import { systemClock } from '../../../src/extension/clock.js';
import type { ExportOutcome, FlushBudget, SignalExporter } from '../../../src/extension/export/types.js';
import { createFallbackDelivery } from '../../../src/extension/fallback/index.js';
import { createBudget, Flusher } from '../../../src/extension/flush/index.js';
import { createFanOut, type Route } from '../../../src/extension/pipeline/index.js';
import { withProcessors } from '../../../src/extension/processors/delivery.js';
import type { FallbackConfig } from '../../../src/extension/settings/index.js';
import { RelayStats } from '../../../src/extension/telemetry/stats.js';
import { recordingLog, traceRequest } from '../extension/fakes.js';

const SIGNALS = ['traces', 'metrics', 'logs'] as const;

function exporter(answer: () => ExportOutcome) {
  const got = { items: 0, calls: 0 };
  const e: SignalExporter & { got: typeof got } = {
    got,
    async export() {
      got.calls++;
      return answer();
    },
    resetConnections() {},
    close() {},
  };
  return e;
}

function setup(answers: Record<string, () => ExportOutcome>, discard: string[] = []) {
  const stats = new RelayStats();
  const log = recordingLog();
  const spoolDir = mkdtempSync(join(tmpdir(), 'fanout-'));
  const fallback: FallbackConfig = {
    spoolDir,
    spoolMaxBytes: 1 << 20,
    breakerThreshold: 2,
    breakerOpenMs: 60_000,
    breakerMaxOpenMs: 60_000,
    s3ReserveMs: 0,
    spillMinBytes: 0,
    spillMaxAgeMs: 0,
  };
  const exporters = Object.fromEntries(Object.entries(answers).map(([n, a]) => [n, exporter(a)]));
  const routes = Object.entries(exporters).map(([name, e]) => ({
    name,
    signals: new Set(SIGNALS.filter((s) => !discard.includes(s))),
    delivery: createFallbackDelivery({
      exporter: e,
      env: {},
      fallback,
      clock: systemClock,
      log,
      destination: name,
      onSpilledSettled: (signal, state, items) =>
        stats.settleSpilled(signal, state, items, stats.destination(name), false),
    }),
  }));
  const delivery = createFanOut({
    routes,
    stats,
    log,
    clock: systemClock,
    maxPendingBytes: 1 << 20,
    discard: new Set(discard as (typeof SIGNALS)[number][]),
  });
  const buffer = new TelemetryBuffer(8 << 20, 1 << 20, systemClock);
  const flusher = new Flusher(buffer, delivery, stats, systemClock, log);
  return { stats, log, exporters, buffer, flusher, spoolDir };
}

function balance(stats: RelayStats) {
  for (const s of SIGNALS) expect(stats.unsettled(s), `top-level ${s}`).toBe(0);
  for (const [name, line] of Object.entries(stats.destinations)) {
    for (const s of SIGNALS) {
      const settled = line.exported[s] + line.spilled[s] + line.rejected[s] + line.dropped[s];
      expect(settled, `${name} ${s}`).toBe(line.offered[s]);
    }
  }
}

describe('fan-out', () => {
  it('delivers everything to a healthy destination while another is dead, which spills its share', async () => {
    const t = setup({
      healthy: () => ({ kind: 'success' }),
      // Answers at once (no retry waits): the test does not depend on timing.
      dead: () => ({ kind: 'failed', reason: 'collector answered 500', status: 500 }),
    });
    for (let i = 0; i < 5; i++) {
      t.buffer.add('traces', [{ body: await traceRequest(4, `b${i}`), items: 4 }]);
      t.stats.received.traces += 4;
      await t.flusher.flush(Date.now() + 5000, 'invoke');
    }
    const { healthy, dead } = t.stats.destinations;
    expect(healthy?.exported.traces).toBe(20);
    expect(dead?.exported.traces).toBe(0);
    expect(dead?.spilled.traces).toBe(20);
    // The top-level line counts each item once, in the state of the destination that did worst.
    expect(t.stats.spilled.traces).toBe(20);
    balance(t.stats);
    expect(t.stats.ledger().destinations).toBeDefined();
  });

  it('replays what a destination spilled to that destination only, once it is back', async () => {
    let up = false;
    const t = setup({
      healthy: () => ({ kind: 'success' }),
      flaky: () =>
        up ? { kind: 'success' } : { kind: 'failed', reason: 'collector answered 500', status: 500 },
    });
    t.buffer.add('traces', [{ body: await traceRequest(3), items: 3 }]);
    t.stats.received.traces += 3;
    await t.flusher.flush(Date.now() + 5000, 'invoke');
    expect(t.stats.destinations.flaky?.spilled.traces).toBe(3);
    const healthyCalls = t.exporters.healthy!.got.calls;
    up = true;
    await t.flusher.flush(Date.now() + 5000, 'invoke');
    expect(t.stats.destinations.flaky?.replayed.traces).toBe(3);
    expect(t.stats.destinations.flaky?.exported.traces).toBe(3);
    expect(t.stats.destinations.flaky?.spilled.traces).toBe(0);
    // The healthy destination did not get the replayed batch a second time.
    expect(t.exporters.healthy!.got.calls).toBe(healthyCalls);
    balance(t.stats);
  });

  it('counts a signal routed to none as filtered, never as dropped, and logs nothing for it', async () => {
    const t = setup({ only: () => ({ kind: 'success' }) }, ['traces']);
    t.buffer.add('traces', [{ body: await traceRequest(3), items: 3 }]);
    t.stats.received.traces += 3;
    await t.flusher.flush(Date.now() + 5000, 'invoke');
    expect(t.exporters.only!.got.calls).toBe(0);
    expect(t.stats.filtered).toEqual({ exporter_none: { traces: 3, metrics: 0, logs: 0 } });
    expect(t.stats.droppedTotal()).toBe(0);
    expect(t.log.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    balance(t.stats);
  });
});

describe('fan-out at SHUTDOWN', () => {
  function lane(name: string, shutdown?: (b: FlushBudget) => Promise<void>) {
    const seen = { budgets: [] as FlushBudget[], closed: 0 };
    const route: Route = {
      name,
      signals: new Set(SIGNALS),
      delivery: { deliver: async (b) => ({ kind: 'exported', items: b.items, rejected: 0 }) },
      close: () => {
        seen.closed++;
      },
    };
    if (shutdown)
      route.shutdown = (b) => {
        seen.budgets.push(b);
        return shutdown(b);
      };
    return { route, seen };
  }

  it('shuts every destination down side by side, and a hung one is cut off at the deadline', async () => {
    // Prepare: one finishes, one never answers, one throws, one has no SHUTDOWN step of its own.
    const quick = lane('quick', async () => {});
    const hung = lane('hung', () => new Promise<void>(() => {}));
    const broken = lane('broken', async () => {
      throw new Error('connection reset');
    });
    const plain = lane('plain');
    const log = recordingLog();
    const fanout = createFanOut({
      routes: [quick.route, hung.route, broken.route, plain.route],
      stats: new RelayStats(),
      log,
      clock: systemClock,
      maxPendingBytes: 1 << 20,
      discard: new Set(),
    });
    const owned = createBudget(systemClock, Date.now() + 200, 'shutdown');
    // Act: resolves although `hung` never does (the test would time out otherwise).
    await fanout.shutdown?.(owned.budget);
    owned.dispose();
    // Assess
    for (const l of [quick, hung, broken]) expect(l.seen.budgets).toEqual([owned.budget]);
    expect(quick.seen.closed).toBe(0);
    expect(hung.seen.closed).toBe(1);
    expect(broken.seen.closed).toBe(1);
    expect(plain.seen.closed).toBe(1);
    const warnings = log.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warnings).toHaveLength(2);
    expect(warnings.find((m) => m.startsWith('hung '))).toMatch(
      /did not shut down before the SHUTDOWN deadline/,
    );
    expect(warnings.find((m) => m.startsWith('broken '))).toMatch(/failed to shut down cleanly/);
  });

  it('the processors pass SHUTDOWN on to the destinations they wrap', async () => {
    const quick = lane('quick', async () => {});
    const fanout = createFanOut({
      routes: [quick.route],
      stats: new RelayStats(),
      log: recordingLog(),
      clock: systemClock,
      maxPendingBytes: 1 << 20,
      discard: new Set(),
    });
    const wrapped = withProcessors(fanout, [], recordingLog());
    const owned = createBudget(systemClock, Date.now() + 1000, 'shutdown');
    await wrapped.shutdown?.(owned.budget);
    owned.dispose();
    expect(quick.seen.budgets).toHaveLength(1);
  });
});
