// Chaos: the real extension (dist/layer) in the local emulator, a real collector, a real S3 server
// (moto), and faults injected between them. Each scenario accounts for every span by id across the
// collector, the S3 bucket and the /tmp spool, and checks that no invocation spent more post-runtime
// time than its flush budget allowed.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ABORT_GRACE_MS } from '../../src/extension/flush/index.js';
import { type CollectorPeer, startCollector } from '../helpers/collector.js';
import { printLogsOnFailure } from '../helpers/peer-logs.js';
import { pollUntil } from '../helpers/peer-process.js';
import { freePort } from '../helpers/ports.js';
import { type S3Peer, startS3 } from '../helpers/s3.js';
import {
  checkExactlyOnce,
  logBodiesInS3,
  missingFromS3,
  spanIdsInCollector,
  spanIdsInS3,
  spanIdsInSpool,
  spanIdsWithUnknownS3Outcome,
} from './accounting.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { type RelayEnv, startRelayEnv } from './relay-env.js';

const run = promisify(execFile);
let collector: CollectorPeer;
let s3: S3Peer;
let relay: RelayEnv | undefined;
const proxies: FaultProxy[] = [];
let scenario = 0;

/** The emulator of the scenario that just ran: failure hooks run after afterEach, which disposes it. */
let lastEnv: RelayEnv['env'] | undefined;
/**
 * Post-runtime time the relay and the emulator spend on an invocation with nothing to flush: the done
 * signal reaching the relay, its call to `next` over loopback HTTP, the emulator's bookkeeping (its
 * freeze poll) and the scheduling delays of a busy shared machine. Measured once per file, as the
 * largest of a few such invocations; it is the slack above the flush budget (see expectWithinBudget).
 */
let schedulingNoiseMs = 0;

beforeAll(async () => {
  [collector, s3] = await Promise.all([startCollector(), startS3()]);
  await s3.createBucket('chaos');
  schedulingNoiseMs = await measureSchedulingNoise();
});
afterAll(async () => {
  await Promise.all([collector?.stop(), s3?.stop()]);
});
beforeEach(() => {
  lastEnv = undefined;
});
afterEach(async () => {
  lastEnv = relay?.env;
  await relay?.env.dispose();
  relay = undefined;
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});
printLogsOnFailure('emulator', () => {
  const env = relay?.env ?? lastEnv;
  return env ? { logs: () => env.output() } : undefined;
});
printLogsOnFailure('otelcol', () => collector);

async function proxy(target: string, mode: Parameters<typeof startFaultProxy>[1]) {
  const p = await startFaultProxy(target, mode);
  proxies.push(p);
  return p;
}

/** Invokes `n` times with `spans` spans each; returns the span ids the function produced. */
async function invokeMany(r: RelayEnv, n: number, spans: number, tag: string) {
  const ids: string[] = [];
  const statuses: string[] = [];
  const postRuntimeMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await r.env.invoke({ spans, tag: `${tag}-${i}` });
    // A relay that overran an invocation's deadline would make it a timeout.
    expect(res.status).toBe('success');
    statuses.push(res.status);
    postRuntimeMs.push(res.postRuntimeMs);
    ids.push(...(res.response as { spanIds: string[] }).spanIds);
  }
  return { ids, statuses, postRuntimeMs };
}

async function measureSchedulingNoise(): Promise<number> {
  const r = await startRelayEnv({ collectorUrl: collector.httpEndpoint, flush: 'periodic:3600000' });
  try {
    const { postRuntimeMs } = await invokeMany(r, 6, 1, 'noise');
    await r.env.shutdown();
    return Math.max(...postRuntimeMs);
  } finally {
    await r.env.dispose();
  }
}

/**
 * Each invocation ended by the relay's own budget: no invocation timed out, every flush stopped at
 * its deadline (the Flusher says so when one did not), and no invocation's post-runtime time exceeded
 * its flush budget. That is a property of the budget, not a performance threshold: the slack above the
 * budget is what the relay may take, past the deadline, to get an aborted export's batch back
 * (ABORT_GRACE_MS), plus the post-runtime time of an invocation with nothing to flush, measured in this
 * run (schedulingNoiseMs). How long post-runtime usually takes is the fallback benchmark's job.
 */
function expectWithinBudget(r: RelayEnv, run: { statuses: string[]; postRuntimeMs: number[] }) {
  expect(run.statuses).not.toContain('timeout');
  expect(r.env.output()).not.toContain('did not stop at its deadline');
  const allowed = r.flushTimeoutMs + ABORT_GRACE_MS + schedulingNoiseMs;
  const over = run.postRuntimeMs.filter((ms) => ms > allowed);
  expect(
    over,
    `post-runtime over the ${r.flushTimeoutMs} ms budget + ${allowed - r.flushTimeoutMs} ms slack`,
  ).toEqual([]);
}

/**
 * The extension exited by itself, with 0, before the SHUTDOWN deadline: the emulator reports `Exited`
 * only for an exit code 0 it did not cause; one still running at `deadlineMs` is SIGKILLed and reported
 * as `ShutdownFailed`.
 */
function expectCleanShutdown(shutdown: Awaited<ReturnType<RelayEnv['env']['shutdown']>>) {
  expect(shutdown.extensions).toEqual([
    expect.objectContaining({ state: 'Exited', exitCode: 0, signal: null }),
  ]);
}

async function account(prefix: string, r: RelayEnv) {
  return {
    collector: await spanIdsInCollector(collector),
    s3: await spanIdsInS3(s3, 'chaos', prefix),
    spool: await spanIdsInSpool(r.spoolDir),
  };
}

/** Exactly once by id, except batches whose S3 outcome the relay itself reported as unknown. */
async function exactlyOnce(r: RelayEnv, sent: string[], where: Awaited<ReturnType<typeof account>>) {
  const mayRepeat = await spanIdsWithUnknownS3Outcome(r.env.output());
  return checkExactlyOnce(sent, { ...where, collector: only(where.collector, sent) }, mayRepeat);
}

/** The collector's spans from this scenario only (it is shared across scenarios). */
function only(ids: string[], sent: string[]) {
  const s = new Set(sent);
  return ids.filter((id) => s.has(id));
}

describe('chaos: fallback', () => {
  it('spills every span to S3 when the collector is down from the start, within the flush budget', async () => {
    const prefix = `s${++scenario}`;
    const deadPort = await freePort();
    relay = await startRelayEnv({
      collectorUrl: `http://127.0.0.1:${deadPort}`,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
    });
    const invoked = await invokeMany(relay, 6, 3, prefix);
    const { ids } = invoked;
    expectCleanShutdown(await relay.env.shutdown());

    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, ids, where)).toEqual([]);
    expect(await missingFromS3(ids, where, relay.env.output())).toEqual([]);
    expectWithinBudget(relay, invoked);
    expect(relay.env.output()).toMatch(/3 spans spilled to s3:\/\/chaos\/s1\/year=/);

    // Later, with the collector back: `lambda-otel-relay replay` moves all of it from S3 to the collector.
    const replay = await run(
      process.execPath,
      [
        'dist/cli.mjs',
        'replay',
        '--from',
        `s3://chaos/${prefix}`,
        '--to',
        collector.httpEndpoint,
        '--s3-endpoint',
        s3.endpoint,
      ],
      { env: { ...process.env, ...s3.env }, timeout: 60_000 },
    );
    expect(replay.stdout, replay.stdout).toMatch(new RegExp(`\\(${ids.length} spans\\)`));
    const got = await collector.waitFor(
      (r) =>
        only(
          r.spans().map((x) => x.spanId),
          ids,
        ).length >= ids.length,
      20_000,
    );
    expect(
      only(
        got.spans().map((x) => x.spanId),
        ids,
      ).sort(),
    ).toEqual([...ids].sort());
    expect(await s3.listObjects('chaos', `${prefix}/`)).toEqual([]);
  });

  it('while the breaker is open, batches spills into fewer objects and still spills everything by SHUTDOWN', async () => {
    const prefix = `s${++scenario}`;
    relay = await startRelayEnv({
      collectorUrl: `http://127.0.0.1:${await freePort()}`,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
    });
    const { ids } = await invokeMany(relay, 10, 2, prefix);
    expectCleanShutdown(await relay.env.shutdown());
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, ids, where)).toEqual([]);
    expect(await missingFromS3(ids, where, relay.env.output())).toEqual([]);
    // Three spills open the breaker; the other seven invocations' batches leave as one object at
    // SHUTDOWN: 4 (5 if one S3 outcome was unknown and the batch was spooled too), not 10.
    const objects = (await s3.listObjects('chaos', `${prefix}/`)).length;
    const spoolFiles = (await relay.spoolFiles()).length;
    const unknown = (relay.env.output().match(/S3 skipped: [^"]*(?:no response within|aborted)/g) ?? [])
      .length;
    expect(objects + spoolFiles - unknown).toBe(4);
  });

  it('spills spans and log records to S3 when the OTLP/gRPC collector is down', async () => {
    const prefix = `s${++scenario}`;
    relay = await startRelayEnv({
      collectorUrl: `http://127.0.0.1:${await freePort()}`,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
      extra: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_RELAY_SPILL_MIN_BYTES: '0' },
    });
    const sent: string[] = [];
    const logs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await relay.env.invoke({ spans: 2, logs: 2, tag: `${prefix}-${i}` });
      expect(r.status).toBe('success');
      const out = r.response as { spanIds: string[]; logs: string[] };
      sent.push(...out.spanIds);
      logs.push(...out.logs);
    }
    await relay.env.shutdown();
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, sent, where)).toEqual([]);
    expect(await missingFromS3(sent, where, relay.env.output())).toEqual([]);
    expect((await logBodiesInS3(s3, 'chaos', `${prefix}/`)).sort()).toEqual([...logs].sort());
    expect(relay.env.output()).toMatch(/log records spilled to s3:\/\/chaos\//);
    expect(relay.env.output()).toMatch(/"traces":"grpc /);
  });

  it('spools to /tmp when collector and S3 are both down, and replays the spool once the collector is back', async () => {
    const prefix = `s${++scenario}`;
    const collectorProxy = await proxy(collector.httpEndpoint, { kind: 'reset' });
    const s3Proxy = await proxy(s3.endpoint, { kind: 'reset' });
    relay = await startRelayEnv({
      collectorUrl: collectorProxy.url,
      s3: { peer: s3, endpoint: s3Proxy.url, uri: `s3://chaos/${prefix}` },
      // Spill every batch at once (no batching of spills while the breaker is open).
      extra: { OTEL_RELAY_BREAKER_OPEN_MS: '200', OTEL_RELAY_SPILL_MIN_BYTES: '0' },
    });
    const down = await invokeMany(relay, 4, 2, `${prefix}-down`);
    const spooled = await spanIdsInSpool(relay.spoolDir);
    expect(spooled.sort()).toEqual([...down.ids].sort());
    expectWithinBudget(relay, down);

    collectorProxy.setMode({ kind: 'pass' });
    await new Promise((r) => setTimeout(r, 300));
    const up = await invokeMany(relay, 3, 1, `${prefix}-up`);
    await relay.env.shutdown();
    const sent = [...down.ids, ...up.ids];
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, sent, where)).toEqual([]);
    expect(where.spool).toEqual([]);
    expect(only(where.collector, sent).length).toBe(sent.length);
  });

  it('at SHUTDOWN with a dead collector, spills the buffered spans to S3 and exits before the deadline', async () => {
    const prefix = `s${++scenario}`;
    const deadPort = await freePort();
    relay = await startRelayEnv({
      collectorUrl: `http://127.0.0.1:${deadPort}`,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
      // Keep everything in memory until SHUTDOWN.
      flush: 'periodic:3600000',
    });
    const { ids } = await invokeMany(relay, 5, 4, prefix);
    expectCleanShutdown(await relay.env.shutdown());
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, ids, where)).toEqual([]);
    expect(where.s3.length + where.spool.length).toBe(ids.length);
  });
});

describe('chaos: a full buffer', () => {
  it('spills what a full buffer evicts to the spool instead of dropping it, and every span ends exactly once after replay', async () => {
    const prefix = `s${++scenario}`;
    const collectorProxy = await proxy(collector.httpEndpoint, { kind: 'status', status: 503 });
    relay = await startRelayEnv({
      collectorUrl: collectorProxy.url,
      extra: {
        // The smallest buffer allowed; while the breaker is open, batches stay in it (no spill of
        // small, young batches), so it fills up and evicts its oldest data.
        OTEL_RELAY_BUFFER_MAX_BYTES: String(64 * 1024),
        OTEL_RELAY_BATCH_MAX_BYTES: String(16 * 1024),
        OTEL_RELAY_SPILL_MIN_BYTES: String(64 * 1024 * 1024),
        OTEL_RELAY_SPILL_MAX_AGE_MS: '3600000',
        OTEL_RELAY_BREAKER_THRESHOLD: '1',
        OTEL_RELAY_BREAKER_OPEN_MS: '1000',
        OTEL_RELAY_BREAKER_MAX_OPEN_MS: '1000',
      },
    });
    const down = await invokeMany(relay, 10, 60, `${prefix}-down`);
    expectWithinBudget(relay, down);
    expect(relay.env.output()).toMatch(/spans evicted \(oldest first\) .*handed to the fallback/);
    expect((await spanIdsInSpool(relay.spoolDir)).length).toBeGreaterThan(0);

    collectorProxy.setMode({ kind: 'pass' });
    await new Promise((r) => setTimeout(r, 1100));
    const up = await invokeMany(relay, 4, 1, `${prefix}-up`);
    expectCleanShutdown(await relay.env.shutdown());
    const sent = [...down.ids, ...up.ids];
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, sent, where)).toEqual([]);
    expect(only(where.collector, sent).length + where.spool.length).toBe(sent.length);
    expect(relay.env.output()).toContain('"dropped":{"traces":0,"metrics":0,"logs":0}');
    expect(relay.env.output()).not.toMatch(/spans dropped/);
  });
});

describe('chaos: collector faults', () => {
  it('spills the rest to S3 when the collector dies mid-run, losing and duplicating nothing', async () => {
    const prefix = `s${++scenario}`;
    const p = await proxy(collector.httpEndpoint, { kind: 'pass-then-reset', n: 2 });
    relay = await startRelayEnv({
      collectorUrl: p.url,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
    });
    const invoked = await invokeMany(relay, 5, 2, prefix);
    const { ids } = invoked;
    await relay.env.shutdown();
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, ids, where)).toEqual([]);
    expect(only(where.collector, ids)).toHaveLength(4);
    expect(await missingFromS3(ids.slice(4), where, relay.env.output())).toEqual([]);
    expectWithinBudget(relay, invoked);
  });

  it('never waits past the flush budget for a collector slower than the budget, and loses nothing', async () => {
    const prefix = `s${++scenario}`;
    const p = await proxy(collector.httpEndpoint, { kind: 'hang' });
    relay = await startRelayEnv({
      collectorUrl: p.url,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
    });
    const invoked = await invokeMany(relay, 5, 2, prefix);
    const { ids } = invoked;
    await relay.env.shutdown();
    expectWithinBudget(relay, invoked);
    const where = await account(prefix, relay);
    // A hung collector never answers, so nothing is delivered twice: all of it is in S3.
    expect(await exactlyOnce(relay, ids, where)).toEqual([]);
    expect(await missingFromS3(ids, where, relay.env.output())).toEqual([]);
  });

  it('spills batches the collector fails with 500 to S3', async () => {
    const prefix = `s${++scenario}`;
    const p = await proxy(collector.httpEndpoint, { kind: 'status', status: 500 });
    relay = await startRelayEnv({
      collectorUrl: p.url,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
    });
    const { ids } = await invokeMany(relay, 3, 2, prefix);
    await relay.env.shutdown();
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, ids, where)).toEqual([]);
    expect(await missingFromS3(ids, where, relay.env.output())).toEqual([]);
    // 500 is not retryable: one request per batch.
    expect(p.requests).toHaveLength(3);
  });

  for (const status of [401, 404]) {
    it(`spills to S3 what the collector refuses with ${status} (credentials or path), dropping nothing`, async () => {
      const prefix = `s${++scenario}`;
      const p = await proxy(collector.httpEndpoint, { kind: 'status', status, body: 'no' });
      relay = await startRelayEnv({
        collectorUrl: p.url,
        s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
      });
      const invoked = await invokeMany(relay, 4, 2, prefix);
      expectCleanShutdown(await relay.env.shutdown());
      const where = await account(prefix, relay);
      expect(await exactlyOnce(relay, invoked.ids, where)).toEqual([]);
      expect(await missingFromS3(invoked.ids, where, relay.env.output())).toEqual([]);
      expect(relay.env.output()).not.toMatch(/spans dropped/);
      // Not retried, and the breaker (3 failures) stops asking after the third batch; SHUTDOWN, the
      // last chance, probes once more with what is still buffered.
      expect(p.requests).toHaveLength(4);
      expectWithinBudget(relay, invoked);
    });
  }

  it('counts batches the collector rejects with 400 as rejected, without retrying or spilling them', async () => {
    const prefix = `s${++scenario}`;
    const p = await proxy(collector.httpEndpoint, { kind: 'status', status: 400, body: 'bad data' });
    relay = await startRelayEnv({
      collectorUrl: p.url,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
    });
    await invokeMany(relay, 2, 3, prefix);
    await relay.env.shutdown();
    const where = await account(prefix, relay);
    expect(where.s3).toEqual([]);
    expect(where.spool).toEqual([]);
    expect(p.requests).toHaveLength(2);
    expect(relay.env.output()).toMatch(
      /3 spans rejected: the collector rejected them as invalid \(collector answered 400/,
    );
    // One line per rejected batch, not one from the Delivery and another from the flush pipeline.
    expect(relay.env.output().match(/spans rejected:/g)).toHaveLength(2);
    // Refused data is `rejected` in the ledger, not `dropped`.
    expect(relay.env.output()).toMatch(/"rejected":\{"traces":6,/);
  });

  it('honours Retry-After on 429: no retry inside the budget, S3 instead, and the collector left alone', async () => {
    const prefix = `s${++scenario}`;
    const p = await proxy(collector.httpEndpoint, {
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '30' },
    });
    relay = await startRelayEnv({
      collectorUrl: p.url,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
      extra: { OTEL_RELAY_BREAKER_THRESHOLD: '1' },
    });
    const invoked = await invokeMany(relay, 4, 1, prefix);
    const { ids } = invoked;
    await relay.env.shutdown();
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, ids, where)).toEqual([]);
    expect(await missingFromS3(ids, where, relay.env.output())).toEqual([]);
    // One attempt, then the breaker stays open for the 30 s the collector asked for, even at SHUTDOWN.
    expect(p.requests).toHaveLength(1);
    expectWithinBudget(relay, invoked);
  });

  it('re-sends on a fresh connection when a kept-alive one was closed during the freeze', async () => {
    const prefix = `s${++scenario}`;
    const p = await proxy(collector.httpEndpoint, { kind: 'pass' });
    relay = await startRelayEnv({
      collectorUrl: p.url,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
    });
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await relay.env.invoke({ spans: 2, tag: `${prefix}-${i}` });
      sent.push(...(r.response as { spanIds: string[] }).spanIds);
      p.dropConnections();
    }
    await relay.env.shutdown();
    const got = await collector.waitFor(
      (r) =>
        only(
          r.spans().map((s) => s.spanId),
          sent,
        ).length >= sent.length,
      10_000,
    );
    const where = {
      collector: got.spans().map((s) => s.spanId),
      s3: await spanIdsInS3(s3, 'chaos', prefix),
      spool: await spanIdsInSpool(relay.spoolDir),
    };
    expect(await exactlyOnce(relay, sent, where)).toEqual([]);
    expect(where.s3).toEqual([]);
  });
});

describe('chaos: S3 faults', () => {
  for (const [name, mode] of [
    ['is down', { kind: 'reset' }],
    [
      'answers 403 AccessDenied',
      {
        kind: 'status',
        status: 403,
        body: '<Error><Code>AccessDenied</Code><Message>denied</Message></Error>',
      },
    ],
    ['is slower than the budget', { kind: 'hang' }],
  ] as const) {
    it(`spools to /tmp when the collector is down and S3 ${name}`, async () => {
      const prefix = `s${++scenario}`;
      const s3Proxy = await proxy(s3.endpoint, mode);
      relay = await startRelayEnv({
        collectorUrl: `http://127.0.0.1:${await freePort()}`,
        s3: { peer: s3, endpoint: s3Proxy.url, uri: `s3://chaos/${prefix}` },
      });
      const invoked = await invokeMany(relay, 4, 2, prefix);
      const { ids } = invoked;
      const shutdown = await relay.env.shutdown();
      expect(shutdown.extensions).toEqual([expect.objectContaining({ state: 'Exited', exitCode: 0 })]);
      const where = await account(prefix, relay);
      expect(await exactlyOnce(relay, ids, where)).toEqual([]);
      expect(where.spool).toHaveLength(ids.length);
      expectWithinBudget(relay, invoked);
    });
  }

  it('drops and counts what does not fit when /tmp is full, and says so', async () => {
    const prefix = `s${++scenario}`;
    relay = await startRelayEnv({
      collectorUrl: `http://127.0.0.1:${await freePort()}`,
      extra: { OTEL_RELAY_SPOOL_MAX_BYTES: '1' },
      flush: 'periodic:3600000',
    });
    const { ids } = await invokeMany(relay, 2, 2, prefix);
    expectCleanShutdown(await relay.env.shutdown());
    expect(await spanIdsInSpool(relay.spoolDir)).toEqual([]);
    expect(relay.env.output()).toMatch(new RegExp(`${ids.length} spans dropped: .*does not fit`));
    expect(relay.env.output()).toMatch(new RegExp(`"dropped":\\{"traces":${ids.length},`));
  });
});

describe('chaos: the environment goes away', () => {
  it('spills what the timed-out invocation sent when the timeout resets the environment', async () => {
    const prefix = `s${++scenario}`;
    relay = await startRelayEnv({
      collectorUrl: `http://127.0.0.1:${await freePort()}`,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
      codeDir: resolve(import.meta.dirname, 'fixtures/slow-function'),
      timeoutMs: 1000,
      flush: 'periodic:3600000',
    });
    const traceId = randomBytes(16).toString('hex');
    const spanIds = [1, 2, 3].map(() => randomBytes(8).toString('hex'));
    const res = await relay.env.invoke({ traceId, spanIds, sleepMs: 5000 });
    expect(res.status).toBe('timeout');
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, spanIds, where)).toEqual([]);
    expect(await missingFromS3(spanIds, where, relay.env.output())).toEqual([]);
  });

  it('SHUTDOWN during an export in flight still spills everything and exits before the deadline', async () => {
    const prefix = `s${++scenario}`;
    const p = await proxy(collector.httpEndpoint, { kind: 'hang' });
    relay = await startRelayEnv({
      collectorUrl: p.url,
      s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://chaos/${prefix}` },
      // Exports run in the background, overlapping invocations: one is in flight at SHUTDOWN.
      flush: 'continuous',
      extra: { OTEL_EXPORTER_OTLP_TIMEOUT: '10000', OTEL_RELAY_BREAKER_THRESHOLD: '100' },
    });
    const { ids } = await invokeMany(relay, 3, 3, prefix);
    expect(p.requests.length).toBeGreaterThan(0);
    expectCleanShutdown(await relay.env.shutdown());
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, ids, where)).toEqual([]);
  });

  // A SIGKILL loses only what was in the extension's memory; with `end` flushing that is nothing
  // between invocations, and what was spooled survives in /tmp for the next extension.
  it('keeps what it spooled when the extension is SIGKILLed, and the next extension replays it', async () => {
    const prefix = `s${++scenario}`;
    const p = await proxy(collector.httpEndpoint, { kind: 'reset' });
    relay = await startRelayEnv({
      collectorUrl: p.url,
      extra: { OTEL_RELAY_BREAKER_OPEN_MS: '100', OTEL_RELAY_SPILL_MIN_BYTES: '0' },
    });
    const before = await invokeMany(relay, 3, 2, `${prefix}-before`);
    expect((await spanIdsInSpool(relay.spoolDir)).sort()).toEqual([...before.ids].sort());
    const ext = relay.env.processes().find((x) => x.role === 'extension');
    expect(ext).toBeDefined();
    process.kill(ext?.pid ?? -1, 'SIGKILL');
    // Invoking before the emulator has seen the exit would race it (the INVOKE could still be handed to
    // the dying extension); the crash is what this scenario is about, so wait for the emulator to know.
    const env = relay.env;
    await pollUntil(
      'the emulator sees the SIGKILLed extension gone',
      async () => !env.processes().some((x) => x.pid === ext?.pid),
      { timeoutMs: 5_000, intervalMs: 10 },
    );
    p.setMode({ kind: 'pass' });
    // The emulator took the crash for Extension.Crash and reset the environment: the next invoke
    // re-runs init, and the new extension replays what its predecessor spooled.
    expect(relay.env.output()).toContain('Extension.Crash');
    const after = await invokeMany(relay, 2, 1, `${prefix}-after`);
    await relay.env.shutdown();
    const sent = [...before.ids, ...after.ids];
    const where = await account(prefix, relay);
    expect(await exactlyOnce(relay, sent, where)).toEqual([]);
    expect(where.spool).toEqual([]);
  });
});
