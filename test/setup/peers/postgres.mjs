// PostgreSQL for the postgres destination's tests, from Debian's packages (installed with apt-get as
// root when missing). Each test file starts its own server (test/helpers/postgres.ts) in a temporary
// data directory, as the `postgres` user (the server refuses to run as root).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runStep } from '../peers.mjs';

const ROOT = '/usr/lib/postgresql';

function findBinDir() {
  if (!existsSync(ROOT)) return undefined;
  const versions = readdirSync(ROOT)
    .filter((v) => existsSync(join(ROOT, v, 'bin/initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(ROOT, versions[0], 'bin') : undefined;
}

/** The directory holding initdb and postgres, installing the Debian package first if needed. */
export async function ensurePostgres({ verbose = false } = {}) {
  const found = findBinDir();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('peers: PostgreSQL is missing; install it with: apt-get install -y postgresql (as root)');
  }
  console.log('peers: installing PostgreSQL from Debian packages');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runStep('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update'], {
    env,
    timeoutMs: 10 * 60_000,
    verbose,
    label: 'apt-get update',
  });
  await runStep(
    'apt-get',
    ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'postgresql'],
    {
      env,
      timeoutMs: 15 * 60_000,
      verbose,
      label: 'apt-get install postgresql',
    },
  );
  const installed = findBinDir();
  if (!installed) throw new Error(`peers: apt-get installed postgresql but ${ROOT}/*/bin/initdb is missing`);
  return installed;
}
