#!/usr/bin/env node
// `npm test`: the whole check, with the slow part (building the test peers on a cold cache) off the
// critical path. In order:
//   1. npm packages (deps.mjs), which everything else needs;
//   2. peer preparation starts in the background (deps.mjs --peers --nice), its build output going to a
//      log file and its `peers: ...` status lines to this output;
//   3. meanwhile Biome, tsc --noEmit and the unit tests (test/unit, which need no peer);
//   4. once every peer is ready (or has failed), the rest of the suite (integration, chaos, ...).
// Arguments are passed to both vitest phases as file filters (`npm test -- test/integration/peers`).
// Every phase runs even when an earlier one failed, so one run reports everything; the exit status is
// 1 when any phase failed. A peer that failed to build is named with its log tail, and the integration
// tests that need it fail at once with the same reason (the run id below) instead of rebuilding it.
// Uses only Node built-ins.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (name) => join(root, 'node_modules/.bin', name);
const runId = `${process.pid}-${Date.now()}`;
const env = { ...process.env, LAMBDA_OTEL_RELAY_RUN_ID: runId };
const started = Date.now();
const filters = process.argv.slice(2);
// With filters, one phase may match no file at all, which is not a failure.
const vitestArgs = ['run', ...(filters.length > 0 ? ['--passWithNoTests', ...filters] : [])];
const phases = [];
let foreground;
let peersChild;

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs one foreground phase with the terminal attached; records pass/fail. */
function phase(name, command, args, extraEnv = {}) {
  const t0 = Date.now();
  return new Promise((done) => {
    console.log(`\ntest: ${name} ...`);
    foreground = spawn(command, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: 'inherit' });
    const finish = (ok, detail) => {
      foreground = undefined;
      phases.push({ name, ok, ms: Date.now() - t0, detail });
      console.log(
        `test: ${name} ${ok ? 'passed' : `FAILED${detail ? ` (${detail})` : ''}`} in ${seconds(Date.now() - t0)}`,
      );
      done(ok);
    };
    foreground.on('error', (err) => finish(false, `${command} could not start: ${err.message}`));
    foreground.on('close', (code, signal) =>
      finish(code === 0, code === 0 ? '' : (signal ?? `exit ${code}`)),
    );
  });
}

/** Starts peer preparation in its own process group; resolves when it has ended. */
function startPeers() {
  const logPath = join(mkdtempSync(join(tmpdir(), 'relay-peers-')), 'peers.log');
  const log = createWriteStream(logPath);
  const t0 = Date.now();
  console.log(`test: preparing peers in the background (build output: ${logPath})`);
  peersChild = spawn(process.execPath, [join(root, 'test/setup/deps.mjs'), '--peers', '--nice'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let partial = '';
  peersChild.stdout.on('data', (chunk) => {
    log.write(chunk);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('peers: ')) console.log(line);
  });
  peersChild.stderr.on('data', (chunk) => log.write(chunk));
  return new Promise((done) => {
    const finish = (ok, detail) => {
      peersChild = undefined;
      log.end(() => {
        phases.push({ name: 'peers', ok, ms: Date.now() - t0, detail });
        if (!ok) {
          const tail = readFileSync(logPath, 'utf8').split('\n').slice(-60).join('\n');
          console.log(`\ntest: peer preparation FAILED (${detail}); last lines of ${logPath}:\n${tail}`);
        } else console.log(`test: peers ready in ${seconds(Date.now() - t0)}`);
        done(ok);
      });
    };
    peersChild.on('error', (err) => finish(false, `could not start: ${err.message}`));
    peersChild.on('close', (code, signal) => finish(code === 0, signal ?? `exit ${code}`));
  });
}

function stopChildren(signal) {
  if (peersChild?.pid) {
    try {
      process.kill(-peersChild.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  foreground?.kill(signal);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.log(`test: ${signal} received; stopping the peer builds and the current phase`);
    stopChildren(signal);
    process.exit(130);
  });
}

// 1. npm packages first: Biome, tsc and vitest come from node_modules.
const deps = spawnSync(process.execPath, [join(root, 'test/setup/deps.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (deps.status !== 0) {
  console.log('test: installing npm packages failed; nothing else can run');
  process.exit(1);
}

// 2-3. Peers in the background; lint, types and unit tests in the foreground.
const peersDone = startPeers();
await phase('biome check', bin('biome'), ['check', '.']);
await phase('tsc --noEmit', bin('tsc'), ['--noEmit']);
await phase('unit tests', bin('vitest'), vitestArgs, { LAMBDA_OTEL_RELAY_TEST_PHASE: 'unit' });

// 4. The suite that needs peers, once they are ready.
if (peersChild) console.log('test: waiting for the peers before the integration tests');
await peersDone;
await phase('integration tests', bin('vitest'), vitestArgs, {
  LAMBDA_OTEL_RELAY_TEST_PHASE: 'integration',
});

const failed = phases.filter((p) => !p.ok);
const order = ['biome check', 'tsc --noEmit', 'unit tests', 'peers', 'integration tests'];
phases.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
console.log(
  `\ntest: ${phases.map((p) => `${p.name} ${p.ok ? 'ok' : 'FAILED'} (${seconds(p.ms)})`).join(', ')}; total ${seconds(Date.now() - started)}`,
);
process.exit(failed.length > 0 ? 1 : 0);
