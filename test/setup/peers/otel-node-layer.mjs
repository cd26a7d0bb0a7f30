// The OpenTelemetry Node.js Lambda layer (github.com/open-telemetry/opentelemetry-lambda, nodejs/),
// built from source into the peer cache: the zero-code benchmark's comparison peer. The checkout comes
// from the same OTEL_LAMBDA_SOURCE_DIR setting as the collector layer; without it the bench rows that
// need this peer are skipped with the reason, and a set but wrong path is an error.
//
// Build, in a copy of nodejs/: drop sample-apps/* from the root workspaces and bestzip from the
// devDependencies (it only zips, and its pinned version is not served), `npm install` at the root, then
// in packages/layer `npm run clean && npm run compile && npm run install-externals`. The cache entry's
// layer/ is packages/layer/build/workspace: the layer's /opt content (otel-handler, init.mjs, ...),
// used with AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-handler.
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureCached, runStep, shortHash } from '../peers.mjs';
import { SOURCE_SETTING } from './collector-layer.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The checkout's nodejs/ directory, or undefined when the setting is not set. */
export function otelNodeLayerSource() {
  const setting = process.env[SOURCE_SETTING];
  if (!setting) return undefined;
  const dir = join(isAbsolute(setting) ? setting : resolve(root, setting), 'nodejs');
  if (!existsSync(join(dir, 'packages/layer/package.json'))) {
    throw new Error(
      `peers: ${SOURCE_SETTING}=${setting} does not hold an opentelemetry-lambda checkout (no ${dir}/packages/layer/package.json)`,
    );
  }
  return dir;
}

/** Why the Node layer cannot be had on this machine, or undefined when it can. */
export function otelNodeLayerSkipReason() {
  if (process.env[SOURCE_SETTING]) return undefined;
  return `${SOURCE_SETTING} is not set: point it at a checkout of github.com/open-telemetry/opentelemetry-lambda to build the OpenTelemetry Node layer`;
}

function sourceFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (['build', '.git', 'node_modules', 'sample-apps'].includes(name)) continue;
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Builds the Node layer unless cached; returns its /opt directory. */
export async function ensureOtelNodeLayer({ verbose = false } = {}) {
  const source = otelNodeLayerSource();
  if (!source) throw new Error(`peers: ${otelNodeLayerSkipReason()}`);
  const parts = ['recipe-1'];
  for (const f of sourceFiles(source)) parts.push(relative(source, f), readFileSync(f));
  const dir = join(cacheDir(), `otel-node-layer-${shortHash(...parts)}`);
  const layer = join(dir, 'src/packages/layer/build/workspace');
  await ensureCached(dir, 30 * 60_000, async () => {
    console.log(`peers: building the OpenTelemetry Node layer into ${dir} (minutes on a cold cache)`);
    const src = join(dir, 'src');
    // A copy: the checkout is never modified (it may be read-only).
    cpSync(source, src, {
      recursive: true,
      filter: (p) => !/\/(build|\.git|node_modules|sample-apps)$/.test(p),
    });
    await runStep('chmod', ['-R', 'u+w', src], { timeoutMs: 60_000, label: 'make the source copy writable' });
    const pkgPath = join(src, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    if (Array.isArray(pkg.workspaces))
      pkg.workspaces = pkg.workspaces.filter((w) => !w.startsWith('sample-apps'));
    if (pkg.devDependencies) delete pkg.devDependencies.bestzip;
    writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
    const npm = { cwd: src, timeoutMs: 20 * 60_000, verbose };
    await runStep('npm', ['install', '--no-audit', '--no-fund'], {
      ...npm,
      label: 'npm install (Node layer)',
    });
    const layerDir = join(src, 'packages/layer');
    for (const script of ['clean', 'compile', 'install-externals']) {
      await runStep('npm', ['run', script], {
        ...npm,
        cwd: layerDir,
        label: `npm run ${script} (Node layer)`,
      });
    }
    if (!existsSync(join(layer, 'otel-handler'))) {
      throw new Error(`peers: the Node layer build left no ${join(layer, 'otel-handler')}`);
    }
    console.log('peers: OpenTelemetry Node layer built');
  });
  return layer;
}

/** The registry's entry point: the layer, or a skip with the reason when the source setting is absent. */
export async function prepareOtelNodeLayer(opts) {
  const reason = otelNodeLayerSkipReason();
  if (reason) return { skipped: reason };
  return ensureOtelNodeLayer(opts);
}
