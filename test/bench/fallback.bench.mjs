// Fallback benchmarks: post-runtime time per invocation during a collector outage (breaker open),
// spill throughput to S3 (moto) and to the /tmp spool, and SHUTDOWN-to-exit with a full buffer and a
// dead collector. Real parts: the built layer in the local emulator, moto. Prints numbers; asserts none.
// BENCH_FALLBACK_QUICK=1 runs fewer iterations.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const quick = process.env.BENCH_FALLBACK_QUICK === '1';

// The bundle is written beside this file (two levels below the repo, like the sources it bundles), so
// paths the helpers derive from import.meta (repo root, dist/, node_modules) still resolve; it is
// removed once loaded.
async function loadScenarios() {
  const outfile = join(root, 'test/bench', `.fallback-scenarios-${process.pid}.mjs`);
  await build({
    entryPoints: [join(root, 'test/chaos/bench-scenarios.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'error',
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}

export async function run() {
  const sc = await loadScenarios();
  const invocations = quick ? 20 : 100;
  return sc.withS3(async (s3) => {
    const outageEnd = await sc.outagePostRuntime(s3, 'end', invocations, 5);
    const outageAdaptive = await sc.outagePostRuntime(s3, 'adaptive', invocations, 5);
    const batches = quick ? 20 : 100;
    const s3Small = await sc.spillThroughput('s3', s3, 64 * 1024, batches);
    const s3Large = await sc.spillThroughput('s3', s3, 1024 * 1024, Math.ceil(batches / 4));
    const spoolSmall = await sc.spillThroughput('spool', undefined, 64 * 1024, batches);
    const spoolLarge = await sc.spillThroughput('spool', undefined, 1024 * 1024, Math.ceil(batches / 4));
    const shutS3 = await sc.shutdownWithFullBuffer(s3, quick ? 10 : 40, 200);
    const shutSpool = await sc.shutdownWithFullBuffer(undefined, quick ? 10 : 40, 200);
    const results = {
      outagePostRuntimeMs: { flushEnd: outageEnd, flushAdaptive: outageAdaptive },
      spill: { s3_64KiB: s3Small, s3_1MiB: s3Large, spool_64KiB: spoolSmall, spool_1MiB: spoolLarge },
      shutdown: { deadCollectorS3Up: shutS3, deadCollectorNoS3: shutSpool },
    };
    const table = [
      {
        measure: 'post-runtime, outage, flush=end (ms)',
        p50: outageEnd.p50,
        p99: outageEnd.p99,
        max: outageEnd.max,
        n: outageEnd.n,
      },
      {
        measure: 'post-runtime, outage, flush=adaptive (ms)',
        p50: outageAdaptive.p50,
        p99: outageAdaptive.p99,
        max: outageAdaptive.max,
        n: outageAdaptive.n,
      },
      {
        measure: 'post-runtime, first 5 invocations of an outage (breaker still closed), end / adaptive (ms)',
        p50: `${outageEnd.warmupMs.join(', ')} / ${outageAdaptive.warmupMs.join(', ')}`,
      },
      ...Object.entries(results.spill).map(([k, v]) => ({
        measure: `spill ${k}`,
        p50: v.p50Ms,
        p99: v.p99Ms,
        'batches/s': v.batchesPerSec,
        'MB/s': v.mbPerSec,
      })),
      ...Object.entries(results.shutdown).map(([k, v]) => ({
        measure: `SHUTDOWN to exit, ${k} (ms)`,
        p50: v.shutdownMs,
        spans: v.spans,
        spilled: v.spilled,
        dropped: v.dropped,
        exit: v.exitState,
      })),
    ];
    return { name: 'fallback', results, table };
  });
}
