// What the benches share: the emulator and the test helpers are TypeScript, so they are bundled once
// into a temporary module (`npm run bench` runs plain Node) and loaded from there.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

let loaded;
/**
 * LambdaEnvironment, startCollector, freePort, prepareCollectorLayer and collectorLayerSkipReason,
 * bundled from src/ and test/helpers/ on first use.
 */
export async function loadHelpers() {
  if (loaded) return loaded;
  const dir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export { LambdaEnvironment } from ${JSON.stringify(join(root, 'src/local/index.ts'))};
     export { startCollector } from ${JSON.stringify(join(root, 'test/helpers/collector.ts'))};
     export { freePort } from ${JSON.stringify(join(root, 'test/helpers/ports.ts'))};
     export { prepareCollectorLayer, collectorLayerSkipReason } from ${JSON.stringify(join(root, 'test/helpers/collector-layer.ts'))};`,
  );
  const out = join(dir, 'entry.mjs');
  // Plain .mjs helpers (test/setup/peers.mjs) find their files from their own location: keep them external.
  const keepMjs = {
    name: 'keep-mjs',
    setup(b) {
      b.onResolve({ filter: /\.mjs$/ }, (args) => ({
        path: pathToFileURL(resolvePath(args.resolveDir, args.path)).href,
        external: true,
      }));
    },
  };
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    packages: 'external',
    logLevel: 'error',
    plugins: [keepMjs],
  });
  loaded = await import(pathToFileURL(out).href);
  rmSync(dir, { recursive: true, force: true });
  return loaded;
}

/** The emulated runtime's bootstrap: the bundle above lives in a temporary directory, so name it. */
export const runtimeBootstrap = join(root, 'dist/local/runtime.mjs');

/**
 * The emulator's cost model for every bench environment: Lambda's (CPU in proportion to memory during
 * invocations, the memory limit, Max Memory Used from the memory group) unless BENCH_COST_MODEL=none.
 */
export const benchCostModel = process.env.BENCH_COST_MODEL ?? 'lambda';
