// redis-server for the redis destination's tests, from Debian's package (installed with apt-get as
// root when it is missing). Started per test file by test/helpers/redis.ts.
import { existsSync } from 'node:fs';
import { runStep } from '../peers.mjs';

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

/** The redis-server binary, installing the Debian package first if there is none. */
export async function ensureRedis({ verbose = false } = {}) {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'peers: redis-server is missing; install it with: apt-get install -y redis-server (as root)',
    );
  }
  console.log('peers: installing redis-server from Debian packages');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runStep('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update'], {
    env,
    timeoutMs: 10 * 60_000,
    verbose,
    label: 'apt-get update',
  });
  await runStep(
    'apt-get',
    ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'redis-server'],
    {
      env,
      timeoutMs: 10 * 60_000,
      verbose,
      label: 'apt-get install redis-server',
    },
  );
  const installed = CANDIDATES.find((p) => existsSync(p));
  if (!installed) throw new Error('peers: apt-get installed redis-server but no binary was found');
  return installed;
}
