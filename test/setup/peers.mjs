// Prepares the real peers the tests run against, each cached under ~/.cache/lambda-otel-relay (or
// $LAMBDA_OTEL_RELAY_CACHE) keyed by a hash of what defines it, so CI and later runs reuse it:
//   venv-<hash>      Python venv from test/peers/requirements.txt (moto S3 server, OTel Python SDK)
// `npm test` calls preparePeers() up front; the test helpers call the same ensure* functions lazily, so
// a single test file run by hand still gets its peer. Concurrent callers (two vitest workers) are
// serialised by a lock directory beside the cache entry. A peer that cannot be prepared throws with the
// reason: tests fail loudly, they never skip. Uses only Node built-ins.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const peersDir = join(root, 'test/peers');

/** Where every prepared peer lives. */
export function cacheDir() {
  return process.env.LAMBDA_OTEL_RELAY_CACHE ?? join(homedir(), '.cache/lambda-otel-relay');
}

function shortHash(...parts) {
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
 * Prepares one cache entry: `build(dir)` fills dir, then a `.ready` marker is written. A directory
 * without the marker is a half-finished build and is started over.
 */
async function ensureCached(dir, waitMs, build) {
  const ready = join(dir, '.ready');
  if (existsSync(ready)) return dir;
  return withLock(dir, waitMs, async () => {
    if (existsSync(ready)) return dir;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await build(dir);
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

/** Everything `npm test` needs, prepared up front so that test files only start processes. */
export async function preparePeers() {
  const started = Date.now();
  const venv = await ensurePythonVenv({ verbose: true });
  console.log(`peers: Python venv ready (${venv.dir})`);
  console.log(`peers: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
