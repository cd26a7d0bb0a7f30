#!/usr/bin/env node
// First step of the README's two commands: makes a fresh clone ready. Installs npm packages when
// node_modules is missing or older than package-lock.json; with --peers also prepares the real test
// peers (the OpenTelemetry Collector, the S3 server, ...), see peers.mjs; with --nice it does so at a
// lower CPU priority, as `npm test` runs it beside lint and unit tests. Uses only Node built-ins.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules/.package-lock.json');

const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.error('deps: installing npm packages (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=warn'], { cwd: root, stdio: 'inherit' });
}

if (process.argv.includes('--peers')) {
  // Builds started from here (go, pip) inherit the priority, so the tests beside them keep the cores.
  if (process.argv.includes('--nice')) setPriority(10);
  const { preparePeers } = await import('./peers.mjs');
  try {
    await preparePeers();
  } catch (err) {
    console.error(err.message);
    process.exitCode = 1;
  }
}
