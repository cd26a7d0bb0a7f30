#!/usr/bin/env node
// Zero-code bench (contract: test/bench/run.mjs). One function (a plain handler making an HTTP call, a
// fetch and an AWS SDK call against moto) in the local emulator under Lambda's cost model at 128 MB,
// four ways: no layer; this layer with AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler (zero-code);
// the OpenTelemetry Node layer built from source (AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-handler); this
// layer with the middleware (wrapHandler, no library instrumentation). Reported per variant: Init
// duration and Init added over no layer (median of BENCH_ZEROCODE_RUNS cold starts), warm invocation
// duration (median), and Max Memory Used. The OpenTelemetry Node layer row needs OTEL_LAMBDA_SOURCE_DIR
// (the same setting as the collector layer); without it the row says why it is missing.
// Run: `npm run bench -- --only=zerocode`.
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { benchCostModel, root, runtimeBootstrap } from './harness.mjs';

const RUNS = Number(process.env.BENCH_ZEROCODE_RUNS ?? 5);
const WARM = Number(process.env.BENCH_ZEROCODE_WARM ?? 10);
const MEMORY_MB = 128;
const fixtures = join(root, 'test/fixtures/middleware/zero-code');

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.floor(s.length / 2)] * 10) / 10 : undefined;
};

async function loadHelpers() {
  const outfile = join(root, 'test/bench', `.zerocode-helpers-${process.pid}.mjs`);
  await build({
    entryPoints: [join(root, 'test/bench/zerocode-helpers.ts')],
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

/**
 * The OpenTelemetry Node layer, copied so its hard-coded /opt paths name where the emulator mounts it
 * (the emulator runs layers from their directory, not from /opt).
 */
async function otelNodeLayer() {
  const peer = await import(pathToFileURL(join(root, 'test/setup/peers/otel-node-layer.mjs')).href);
  const reason = peer.otelNodeLayerSkipReason();
  if (reason) return { skipped: reason };
  const built = await peer.ensureOtelNodeLayer();
  const dir = mkdtempSync(join(tmpdir(), 'otel-node-layer-'));
  cpSync(built, dir, { recursive: true });
  const handler = join(dir, 'otel-handler');
  writeFileSync(handler, readFileSync(handler, 'utf8').replaceAll('/opt/', `${dir}/`));
  return { dir, wrapper: handler };
}

/** A loopback OTLP sink: the upstream of the extension and of the OpenTelemetry layer's exporter. */
async function sink() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res.writeHead(req.url === '/fetch' ? 202 : 200, { 'content-type': 'application/json' }).end('{}'),
    );
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

export async function run() {
  const h = await loadHelpers();
  const [moto, upstream, nodeLayer] = await Promise.all([h.startMotoServer(), sink(), otelNodeLayer()]);
  const layer = join(root, 'dist/layer');
  const variants = [
    { name: 'no layer', codeDir: join(fixtures, 'esm'), handler: 'app/handler.handler', layers: [], env: {} },
    {
      name: 'zero-code (this layer)',
      codeDir: join(fixtures, 'esm'),
      handler: 'app/handler.handler',
      layers: [layer],
      env: { AWS_LAMBDA_EXEC_WRAPPER: join(layer, 'otel-relay-handler') },
    },
    nodeLayer.skipped
      ? { name: 'OpenTelemetry Node layer', skipped: nodeLayer.skipped }
      : {
          name: 'OpenTelemetry Node layer',
          codeDir: join(fixtures, 'esm'),
          handler: 'app/handler.handler',
          layers: [nodeLayer.dir],
          env: { AWS_LAMBDA_EXEC_WRAPPER: nodeLayer.wrapper },
        },
    {
      name: 'middleware (this layer)',
      codeDir: join(fixtures, 'mw'),
      handler: 'index.handler',
      layers: [layer],
      env: {},
    },
  ];
  const results = [];
  try {
    for (const v of variants) {
      if (v.skipped) {
        results.push({ variant: v.name, skipped: v.skipped });
        continue;
      }
      const init = [];
      const cold = [];
      const warm = [];
      const memory = [];
      let spansOk = true;
      for (let r = 0; r < RUNS; r++) {
        const env = await h.LambdaEnvironment.start({
          codeDir: v.codeDir,
          handler: v.handler,
          layers: v.layers,
          functionName: `zerocode-bench-${r}`,
          memoryMb: MEMORY_MB,
          timeoutMs: 30_000,
          costModel: benchCostModel,
          runtimeBootstrap,
          env: {
            ...moto.env,
            ...v.env,
            OTEL_RELAY_HTTP_PORT: String(await h.freePort()),
            OTEL_RELAY_GRPC_PORT: String(await h.freePort()),
            OTEL_EXPORTER_OTLP_ENDPOINT: upstream.url,
          },
        });
        try {
          const first = await env.invoke({ target: upstream.url });
          if (first.status !== 'success') {
            throw new Error(
              `${v.name}: the cold invocation failed (${first.status}):\n${env.output().slice(-3000)}`,
            );
          }
          init.push(first.initDurationMs);
          cold.push(first.durationMs);
          let maxMem = first.maxMemoryUsedMB;
          for (let i = 0; i < WARM; i++) {
            const r2 = await env.invoke({ target: upstream.url });
            spansOk &&= r2.status === 'success';
            warm.push(r2.durationMs);
            maxMem = Math.max(maxMem, r2.maxMemoryUsedMB);
          }
          memory.push(maxMem);
        } finally {
          await env.dispose();
        }
      }
      results.push({
        variant: v.name,
        initMs: median(init),
        coldDurationMs: median(cold),
        warmDurationMs: median(warm),
        maxMemoryUsedMB: median(memory),
        warmInvocationsOk: spansOk,
      });
    }
  } finally {
    upstream.server.close();
    await moto.stop();
    if (nodeLayer.dir) rmSync(nodeLayer.dir, { recursive: true, force: true });
  }
  const base = results.find((r) => r.variant === 'no layer');
  for (const r of results) {
    if (r.initMs !== undefined && base?.initMs !== undefined)
      r.initAddedMs = Math.round((r.initMs - base.initMs) * 10) / 10;
  }
  const zero = results.find((r) => r.variant.startsWith('zero-code'));
  const otel = results.find((r) => r.variant.startsWith('OpenTelemetry'));
  const ratio =
    zero?.initAddedMs !== undefined && otel?.initAddedMs
      ? Math.round((zero.initAddedMs / otel.initAddedMs) * 1000) / 10
      : undefined;
  return {
    name: 'zerocode',
    results: {
      runs: RUNS,
      warmInvocations: WARM,
      memoryMb: MEMORY_MB,
      costModel: benchCostModel,
      variants: results,
      zeroCodeInitAddedPctOfOtelLayer: ratio,
    },
    table: results.map((r) => ({
      variant: r.variant,
      'init ms': r.initMs ?? '-',
      'init added ms': r.initAddedMs ?? '-',
      'cold duration ms': r.coldDurationMs ?? '-',
      'warm duration ms': r.warmDurationMs ?? '-',
      'max memory MB': r.maxMemoryUsedMB ?? '-',
      note:
        r.skipped ??
        (r.variant.startsWith('zero-code') && ratio !== undefined
          ? `init added = ${ratio}% of the OTel Node layer's`
          : ''),
    })),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = await run();
  console.log(JSON.stringify(out.results, null, 2));
  console.table(out.table);
}
