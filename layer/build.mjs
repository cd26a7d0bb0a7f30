#!/usr/bin/env node
// Builds every artifact under dist/ with esbuild. Entries whose source does not exist yet are
// skipped, so the build works at every stage of the project. `--layer` also writes dist/layer.zip.
// The middleware's type declarations come from tsc, run beside esbuild.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { buildDestinations, destinationsPlugin } from './build-destinations.mjs';
import { buildZeroCode } from './build-zero-code.mjs';
import { writeCodeCaches } from './code-cache.mjs';
import { collectFiles, zipFiles } from './zip.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const wantZip = process.argv.includes('--layer');

const CDK_PEERS = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'];

/** One bundle per entry. `layer` bundles run inside Lambda on Node 20, 22 and 24. */
const entries = [
  // The CLI (emulator, replay, publish/attach, ...): one ESM file with a shebang.
  {
    src: 'src/cli/main.ts',
    out: 'dist/cli.mjs',
    format: 'esm',
    banner: '#!/usr/bin/env node',
    executable: true,
  },
  // The emulated Node.js managed runtime the local emulator launches as the function process.
  { src: 'src/local/runtime/bootstrap.ts', out: 'dist/local/runtime.mjs', format: 'esm' },
  // The extension process, minified with a source map: every byte here is cold start.
  {
    src: 'src/extension/main.ts',
    out: 'dist/layer/otel-relay/extension.js',
    format: 'cjs',
    minify: true,
    layer: true,
  },
  // The function-side package, for ESM and CommonJS handlers.
  { src: 'src/middleware/index.ts', out: 'dist/middleware/index.mjs', format: 'esm', library: true },
  { src: 'src/middleware/index.ts', out: 'dist/middleware/index.cjs', format: 'cjs', library: true },
  // `lambda-otel-relay/cdk`: the constructs, for ESM and CommonJS CDK apps. aws-cdk-lib and constructs
  // are the app's own (peer dependencies): two copies of them would make two construct trees.
  { src: 'infra/index.ts', out: 'dist/cdk/index.mjs', format: 'esm', external: CDK_PEERS },
  { src: 'infra/index.ts', out: 'dist/cdk/index.cjs', format: 'cjs', external: CDK_PEERS },
  // `lambda-otel-relay/serverless`: the framework require()s plugins, so CommonJS, and the class is the
  // module itself (the footer) as the framework expects.
  {
    src: 'infra/serverless/plugin.ts',
    out: 'dist/serverless/plugin.cjs',
    format: 'cjs',
    footer: 'module.exports = Object.assign(module.exports.default, module.exports);',
  },
  // The replay function the OtelRelayReplayer construct deploys (handler: index.handler).
  { src: 'src/cli/replay/lambda.ts', out: 'dist/replayer/index.mjs', format: 'esm' },
  // The demo's example function, bundled as a user would deploy it: middleware and SDK included. It
  // imports `lambda-otel-relay/middleware` (this package, by self-reference), so it comes after it.
  {
    src: 'examples/orders-api/index.mjs',
    out: 'dist/examples/orders-api/index.mjs',
    format: 'esm',
    // Bundled CommonJS dependencies call require(); an ESM bundle has to provide it.
    banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
];

/**
 * Declarations for `lambda-otel-relay/middleware`, one tree per module format: dist/middleware/esm
 * for `import` and dist/middleware/cjs (pinned to CommonJS by a package.json) for `require`. A single
 * tree would be read as ESM everywhere (this package is "type": "module"), and a CommonJS consumer's
 * `require` of ESM types is an error under module node16. tsc runs in parallel with esbuild; a type
 * error in src/middleware fails the build.
 */
async function middlewareDeclarations() {
  const entry = 'src/middleware/index.ts';
  if (!existsSync(join(root, entry))) return [];
  const esm = join(dist, 'middleware/esm');
  const cjs = join(dist, 'middleware/cjs');
  // cjs/package.json is written last, so it marks a complete emit; tsc (~1-2 s) is skipped while no
  // middleware source (nor this script, which holds the flags) is newer. Every test run builds.
  const done = join(cjs, 'package.json');
  const inputs = [
    fileURLToPath(import.meta.url),
    ...readdirSync(join(root, 'src/middleware'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(root, 'src/middleware', f)),
  ];
  const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
  if (existsSync(done) && statSync(done).mtimeMs >= newest)
    return ['dist/middleware/{esm,cjs}/*.d.ts (up to date)'];
  rmSync(esm, { recursive: true, force: true });
  rmSync(cjs, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // Flags rather than a tsconfig: a tsconfig in src/middleware would change how editors check it.
  const flags = ['--declaration', '--emitDeclarationOnly', '--rootDir', 'src/middleware', '--outDir', esm];
  const target = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
  const checks = ['--strict', '--skipLibCheck', '--types', 'node', '--lib', 'es2023'];
  try {
    await promisify(execFile)(process.execPath, [tsc, entry, ...flags, ...target, ...checks], { cwd: root });
  } catch (err) {
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
    throw new Error(`middleware declarations: tsc failed\n${out}`, { cause: err });
  }
  cpSync(esm, cjs, { recursive: true });
  writeFileSync(done, '{ "type": "commonjs" }\n');
  return ['dist/middleware/esm/*.d.ts', 'dist/middleware/cjs/*.d.ts'];
}

/**
 * Declarations for `lambda-otel-relay/cdk` (tsc from infra/index.ts; the tree keeps the source
 * layout, so the entry is dist/cdk/types/infra/index.d.ts), copied for `require` like the
 * middleware's; and the serverless plugin's, written by hand (one class). Skipped while no source under
 * infra/ or src/ is newer than the last emit.
 */
async function cdkDeclarations() {
  const entry = 'infra/index.ts';
  if (!existsSync(join(root, entry))) return [];
  const esm = join(dist, 'cdk/types');
  const cjs = join(dist, 'cdk/types-cjs');
  const done = join(cjs, 'package.json');
  const inputs = [fileURLToPath(import.meta.url)];
  for (const dir of ['infra', 'src']) {
    for (const f of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
      if (f.endsWith('.ts')) inputs.push(join(root, dir, f));
    }
  }
  const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
  if (existsSync(done) && statSync(done).mtimeMs >= newest) return ['dist/cdk/types*/ (up to date)'];
  rmSync(esm, { recursive: true, force: true });
  rmSync(cjs, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const flags = ['--declaration', '--emitDeclarationOnly', '--rootDir', '.', '--outDir', esm];
  const target = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
  const checks = ['--strict', '--skipLibCheck', '--types', 'node', '--lib', 'es2023'];
  try {
    await promisify(execFile)(process.execPath, [tsc, entry, ...flags, ...target, ...checks], { cwd: root });
  } catch (err) {
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
    throw new Error(`cdk declarations: tsc failed\n${out}`, { cause: err });
  }
  cpSync(esm, cjs, { recursive: true });
  mkdirSync(join(dist, 'serverless'), { recursive: true });
  writeFileSync(
    join(dist, 'serverless/plugin.d.cts'),
    [
      '/** The lambda-otel-relay Serverless Framework plugin (v3 API); configure it under custom.otelRelay. */',
      'declare class OtelRelayServerlessPlugin {',
      '  constructor(serverless: unknown, options?: unknown);',
      '  readonly hooks: Record<string, () => void>;',
      '}',
      'export = OtelRelayServerlessPlugin;',
      '',
    ].join('\n'),
  );
  writeFileSync(done, '{ "type": "commonjs" }\n');
  return ['dist/cdk/types/**/*.d.ts', 'dist/cdk/types-cjs/**/*.d.ts', 'dist/serverless/plugin.d.cts'];
}

const started = Date.now();
const built = [];
const declarations = Promise.all([middlewareDeclarations(), cdkDeclarations()]).then((l) => l.flat());
// Settled here so a failing esbuild step does not leave an unhandled rejection behind.
declarations.catch(() => {});
// The layer directory is rebuilt from scratch: a file left by an earlier build (an old LEGAL.txt, a
// renamed chunk) would otherwise ship in the zip.
if (existsSync(join(root, 'src/extension/main.ts')))
  rmSync(join(dist, 'layer'), { recursive: true, force: true });
const destinations = new Set();
for (const e of entries) {
  if (!existsSync(join(root, e.src))) continue;
  await build({
    entryPoints: [join(root, e.src)],
    outfile: join(root, e.out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: e.format,
    minify: Boolean(e.minify),
    // No inline maps: they would double what the package ships (dist/cli.mjs alone carried 1.7 MB).
    // Maps are written beside the bundles for reading stack traces; the package and the layer leave
    // them out.
    sourcemap: e.layer ? 'linked' : 'external',
    legalComments: e.layer ? 'external' : 'inline',
    // The middleware's peers stay with the user's function; everything else is bundled.
    external: e.library ? ['@opentelemetry/*', '@middy/core'] : (e.external ?? []),
    banner: e.banner ? { js: e.banner } : undefined,
    plugins: e.layer ? [destinationsPlugin(destinations)] : [],
    footer: e.footer ? { js: e.footer } : undefined,
    // A CommonJS bundle has no import.meta; the package-root lookup starts from this file instead.
    ...(e.format === 'cjs' && !e.layer
      ? { define: { 'import.meta.url': '__bundleUrl' }, inject: [join(root, 'layer/bundle-url.mjs')] }
      : {}),
    logLevel: 'warning',
  });
  if (e.layer)
    built.push(...(await buildDestinations({ root, build, extensionOut: e.out, names: destinations })));
  if (e.executable) chmodSync(join(root, e.out), 0o755);
  // The layer bundle is CommonJS in a .js file: pin that, or a package.json with "type": "module" in a
  // parent directory (this repo's, or one another layer puts in /opt) would make Node load it as ESM.
  if (e.layer) writeFileSync(join(dirname(join(root, e.out)), 'package.json'), '{ "type": "commonjs" }\n');
  built.push(e.out);
}

built.push(...(await buildZeroCode({ root, build })));

if (existsSync(join(dist, 'layer/otel-relay/extension.js'))) {
  const launcher = join(dist, 'layer/extensions/otel-relay');
  mkdirSync(dirname(launcher), { recursive: true });
  copyFileSync(join(root, 'layer/otel-relay.sh'), launcher);
  chmodSync(launcher, 0o755);
  built.push('dist/layer/extensions/otel-relay');
  const cacheNodes = process.argv
    .filter((a) => a.startsWith('--code-cache-node='))
    .map((a) => a.split('=')[1]);
  const caches = await writeCodeCaches(
    join(dist, 'layer/otel-relay'),
    join(root, 'layer/start.cjs'),
    cacheNodes,
  );
  built.push(...caches.map((f) => `dist/layer/otel-relay/${f}`));
  if (wantZip) {
    // Written by layer/zip.mjs: sorted entries and fixed timestamps, so the same build gives the same
    // sha256 anywhere, and no system zip binary is needed. The executable bit of the launcher is kept.
    // The source map stays in dist/ for reading stack traces: the launcher does not pass
    // --enable-source-maps (measured: +6 ms to load the bundle and +7 MB RSS), so in the layer it would
    // be unused bytes.
    const files = collectFiles(join(dist, 'layer'), (path) => path.endsWith('.map'));
    writeFileSync(join(dist, 'layer.zip'), zipFiles(files));
    built.push('dist/layer.zip');
  }
}

built.push(...(await declarations));

console.error(`built ${built.length} artifacts in ${Date.now() - started} ms: ${built.join(', ')}`);
