// The OpenTelemetry Lambda collector layer (github.com/open-telemetry/opentelemetry-lambda, collector/),
// built unmodified into the peer cache as a benchmark peer and as the check that the emulator runs a
// real third-party extension the way Lambda does.
//
// Its Go modules are not served by the module proxy, so the source comes from a checkout named by the
// OTEL_LAMBDA_SOURCE_DIR setting (the repository root, holding collector/; a relative path is taken
// from this repository's root). .ci/run sets it; on a machine where it is not set, the tests and bench
// rows that need this peer say so as a skip with the reason (collectorLayerSkipReason()). A set but
// wrong path is an error, never a skip.
//
// The build follows the upstream Makefile's `build` recipe (CGO_ENABLED=0 go build -trimpath) in a copy
// of the source, with two module versions substituted because the proxy here refuses the pinned ones
// (MODULE_SUBSTITUTES). The cache entry is the layer's /opt content:
//   layer/extensions/collector           the extension binary
//   layer/collector-config/config.yaml   upstream's default config (the layer's default config URI)
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureCached, runStep, shortHash } from '../peers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The setting that names the opentelemetry-lambda checkout. */
export const SOURCE_SETTING = 'OTEL_LAMBDA_SOURCE_DIR';

/**
 * Module versions replaced in the copy before building: the proxy here does not serve the pinned
 * ones. The first is the Secrets Manager config-URI provider (not on the data path); the second is an
 * indirect dependency of the Prometheus client.
 */
export const MODULE_SUBSTITUTES = [
  [
    'github.com/open-telemetry/opentelemetry-collector-contrib/confmap/provider/secretsmanagerprovider',
    'v0.155.0',
  ],
  ['github.com/prometheus/client_golang/exp', 'v0.0.0-20260724065723-ecdb8254ba61'],
];

/** The checkout's collector/ directory, or undefined when the setting is not set. */
export function collectorLayerSource() {
  const setting = process.env[SOURCE_SETTING];
  if (!setting) return undefined;
  const dir = join(isAbsolute(setting) ? setting : resolve(root, setting), 'collector');
  if (!existsSync(join(dir, 'go.mod'))) {
    throw new Error(
      `peers: ${SOURCE_SETTING}=${setting} does not hold an opentelemetry-lambda checkout (no ${dir}/go.mod)`,
    );
  }
  return dir;
}

/** Why the collector layer cannot be had on this machine, or undefined when it can. */
export function collectorLayerSkipReason() {
  if (process.env[SOURCE_SETTING]) return undefined;
  return `${SOURCE_SETTING} is not set: point it at a checkout of github.com/open-telemetry/opentelemetry-lambda to run the collector layer (its Go modules are not on the module proxy)`;
}

function sourceFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (name === 'build' || name === '.git') continue;
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The cache entry for the current source and substitutions (it may not exist yet). */
export function collectorLayerDir(source = collectorLayerSource()) {
  if (!source) throw new Error(`peers: ${collectorLayerSkipReason()}`);
  const parts = [JSON.stringify(MODULE_SUBSTITUTES)];
  for (const f of sourceFiles(source)) parts.push(relative(source, f), readFileSync(f));
  return join(cacheDir(), `otel-collector-layer-${shortHash(...parts)}`);
}

/**
 * Builds the collector layer unless cached; returns the layer directory (the layer's /opt content).
 * Throws when the source setting is absent: callers that may skip check collectorLayerSkipReason() first.
 */
export async function ensureCollectorLayer({ verbose = false } = {}) {
  const source = collectorLayerSource();
  const dir = collectorLayerDir(source);
  const layer = join(dir, 'layer');
  await ensureCached(dir, 40 * 60_000, async () => {
    console.log(
      `peers: building the OpenTelemetry Lambda collector layer into ${dir} (minutes on a cold cache)`,
    );
    const src = join(dir, 'src');
    // A copy: the checkout is never modified (it may be read-only).
    cpSync(source, src, { recursive: true, filter: (p) => !p.endsWith('/build') && !p.endsWith('/.git') });
    await runStep('chmod', ['-R', 'u+w', src], { timeoutMs: 60_000, label: 'make the source copy writable' });
    const env = { ...process.env, CGO_ENABLED: '0', GO111MODULE: 'on', GOFLAGS: '-mod=mod', GOOS: 'linux' };
    await runStep('go', ['version'], {
      env,
      timeoutMs: 30_000,
      label: 'go version (a Go toolchain is needed to build the collector layer)',
    });
    for (const [module, version] of MODULE_SUBSTITUTES) {
      await runStep('go', ['mod', 'edit', `-replace=${module}=${module}@${version}`], {
        env,
        cwd: src,
        timeoutMs: 30_000,
        label: `go mod edit (${module} -> ${version})`,
      });
    }
    const goMod = readFileSync(join(src, 'go.mod'), 'utf8');
    const otelcol = /go\.opentelemetry\.io\/collector\/otelcol (v\S+)/.exec(goMod)?.[1] ?? 'unknown';
    mkdirSync(join(layer, 'extensions'), { recursive: true });
    await runStep(
      'go',
      [
        'build',
        '-trimpath',
        `-ldflags=-s -w -X main.Version=${otelcol}`,
        '-o',
        join(layer, 'extensions/collector'),
        '.',
      ],
      { env, cwd: src, timeoutMs: 40 * 60_000, verbose, label: 'go build (collector layer)' },
    );
    mkdirSync(join(layer, 'collector-config'), { recursive: true });
    cpSync(join(src, 'config.yaml'), join(layer, 'collector-config/config.yaml'));
    const reported = (
      await runStep(join(layer, 'extensions/collector'), ['-v'], {
        timeoutMs: 30_000,
        label: 'collector layer -v',
      })
    ).trim();
    if (reported !== otelcol)
      throw new Error(`peers: the collector layer reports ${reported}, not ${otelcol}`);
    console.log(`peers: collector layer built (otelcol ${otelcol})`);
  });
  return layer;
}

/** The registry's entry point: the layer, or a skip with the reason when the source setting is absent. */
export async function prepareCollectorLayer(opts) {
  const reason = collectorLayerSkipReason();
  if (reason) return { skipped: reason };
  return ensureCollectorLayer(opts);
}
