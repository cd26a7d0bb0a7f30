// The Delivery's decisions, with a scripted exporter standing in for the collector transport (the
// real exporter and collector are exercised in test/chaos) and a real spool in a temp directory.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type {
  Batch,
  DeliveryResult,
  ExportOutcome,
  FlushBudget,
  Logger,
  SignalExporter,
} from '../../../src/extension/export/index.js';
import { createFallbackDelivery, type FallbackConfig } from '../../../src/extension/fallback/index.js';
import { joinRequests } from '../../../src/otlp/index.js';
import { traceRequest } from '../extension/fakes.js';

function harness(script: (call: number) => ExportOutcome, config: Partial<FallbackConfig> = {}) {
  let t = 1_700_000_000_000;
  const calls: Array<{ signal: string; bytes: number }> = [];
  let onExport: (bytes: number) => void = () => {};
  const dropped: string[] = [];
  const lines: string[] = [];
  const exporter: SignalExporter = {
    async export(signal, body) {
      calls.push({ signal, bytes: body.byteLength });
      onExport(body.byteLength);
      t += 5;
      return script(calls.length);
    },
    resetConnections() {},
    close() {},
  };
  const log: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  const delivery = createFallbackDelivery(
    {
      exporter,
      env: {},
      clock: { now: () => t, monotonic: () => t },
      log,
      onSpilledSettled: (signal, state, items) => dropped.push(`${items} ${signal} ${state}`),
    },
    {
      config: {
        spoolDir: mkdtempSync(join(tmpdir(), 'delivery-test-')),
        spoolMaxBytes: 1 << 20,
        breakerThreshold: 3,
        breakerOpenMs: 10_000,
        breakerMaxOpenMs: 60_000,
        s3ReserveMs: 300,
        spillMinBytes: 0,
        spillMaxAgeMs: 0,
        ...config,
      },
      sleep: async (ms) => {
        t += ms;
      },
    },
  );
  const budget = (ms: number, reason: FlushBudget['reason'] = 'invoke'): FlushBudget => ({
    deadline: t + ms,
    abort: new AbortController().signal,
    reason,
  });
  return {
    delivery,
    calls,
    lines,
    dropped,
    budget,
    advance: (ms: number) => (t += ms),
    now: () => t,
    onExport: (f: (bytes: number) => void) => {
      onExport = f;
    },
  };
}

/** A valid export request of `size` bytes (< 130): one unknown length-delimited field, as spool replay checks. */
function opaqueRequest(size: number): Uint8Array {
  const b = new Uint8Array(size);
  b[0] = 0x7a;
  b[1] = size - 2;
  return b;
}
const batch = (items = 3, signal: Batch['signal'] = 'traces'): Batch => ({
  signal,
  body: opaqueRequest(items * 10),
  items,
  oldestAcceptedAt: 0,
});
const down: ExportOutcome = { kind: 'retryable', reason: 'ECONNREFUSED' };
/** A batch of `items` real spans: a replay counts what the content holds. */
const spans = async (items: number): Promise<Batch> => ({
  signal: 'traces',
  body: await traceRequest(items),
  items,
  oldestAcceptedAt: 0,
});

describe('fallback Delivery', () => {
  it('exports and counts when the collector takes the batch', async () => {
    const h = harness(() => ({ kind: 'success' }));
    expect(await h.delivery.deliver(batch(), h.budget(500))).toEqual({
      kind: 'exported',
      items: 3,
      rejected: 0,
    });
    expect(h.delivery.counters.exportedItems).toBe(3);
  });

  it('retries a 503 inside the budget and then exports', async () => {
    const h = harness((n) =>
      n < 3 ? { kind: 'retryable', reason: 'HTTP 503', status: 503 } : { kind: 'success' },
    );
    expect((await h.delivery.deliver(batch(), h.budget(1000))).kind).toBe('exported');
    expect(h.calls).toHaveLength(3);
  });

  it('spools a batch the dead collector did not take and says where it went', async () => {
    const h = harness(() => down);
    const res = await h.delivery.deliver(batch(37), h.budget(1000));
    expect(res).toMatchObject({ kind: 'spilled', items: 37 });
    const files = await h.delivery.spool.list();
    expect(files.map((f) => f.items)).toEqual([37]);
    expect(h.lines.some((l) => l.includes(`37 spans spooled to ${files[0]?.path}`))).toBe(true);
  });

  it('opens the breaker after repeated failures and then never calls the collector', async () => {
    const h = harness(() => down);
    for (let i = 0; i < 3; i++) await h.delivery.deliver(batch(), h.budget(1000));
    expect(h.delivery.collectorBreaker.state).toBe('open');
    const before = h.calls.length;
    const start = h.now();
    const res = await h.delivery.deliver(batch(), h.budget(1000));
    expect(res.kind).toBe('spilled');
    expect(h.calls.length).toBe(before);
    expect(h.now()).toBe(start);
    expect(h.lines.some((l) => l.startsWith('warn collector breaker open after 3 failures'))).toBe(true);
  });

  it('replays spooled batches oldest first once the collector is back, deleting each after it is confirmed', async () => {
    let healthy = false;
    const h = harness(() => (healthy ? { kind: 'success' } : down));
    const batches = [await spans(1), await spans(2), await spans(3), await spans(4)];
    for (const b of batches) await h.delivery.deliver(b, h.budget(1000));
    expect(await h.delivery.spool.list()).toHaveLength(4);
    healthy = true;
    h.advance(10_000);
    h.calls.length = 0;
    await h.delivery.replay?.(h.budget(10_000));
    expect(h.calls.map((c) => c.bytes)).toEqual(batches.map((b) => b.body.byteLength));
    expect(await h.delivery.spool.list()).toEqual([]);
    expect(h.delivery.counters.replayedItems).toBe(10);
    expect(h.delivery.collectorBreaker.state).toBe('closed');
    // One summary line at info for the run; the files one by one only at debug.
    expect(h.lines.filter((l) => /^(info|warn|error) .*replayed/.test(l))).toEqual([
      'info 10 items from 4 spool files replayed to the collector; 0 files left',
    ]);
    expect(h.lines.filter((l) => /^debug .* replayed from /.test(l))).toHaveLength(4);
  });

  it('keeps spooled batches when the replay fails', async () => {
    let healthy = true;
    const h = harness(() => (healthy ? { kind: 'success' } : down), { breakerThreshold: 100 });
    healthy = false;
    await h.delivery.deliver(batch(2), h.budget(1000));
    await h.delivery.replay?.(h.budget(1000));
    expect(await h.delivery.spool.list()).toHaveLength(1);
  });

  it('counts a batch the collector rejects as bad data as rejected, saying what that means, without logging it twice', async () => {
    for (const status of [400, 413, 415, 3]) {
      const h = harness(() => ({ kind: 'failed', reason: `collector answered ${status}`, status }));
      const res = await h.delivery.deliver(batch(5), h.budget(1000));
      expect(res).toMatchObject({ kind: 'rejected', items: 5, reason: 'rejected-by-destination' });
      expect(res.kind === 'rejected' && res.detail).toMatch(/^the collector (rejected them|does not accept)/);
      expect(h.calls).toHaveLength(1);
      expect(h.delivery.counters.rejectedItems).toBe(5);
      expect(h.delivery.counters.droppedItems).toEqual({});
      expect(h.delivery.collectorBreaker.state).toBe('closed');
      // The flush pipeline logs the drop, once; the Delivery only counts it.
      expect(h.lines.filter((l) => l.includes('dropped'))).toEqual([]);
    }
  });

  it('sends a batch the collector finds too large (413) again in halves, and drops only a part that cannot be split', async () => {
    const [a, b, c] = await Promise.all([traceRequest(2, 'a'), traceRequest(3, 'b'), traceRequest(40, 'c')]);
    const limit = Math.max(a.byteLength, b.byteLength) + 1;
    const sizes: number[] = [];
    const h = harness(() =>
      (sizes.at(-1) ?? 0) > limit
        ? { kind: 'failed', reason: 'collector answered 413 for traces: too big', status: 413 }
        : { kind: 'success' },
    );
    const big: Batch = {
      signal: 'traces',
      body: joinRequests([a, b, c]),
      items: 45,
      oldestAcceptedAt: 0,
    };
    h.onExport((bytes) => sizes.push(bytes));
    const res = await h.delivery.deliver(big, h.budget(1000));
    expect(res.kind).toBe('split');
    const flat = (r: DeliveryResult): Array<[string, number]> =>
      r.kind === 'split' ? r.parts.flatMap((p) => flat(p.result)) : [[r.kind, r.items]];
    // a and b pass once apart; c is one resource's data, over the limit on its own.
    expect(flat(res)).toEqual([
      ['exported', 2],
      ['exported', 3],
      ['rejected', 40],
    ]);
    expect(h.delivery.counters.exportedItems).toBe(5);
    expect(h.delivery.counters.rejectedItems).toBe(40);
  });

  it('replaces a spooled batch the collector finds too large by its halves, which a later replay sends', async () => {
    const [a, b] = await Promise.all([traceRequest(2, 'a'), traceRequest(3, 'b')]);
    const limit = Math.max(a.byteLength, b.byteLength) + 1;
    let collectorUp = false;
    let size = 0;
    const h = harness(() =>
      !collectorUp
        ? down
        : size > limit
          ? { kind: 'failed', reason: 'collector answered 413 for traces: too big', status: 413 }
          : { kind: 'success' },
    );
    h.onExport((bytes) => {
      size = bytes;
    });
    const big: Batch = { signal: 'traces', body: joinRequests([a, b]), items: 5, oldestAcceptedAt: 0 };
    expect((await h.delivery.deliver(big, h.budget(1000))).kind).toBe('spilled');
    collectorUp = true;
    await h.delivery.replay?.(h.budget(1000));
    expect((await h.delivery.spool.list()).map((f) => f.items).sort()).toEqual([2, 3]);
    await h.delivery.replay?.(h.budget(1000));
    expect(await h.delivery.spool.list()).toEqual([]);
    expect(h.delivery.counters.replayedItems).toBe(5);
    expect(h.delivery.counters.droppedItems).toEqual({});
  });

  it('settles a spooled batch the collector rejects as invalid when replayed as rejected, for the ledger, logged once', async () => {
    let answer: ExportOutcome = down;
    const h = harness(() => answer, { breakerThreshold: 100 });
    await h.delivery.deliver(await spans(4), h.budget(1000));
    answer = { kind: 'failed', reason: 'collector answered 400 for traces: bad', status: 400 };
    await h.delivery.replay?.(h.budget(1000));
    expect(await h.delivery.spool.list()).toEqual([]);
    expect(h.dropped).toEqual(['4 traces rejected']);
    expect(h.lines.filter((l) => l.includes('rejected:'))).toEqual([
      expect.stringMatching(/^error 4 spans from .* rejected: the collector rejected them as invalid/),
    ]);
  });

  it('keeps a batch the collector refuses for credentials, path or proxy, and counts it toward the breaker', async () => {
    // HTTP 401, 403, 404, 407 and gRPC UNAUTHENTICATED 16, PERMISSION_DENIED 7, NOT_FOUND 5, UNIMPLEMENTED 12.
    for (const status of [401, 403, 404, 407, 16, 7, 5, 12]) {
      const h = harness(() => ({ kind: 'failed', reason: `collector answered ${status}`, status }));
      for (let i = 0; i < 3; i++) {
        const res = await h.delivery.deliver(batch(4), h.budget(1000));
        expect(res, `status ${status}`).toMatchObject({ kind: 'spilled', items: 4 });
      }
      expect(h.calls, `status ${status}: not retried`).toHaveLength(3);
      expect(h.delivery.counters.droppedItems).toEqual({});
      expect((await h.delivery.spool.list()).map((f) => f.items)).toEqual([4, 4, 4]);
      expect(h.delivery.collectorBreaker.state, `status ${status}`).toBe('open');
    }
  });

  it('keeps spooled batches, and stops the replay, when the collector refuses the credentials', async () => {
    let answer: ExportOutcome = down;
    const h = harness(() => answer, { breakerThreshold: 100 });
    await h.delivery.deliver(batch(2), h.budget(1000));
    await h.delivery.deliver(batch(3), h.budget(1000));
    answer = { kind: 'failed', reason: 'collector answered 401', status: 401 };
    h.calls.length = 0;
    await h.delivery.replay?.(h.budget(1000));
    expect(h.calls).toHaveLength(1);
    expect((await h.delivery.spool.list()).map((f) => f.items)).toEqual([2, 3]);
    expect(h.delivery.counters.droppedItems).toEqual({});
  });

  it('spills rather than drops a batch the collector fails with a 500', async () => {
    const h = harness(() => ({ kind: 'failed', reason: 'HTTP 500', status: 500 }));
    expect((await h.delivery.deliver(batch(), h.budget(1000))).kind).toBe('spilled');
  });

  it('retains a batch in memory when an invoke flush runs out of budget', async () => {
    const h = harness(() => down);
    const b = h.budget(1000);
    h.advance(2000);
    expect((await h.delivery.deliver(batch(), b)).kind).toBe('retained');
  });

  it('at SHUTDOWN spools even when the budget is spent, and drops with a reason when the spool is full', async () => {
    const h = harness(() => down, { spoolMaxBytes: 40 });
    const b = h.budget(100, 'shutdown');
    h.advance(200);
    expect((await h.delivery.deliver(batch(3), b)).kind).toBe('spilled');
    expect(await h.delivery.deliver(batch(3), b)).toMatchObject({
      kind: 'dropped',
      items: 3,
      reason: 'spool-full',
      detail: expect.stringContaining('does not fit'),
    });
    expect(h.delivery.counters.droppedItems).toEqual({ 'spool-full': 3 });
  });

  it('reports a partial success as exported and logs the rejected items', async () => {
    const h = harness(() => ({ kind: 'partial', rejected: 2, message: 'too old' }));
    expect(await h.delivery.deliver(batch(5), h.budget(500))).toEqual({
      kind: 'exported',
      items: 5,
      rejected: 2,
    });
    expect(h.lines.some((l) => l.includes('rejected 2 spans'))).toBe(true);
  });
});

describe('fallback Delivery while the collector breaker is open', () => {
  it('keeps small young batches in memory on invoke flushes and spills them once big or old enough', async () => {
    const h = harness(() => down, { spillMinBytes: 100, spillMaxAgeMs: 5000 });
    for (let i = 0; i < 3; i++) await h.delivery.deliver(batch(), h.budget(1000));
    expect(h.delivery.collectorBreaker.state).toBe('open');
    const young = { ...batch(3), oldestAcceptedAt: h.now() };
    expect((await h.delivery.deliver(young, h.budget(1000))).kind).toBe('retained');
    expect((await h.delivery.deliver(batch(20), h.budget(1000))).kind).toBe('spilled');
    h.advance(5000);
    expect((await h.delivery.deliver(young, h.budget(1000))).kind).toBe('spilled');
  });

  it('spills small batches at SHUTDOWN', async () => {
    const h = harness(() => down, { spillMinBytes: 1 << 20, spillMaxAgeMs: 3_600_000 });
    for (let i = 0; i < 3; i++) await h.delivery.deliver(batch(), h.budget(1000));
    const young = { ...batch(1), oldestAcceptedAt: h.now() };
    expect((await h.delivery.deliver(young, h.budget(1000, 'shutdown'))).kind).toBe('spilled');
  });
});

describe('fallback Delivery replay and the half-open probe', () => {
  it('hands the probe back when a spool file vanished, so the next flush can still probe', async () => {
    let healthy = false;
    const h = harness(() => (healthy ? { kind: 'success' } : down));
    for (let i = 0; i < 3; i++) await h.delivery.deliver(batch(), h.budget(1000));
    const files = await h.delivery.spool.list();
    expect(files).toHaveLength(3);
    // Another replayer (the CLI) took the files away after this one listed them.
    const { rmSync } = await import('node:fs');
    const list = h.delivery.spool.list.bind(h.delivery.spool);
    h.delivery.spool.list = async () => {
      const entries = await list();
      for (const e of entries) rmSync(e.path);
      return entries;
    };
    h.advance(10_000);
    healthy = true;
    await h.delivery.replay?.(h.budget(1000));
    expect((await h.delivery.deliver(batch(1), h.budget(1000))).kind).toBe('exported');
    expect(h.delivery.collectorBreaker.state).toBe('closed');
  });
  it('at SHUTDOWN probes a collector whose breaker is cooling down, once, and drains the spool there', async () => {
    let healthy = false;
    const h = harness(() => (healthy ? { kind: 'success' } : down));
    for (let i = 1; i <= 3; i++) await h.delivery.deliver(await spans(i), h.budget(1000));
    expect(h.delivery.collectorBreaker.state).toBe('open');
    expect(await h.delivery.spool.list()).toHaveLength(3);
    // The collector is back, the cool-down (10 s) is not over.
    healthy = true;
    h.advance(1_000);
    h.calls.length = 0;
    const budget = h.budget(2_000, 'shutdown');
    await h.delivery.replay?.(budget);
    const results = await Promise.all([
      h.delivery.deliver(await spans(5), budget),
      h.delivery.deliver({ ...(await spans(6)), signal: 'traces' }, budget),
    ]);
    expect(results.map((r) => r.kind)).toEqual(['exported', 'exported']);
    expect(h.calls).toHaveLength(5);
    expect(await h.delivery.spool.list()).toEqual([]);
    expect(h.delivery.counters.replayedItems).toBe(6);
    expect(h.delivery.collectorBreaker.state).toBe('closed');
  });

  it('at SHUTDOWN probes a dead collector once: the batches that wait for the verdict spill, none tries again', async () => {
    const h = harness(() => down);
    for (let i = 1; i <= 3; i++) await h.delivery.deliver(await spans(i), h.budget(1000));
    h.advance(1_000);
    h.calls.length = 0;
    const budget = h.budget(2_000, 'shutdown');
    await h.delivery.replay?.(budget);
    const results = await Promise.all([
      h.delivery.deliver(await spans(5), budget),
      h.delivery.deliver(await spans(6), budget),
    ]);
    // The probe was the spool's oldest file; the new batches went straight to the spool.
    expect(h.calls).toHaveLength(1);
    expect(results.map((r) => r.kind)).toEqual(['spilled', 'spilled']);
    expect(await h.delivery.spool.list()).toHaveLength(5);
    expect(h.delivery.collectorBreaker.state).toBe('open');
  });

  it('outside SHUTDOWN the cool-down holds: nothing is sent before the probe time', async () => {
    let healthy = false;
    const h = harness(() => (healthy ? { kind: 'success' } : down));
    for (let i = 1; i <= 3; i++) await h.delivery.deliver(await spans(i), h.budget(1000));
    healthy = true;
    h.advance(1_000);
    h.calls.length = 0;
    await h.delivery.replay?.(h.budget(2_000));
    expect((await h.delivery.deliver(await spans(5), h.budget(2_000))).kind).toBe('spilled');
    expect(h.calls).toHaveLength(0);
  });
});
