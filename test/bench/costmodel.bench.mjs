// The emulator's cost model against Lambda's: the same CPU-bound work (a fixed amount of the
// function's own CPU time) at several memory sizes, in alternation. Lambda gives memory/1,769 of a
// vCPU during an invocation, so the duration ratio 128 MB : 1,769 MB should come out near 1769/128
// (~13.8x). Also the quota each size ran under, and how many periods (and how long) the kernel held
// the environment back: on a busy machine the wall-clock ratio shrinks (the full-CPU sizes wait for a
// core too), while the throttled time is the model's own doing.
// Run: `npm run bench -- --only=costmodel` (BENCH_COSTMODEL_CPU_MS of CPU per invocation, default 40;
// BENCH_COSTMODEL_ROUNDS rounds, default 3, of BENCH_COSTMODEL_INVOKES invocations, default 5).
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { loadHelpers, root, runtimeBootstrap } from './harness.mjs';

const CPU_MS = Number(process.env.BENCH_COSTMODEL_CPU_MS ?? 40);
const ROUNDS = Number(process.env.BENCH_COSTMODEL_ROUNDS ?? 3);
const INVOKES = Number(process.env.BENCH_COSTMODEL_INVOKES ?? 5);
const MEMORY_SIZES = [128, 512, 1769];
const codeDir = join(root, 'test/fixtures/emulator/functions/cost');

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const r2 = (v) => (v === null ? null : Math.round(v * 100) / 100);

function cpuStat(dir) {
  const out = {};
  for (const line of readFileSync(join(dir, 'cpu.stat'), 'utf8').trim().split('\n')) {
    const [k, v] = line.split(' ');
    out[k] = Number(v);
  }
  return out;
}

async function measure(LambdaEnvironment, memoryMb, samples) {
  const env = await LambdaEnvironment.start({
    codeDir,
    handler: 'index.handler',
    memoryMb,
    timeoutMs: 60_000,
    costModel: 'lambda',
    runtimeBootstrap,
  });
  try {
    const groups = env.cgroups;
    if (!groups) throw new Error(`costmodel bench: the cost model is off here:\n${env.output()}`);
    // Lambda reserves the share; on a shared machine the group must win its CPU from the others,
    // or the full-CPU sizes measure the machine's load instead of the model (BENCH_COSTMODEL_SHARES=0: don't).
    if (process.env.BENCH_COSTMODEL_SHARES !== '0') writeFileSync(join(groups.cpu, 'cpu.shares'), '262144');
    const s = samples[memoryMb];
    s.quotaUs = Number(readFileSync(join(groups.cpu, 'cpu.cfs_quota_us'), 'utf8'));
    s.periodUs = Number(readFileSync(join(groups.cpu, 'cpu.cfs_period_us'), 'utf8'));
    await env.invoke({ action: 'spin', ms: 1 });
    for (let i = 0; i < INVOKES; i++) {
      const before = cpuStat(groups.cpu);
      const r = await env.invoke({ action: 'spin', ms: CPU_MS });
      if (r.status !== 'success') throw new Error(`costmodel bench: ${r.status} ${JSON.stringify(r.error)}`);
      s.durations.push(r.durationMs);
      s.cpu.push(r.cpuMs?.runtime ?? 0);
      const after = cpuStat(groups.cpu);
      s.throttled.push(after.nr_throttled - before.nr_throttled);
      s.throttledMs.push((after.throttled_time - before.throttled_time) / 1e6);
    }
  } finally {
    await env.shutdown().catch(() => {});
    await env.dispose({ removeTmp: true });
  }
}

export async function run() {
  const { LambdaEnvironment } = await loadHelpers();
  const samples = Object.fromEntries(
    MEMORY_SIZES.map((m) => [
      m,
      { durations: [], cpu: [], throttled: [], throttledMs: [], quotaUs: 0, periodUs: 0 },
    ]),
  );
  // Alternate the sizes so the machine's load drifts over all of them alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const memoryMb of MEMORY_SIZES) await measure(LambdaEnvironment, memoryMb, samples);
  }
  const fullCpu = median(samples[1769].durations);
  const rows = MEMORY_SIZES.map((memoryMb) => {
    const s = samples[memoryMb];
    const duration = median(s.durations);
    return {
      memoryMb,
      cpuShare: Math.round((s.quotaUs / s.periodUs) * 10_000) / 10_000,
      durationP50Ms: r2(duration),
      durationMinMs: r2(Math.min(...s.durations)),
      durationMaxMs: r2(Math.max(...s.durations)),
      runtimeCpuP50Ms: r2(median(s.cpu)),
      throttledPeriodsP50: median(s.throttled),
      throttledP50Ms: r2(median(s.throttledMs)),
      // The share of a CPU the work actually got: the quota when the model holds it back, less when the
      // machine itself is busy.
      effectiveShare: Math.round((median(s.cpu) / duration) * 10_000) / 10_000,
      ratioTo1769: r2(duration / fullCpu),
      lambdaRatioTo1769: r2(1769 / memoryMb),
    };
  });
  return {
    name: 'costmodel',
    results: {
      cpuMsPerInvocation: CPU_MS,
      rounds: ROUNDS,
      invocationsPerRound: INVOKES,
      loadAverage: os.loadavg().map((v) => Math.round(v * 10) / 10),
      rows,
    },
    table: rows.map((r) => ({
      'memory (MB)': r.memoryMb,
      'cpu share': r.cpuShare,
      'duration p50 (ms)': r.durationP50Ms,
      'min-max (ms)': `${r.durationMinMs}-${r.durationMaxMs}`,
      'function cpu p50 (ms)': r.runtimeCpuP50Ms,
      'throttled periods p50': r.throttledPeriodsP50,
      'throttled p50 (ms)': r.throttledP50Ms,
      'share obtained': r.effectiveShare,
      'cpu ratio vs 1769': r.ratioTo1769,
      'Lambda ratio': r.lambdaRatioTo1769,
    })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await run();
  if (process.argv.includes('--json')) console.log(JSON.stringify(out.results, null, 2));
  else console.table(out.table);
}
