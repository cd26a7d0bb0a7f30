// The local emulator's own cost, so a number measured through it can be read against it:
// - overhead per warm invoke outside durationMs (what the caller waits for beyond the emulated
//   invocation: report, freeze, bookkeeping), median/p95;
// - warm invoke durationMs with no extension and with one idle extension (INVOKE + SHUTDOWN);
// - Init (lastInit.durationMs) and the whole start() (layers, API server, Init, first freeze);
// - freeze (from the invoke's platform.report to the `frozen` event: SIGSTOP of every process and
//   the wait until the kernel shows them stopped) and thaw (from invoke() to the `thawed` event).
// Run alone: `node test/bench/emulator.bench.mjs [--json]` after `node layer/build.mjs`.
// BENCH_EMULATOR_INVOKES (default 100) warm invokes and BENCH_EMULATOR_STARTS (default 8) starts per case.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const INVOKES = Number(process.env.BENCH_EMULATOR_INVOKES ?? 100);
const STARTS = Number(process.env.BENCH_EMULATOR_STARTS ?? 8);
const runtimeBootstrap = join(root, 'dist/local/runtime.mjs');
const codeDir = join(root, 'test/fixtures/emulator/functions/esm');
const probeExtension = join(root, 'test/fixtures/emulator/extensions/probe-extension.mjs');

/** The emulator is TypeScript: bundle src/local once into a temporary module. */
async function loadEmulator() {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-bench-'));
  try {
    const out = join(dir, 'local.mjs');
    await build({
      entryPoints: [join(root, 'src/local/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: out,
      packages: 'external',
      logLevel: 'error',
    });
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A layer with one extension: the conformance probe with no probe server, i.e. register, then next forever. */
function idleExtensionLayer() {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-bench-layer-'));
  mkdirSync(join(dir, 'extensions'));
  const launcher = join(dir, 'extensions', 'idle');
  writeFileSync(launcher, `#!/bin/sh\nexec node ${probeExtension} '{}' "$0"\n`);
  chmodSync(launcher, 0o755);
  return dir;
}

function quantile(values, q) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round(sorted[i] * 1000) / 1000;
}

const summary = (values) => ({
  median: quantile(values, 0.5),
  p95: quantile(values, 0.95),
  n: values.length,
});

/** Starts `STARTS` environments; returns the init and start() times. */
async function measureStarts(LambdaEnvironment, layers) {
  const initMs = [];
  const startMs = [];
  for (let i = 0; i < STARTS; i++) {
    const t0 = performance.now();
    const env = await LambdaEnvironment.start({
      codeDir,
      handler: 'index.handler',
      layers,
      runtimeBootstrap,
    });
    startMs.push(performance.now() - t0);
    try {
      if (env.lastInit?.status !== 'success') {
        throw new Error(`Init ${env.lastInit?.status}: ${env.lastInit?.errorMessage ?? ''}\n${env.output()}`);
      }
      initMs.push(env.lastInit.durationMs);
    } finally {
      await env.dispose({ removeTmp: true });
    }
  }
  return { initMs, startMs };
}

/** `INVOKES` warm invokes in one environment, each timed by the caller and by the environment's events. */
async function measureInvokes(LambdaEnvironment, layers) {
  const env = await LambdaEnvironment.start({ codeDir, handler: 'index.handler', layers, runtimeBootstrap });
  const samples = { overheadMs: [], durationMs: [], postRuntimeMs: [], freezeMs: [], thawMs: [] };
  try {
    // The cold invoke (it carries initDurationMs) is not a warm one.
    const cold = await env.invoke({});
    if (cold.status !== 'success')
      throw new Error(`cold invoke ${cold.status}: ${JSON.stringify(cold.error)}`);
    let thawedAt = 0;
    let frozenAt = 0;
    let reportAt = 0;
    env.on('thawed', () => {
      thawedAt = performance.now();
    });
    env.on('frozen', () => {
      frozenAt = performance.now();
    });
    // One platform.report per invoke, emitted just before the freeze starts.
    env.on('telemetry', (r) => {
      if (r.type === 'platform.report') reportAt = performance.now();
    });
    for (let i = 0; i < INVOKES; i++) {
      thawedAt = frozenAt = reportAt = 0;
      const t0 = performance.now();
      const result = await env.invoke({});
      const t1 = performance.now();
      if (result.status !== 'success')
        throw new Error(`invoke ${result.status}: ${JSON.stringify(result.error)}`);
      samples.overheadMs.push(t1 - t0 - result.durationMs);
      samples.durationMs.push(result.durationMs);
      samples.postRuntimeMs.push(result.postRuntimeMs);
      if (thawedAt) samples.thawMs.push(thawedAt - t0);
      if (frozenAt && reportAt) samples.freezeMs.push(frozenAt - reportAt);
    }
  } finally {
    await env.dispose({ removeTmp: true });
  }
  return samples;
}

export async function run() {
  if (!existsSync(runtimeBootstrap)) {
    throw new Error(`${runtimeBootstrap} is missing: run \`node layer/build.mjs\` first`);
  }
  const { LambdaEnvironment } = await loadEmulator();
  const layer = idleExtensionLayer();
  const results = { invokes: INVOKES, starts: STARTS, cases: {} };
  const table = [];
  try {
    for (const [name, layers] of [
      ['no extension', []],
      ['one extension', [layer]],
    ]) {
      const starts = await measureStarts(LambdaEnvironment, layers);
      const invokes = await measureInvokes(LambdaEnvironment, layers);
      const c = {
        initMs: summary(starts.initMs),
        startMs: summary(starts.startMs),
        warmDurationMs: summary(invokes.durationMs),
        postRuntimeMs: summary(invokes.postRuntimeMs),
        overheadOutsideDurationMs: summary(invokes.overheadMs),
        freezeMs: summary(invokes.freezeMs),
        thawMs: summary(invokes.thawMs),
      };
      results.cases[name] = c;
      for (const [metric, s] of Object.entries(c)) {
        table.push({ case: name, metric, median_ms: s.median, p95_ms: s.p95, n: s.n });
      }
    }
  } finally {
    rmSync(layer, { recursive: true, force: true });
  }
  return { name: 'emulator', results, table };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { results, table } = await run();
  if (process.argv.includes('--json')) console.log(JSON.stringify({ name: 'emulator', ...results }, null, 2));
  else console.table(table);
}
