// The relay against its peers on the same function and spans, in the local emulator under Lambda's cost
// model (CPU in proportion to memory during invocations, Max Memory Used from the environment's memory
// group), against the real test collector. Variants:
//   none                  no telemetry at all
//   direct                the function's OTel SDK exports straight to the collector
//   otel-collector        the OpenTelemetry Lambda collector layer, default pipeline (no processor)
//   otel-collector-batch  the collector layer with batch + decouple
//   relay                 this layer, defaults
// Parts (BENCH_PEERS_PARTS, comma-separated; default all):
//   matrix       every variant at 128, 512 and 1,769 MB, alternated, BENCH_PEERS_ROUNDS rounds; medians
//                with min-max over the rounds
//   outage       the collector is down for the first third of the run (512 MB)
//   spans        spans per invocation 1 … 10,000, relay and collector layer (1,769 MB)
//   concurrency  1, 4, 16 environments at once against one collector (1,769 MB)
// The collector layer rows are skipped, with the reason, when OTEL_LAMBDA_SOURCE_DIR is not set.
// `node test/bench/plot.mjs <bench.json>` draws the sweeps as SVG.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchCostModel, loadHelpers, root, runtimeBootstrap } from './harness.mjs';

const env = process.env;
const ROUNDS = Number(env.BENCH_PEERS_ROUNDS ?? 3);
const INVOCATIONS = Number(env.BENCH_PEERS_INVOCATIONS ?? 30);
const SWEEP_INVOCATIONS = Number(env.BENCH_PEERS_SWEEP_INVOCATIONS ?? 10);
const GAP_MS = Number(env.BENCH_PEERS_GAP_MS ?? 100);
const SPANS = Number(env.BENCH_PEERS_SPANS ?? 10);
const MEMORY_SIZES = [128, 512, 1769];
export const VARIANTS = ['none', 'direct', 'otel-collector', 'otel-collector-batch', 'relay'];
const SWEEP_VARIANTS = ['relay', 'otel-collector', 'otel-collector-batch'];
const PARTS = (env.BENCH_PEERS_PARTS ?? 'matrix,outage,spans,concurrency').split(',');
const functionDir = join(root, 'test/fixtures/peers/function');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round1 = (x) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10) / 10);

function percentile(xs, p) {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Median with min-max over rounds. */
export function spread(xs) {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return { median: null, min: null, max: null };
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median: round1(median), min: round1(s[0]), max: round1(s.at(-1)) };
}

/** CPU time of one process from /proc (utime + stime, 10 ms ticks), when the emulator gives none. */
function procCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

function isCollectorLayer(variant) {
  return variant.startsWith('otel-collector');
}

/**
 * One environment of `variant`: its layers and variables, and `dispose` for what was made for it.
 * Every variant runs the same function; only where its SDK sends (and what runs beside it) differs.
 */
async function variantSetup(variant, exportTo, helpers) {
  const { prepareCollectorLayer, freePort } = helpers;
  if (variant === 'none') return { layers: [], env: {}, dispose() {} };
  if (variant === 'direct') return { layers: [], env: { BENCH_OTLP_ENDPOINT: exportTo }, dispose() {} };
  if (isCollectorLayer(variant)) {
    const layer = await prepareCollectorLayer({
      exportTo,
      pipeline: variant === 'otel-collector-batch' ? 'batch' : 'default',
    });
    return {
      layers: layer.layers,
      env: { ...layer.env, BENCH_OTLP_ENDPOINT: layer.endpoint },
      dispose: layer.dispose,
    };
  }
  if (variant === 'relay') {
    const http = await freePort();
    return {
      layers: [join(root, 'dist/layer')],
      env: {
        OTEL_RELAY_HTTP_PORT: String(http),
        OTEL_RELAY_GRPC_PORT: String(await freePort()),
        OTEL_EXPORTER_OTLP_ENDPOINT: exportTo,
        BENCH_OTLP_ENDPOINT: `http://127.0.0.1:${http}`,
      },
      dispose() {},
    };
  }
  throw new Error(`peers bench: no variant ${variant}; variants: ${VARIANTS.join(', ')}`);
}

let runSeq = 0;

/** Starts one environment of `variant` at `memoryMb`; `fn(lambda, functionName)` drives it. */
async function withVariant(helpers, collector, { variant, memoryMb }, fn) {
  const setup = await variantSetup(variant, collector.httpEndpoint, helpers);
  const functionName = `peers-${variant}-${memoryMb}-${process.pid}-${++runSeq}`;
  let lambda;
  try {
    lambda = await helpers.LambdaEnvironment.start({
      codeDir: functionDir,
      handler: 'index.handler',
      layers: setup.layers,
      memoryMb,
      timeoutMs: 30_000,
      // Sixteen environments starting on a small machine can take longer than Lambda's 10 s.
      initTimeoutMs: 60_000,
      functionName,
      runtimeBootstrap,
      costModel: benchCostModel,
      env: setup.env,
    });
    return await fn(lambda, functionName);
  } finally {
    await lambda?.shutdown().catch(() => {});
    await lambda?.dispose();
    setup.dispose();
  }
}

/** What the collector holds for one function: export requests and spans. */
async function delivered(collector, functionName) {
  const r = await collector.received();
  const spans = r.spans().filter((s) => s.resource['service.name'] === functionName);
  return { requests: new Set(spans.map((s) => s.request)).size, spans: spans.length };
}

/** Waits (bounded) until the collector holds `expected` spans of the function, or stops changing. */
async function settle(collector, functionName, expected, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await delivered(collector, functionName);
  let stableSince = Date.now();
  while (last.spans < expected && Date.now() < deadline && Date.now() - stableSince < 3_000) {
    await sleep(200);
    const now = await delivered(collector, functionName);
    if (now.spans !== last.spans) stableSince = Date.now();
    last = now;
  }
  return last;
}

/** Invokes `count` times with the gap; returns the results with the extensions' CPU per invocation. */
async function drive(lambda, count, event, { onInvocation } = {}) {
  const results = [];
  const extensionPids = () =>
    lambda
      .processes()
      .filter((p) => p.role === 'extension')
      .map((p) => p.pid);
  for (let i = 0; i < count; i++) {
    await onInvocation?.(i);
    const before = extensionPids().map(procCpuMs);
    const r = await lambda.invoke(event);
    const after = extensionPids().map(procCpuMs);
    // The emulator's own per-process accounting when it has it; /proc (10 ms ticks) otherwise.
    r.extensionCpuMs = r.cpuMs
      ? Object.values(r.cpuMs.extensions).reduce((a, b) => a + b, 0)
      : after.reduce((a, ms, k) => a + ((ms ?? 0) - (before[k] ?? 0)), 0);
    results.push(r);
    if (GAP_MS > 0) await sleep(GAP_MS);
  }
  return results;
}

/** Spans the function created: every invocation creates them (`none` has no SDK), failed ones too. */
function spansCreated(variant, results, spans) {
  return variant === 'none' ? 0 : results.length * spans;
}

/** The figures of one run (one environment, `results` its invocations in order). */
function summarize(results, sent, got) {
  // sent: the spans the function created (a failed invocation created them too, then could not export).
  const warm = results.slice(1);
  const failed = results.filter((r) => r.status !== 'success');
  return {
    initMs: results[0]?.initDurationMs ?? null,
    durationP50Ms: percentile(
      warm.map((r) => r.durationMs),
      50,
    ),
    durationP99Ms: percentile(
      warm.map((r) => r.durationMs),
      99,
    ),
    postRuntimeP50Ms: percentile(
      warm.map((r) => r.postRuntimeMs),
      50,
    ),
    billedSumMs: results.reduce((a, r) => a + r.billedDurationMs, 0),
    maxMemoryUsedMB: Math.max(...results.map((r) => r.maxMemoryUsedMB)),
    extensionCpuMsPerInvocation: results.reduce((a, r) => a + r.extensionCpuMs, 0) / results.length,
    exportRequests: got.requests,
    spansSent: sent,
    spansDelivered: got.spans,
    failedInvocations: failed.length,
    failures: [...new Set(failed.map((r) => r.errorType ?? r.status))],
  };
}

async function runOnce(helpers, collector, { variant, memoryMb, invocations, spans }) {
  return withVariant(helpers, collector, { variant, memoryMb }, async (lambda, functionName) => {
    const results = await drive(lambda, invocations, { spans });
    await lambda.shutdown();
    const sent = spansCreated(variant, results, spans);
    return summarize(results, sent, await settle(collector, functionName, sent));
  });
}

const METRICS = [
  'initMs',
  'durationP50Ms',
  'durationP99Ms',
  'postRuntimeP50Ms',
  'billedSumMs',
  'maxMemoryUsedMB',
  'extensionCpuMsPerInvocation',
  'exportRequests',
  'spansSent',
  'spansDelivered',
];

const show = (s) =>
  s.median === null ? '' : s.min === s.max ? `${s.median}` : `${s.median} (${s.min}–${s.max})`;

/** The matrix: every variant at every memory size, alternated, ROUNDS times. */
async function matrix(helpers, collector, skip) {
  const runs = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const memoryMb of MEMORY_SIZES) {
      for (const variant of VARIANTS) {
        if (skip(variant)) continue;
        const key = `${variant}@${memoryMb}`;
        const r = await runOnce(helpers, collector, {
          variant,
          memoryMb,
          invocations: INVOCATIONS,
          spans: SPANS,
        });
        runs.set(key, [...(runs.get(key) ?? []), r]);
        process.stderr.write(`peers bench: round ${round + 1}/${ROUNDS} ${key} done\n`);
      }
    }
  }
  const rows = [];
  for (const memoryMb of MEMORY_SIZES) {
    for (const variant of VARIANTS) {
      if (skip(variant)) {
        rows.push({ variant, memoryMb, skipped: skip(variant) });
        continue;
      }
      const list = runs.get(`${variant}@${memoryMb}`) ?? [];
      const row = { variant, memoryMb, rounds: list.length };
      for (const m of METRICS) row[m] = spread(list.map((r) => r[m]));
      row.failedInvocations = list.reduce((a, r) => a + r.failedInvocations, 0);
      row.failures = [...new Set(list.flatMap((r) => r.failures))];
      rows.push(row);
    }
  }
  return rows;
}

/** The collector is down for the first third of the run, then back on the same port. */
async function outage(helpers, skip) {
  const memoryMb = 512;
  const rows = [];
  for (const variant of VARIANTS.filter((v) => v !== 'none')) {
    if (skip(variant)) {
      rows.push({ variant, memoryMb, skipped: skip(variant) });
      continue;
    }
    const collector = await helpers.startCollector();
    try {
      const row = await withVariant(
        helpers,
        collector,
        { variant, memoryMb },
        async (lambda, functionName) => {
          collector.kill('SIGKILL');
          const downFor = Math.ceil(INVOCATIONS / 3);
          const results = await drive(
            lambda,
            INVOCATIONS,
            { spans: SPANS },
            {
              onInvocation: async (i) => {
                if (i === downFor) await collector.restart();
              },
            },
          );
          await lambda.shutdown();
          const sent = spansCreated(variant, results, SPANS);
          return summarize(results, sent, await settle(collector, functionName, sent, 30_000));
        },
      );
      rows.push({ variant, memoryMb, ...row, spansLost: row.spansSent - row.spansDelivered });
    } finally {
      await collector.stop();
    }
    process.stderr.write(`peers bench: outage ${variant} done\n`);
  }
  return rows;
}

/** Spans per invocation, 1 … 10,000, for the relay and the collector layer. */
async function spansSweep(helpers, collector, skip) {
  const points = [];
  for (const spans of [1, 10, 100, 1_000, 10_000]) {
    for (const variant of SWEEP_VARIANTS) {
      if (skip(variant)) continue;
      const r = await runOnce(helpers, collector, {
        variant,
        memoryMb: 1769,
        invocations: SWEEP_INVOCATIONS,
        spans,
      });
      points.push({ variant, spans, ...r });
      process.stderr.write(`peers bench: spans sweep ${variant} × ${spans} done\n`);
    }
  }
  return points;
}

/** 1, 4 and 16 environments invoked at once against one collector. */
async function concurrencySweep(helpers, collector, skip) {
  const points = [];
  for (const environments of [1, 4, 16]) {
    for (const variant of SWEEP_VARIANTS) {
      if (skip(variant)) continue;
      // Each environment is started (Init) one after the other, then all are invoked together.
      const started = [];
      const release = [];
      const runs = [];
      for (let e = 0; e < environments; e++) {
        let go;
        const gate = new Promise((r) => {
          go = r;
        });
        let ready;
        const isReady = new Promise((r) => {
          ready = r;
        });
        release.push(go);
        started.push(isReady);
        runs.push(
          withVariant(helpers, collector, { variant, memoryMb: 1769 }, async (lambda, functionName) => {
            ready();
            await gate;
            const results = await drive(lambda, SWEEP_INVOCATIONS, { spans: SPANS });
            await lambda.shutdown();
            const sent = spansCreated(variant, results, SPANS);
            return summarize(results, sent, await settle(collector, functionName, sent));
          }).finally(() => ready()),
        );
        await isReady;
      }
      for (const go of release) go();
      const settled = await Promise.allSettled(runs);
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      const each = settled.map((s) => s.value);
      const point = { variant, environments };
      for (const m of METRICS) {
        const xs = each.map((r) => r[m]);
        // Per environment: median across them; counts: summed over all environments.
        point[m] = ['exportRequests', 'spansSent', 'spansDelivered'].includes(m)
          ? xs.reduce((a, b) => a + b, 0)
          : spread(xs).median;
      }
      points.push(point);
      process.stderr.write(`peers bench: concurrency ${variant} × ${environments} done\n`);
    }
  }
  return points;
}

export async function run() {
  const helpers = await loadHelpers();
  const skipReason = helpers.collectorLayerSkipReason();
  const skip = (variant) => (isCollectorLayer(variant) ? skipReason : undefined);
  const collector = await helpers.startCollector();
  const results = {
    costModel: benchCostModel,
    rounds: ROUNDS,
    invocations: INVOCATIONS,
    spansPerInvocation: SPANS,
    gapMs: GAP_MS,
    ...(skipReason ? { skipped: { 'otel-collector': skipReason } } : {}),
  };
  // The reason once, not on every row it removes.
  const table = skipReason
    ? [{ variant: 'otel-collector, otel-collector-batch', initMs: `skipped: ${skipReason}` }]
    : [];
  try {
    if (PARTS.includes('matrix')) {
      results.rows = await matrix(helpers, collector, skip);
      for (const row of results.rows) {
        if (row.skipped) continue;
        const line = { variant: row.variant, memoryMb: row.memoryMb };
        for (const m of METRICS) line[m] = show(row[m]);
        if (row.failedInvocations) line.failed = `${row.failedInvocations} (${row.failures.join(', ')})`;
        table.push(line);
      }
    }
    if (PARTS.includes('outage')) {
      results.outage = await outage(helpers, skip);
      for (const row of results.outage) {
        if (row.skipped) continue;
        table.push({
          variant: `${row.variant} (collector down 1st third)`,
          memoryMb: row.memoryMb,
          durationP50Ms: round1(row.durationP50Ms),
          durationP99Ms: round1(row.durationP99Ms),
          billedSumMs: row.billedSumMs,
          extensionCpuMsPerInvocation: round1(row.extensionCpuMsPerInvocation),
          spansSent: row.spansSent,
          spansDelivered: row.spansDelivered,
          ...(row.failedInvocations
            ? { failed: `${row.failedInvocations} (${row.failures.join(', ')})` }
            : {}),
        });
      }
    }
    if (PARTS.includes('spans')) results.spansSweep = await spansSweep(helpers, collector, skip);
    if (PARTS.includes('concurrency'))
      results.concurrencySweep = await concurrencySweep(helpers, collector, skip);
    for (const [name, points, x] of [
      ['spans', results.spansSweep, 'spans'],
      ['concurrency', results.concurrencySweep, 'environments'],
    ]) {
      for (const p of points ?? []) {
        table.push({
          variant: `${p.variant} (${name} sweep: ${p[x]})`,
          memoryMb: 1769,
          durationP50Ms: round1(typeof p.durationP50Ms === 'number' ? p.durationP50Ms : null),
          maxMemoryUsedMB: p.maxMemoryUsedMB,
          extensionCpuMsPerInvocation: round1(p.extensionCpuMsPerInvocation),
          exportRequests: p.exportRequests,
          spansSent: p.spansSent,
          spansDelivered: p.spansDelivered,
        });
      }
    }
  } finally {
    await collector.stop();
  }
  return { name: 'peers', results, table };
}
