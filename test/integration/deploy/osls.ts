// The Serverless Framework for the serverless.yml test: osls (the open-source continuation of the
// v3 framework, no login or dashboard), pinned, installed once under the peers cache directory.
// Not a devDependency: it brings ~100 MB of AWS SDK clients that nothing else needs.
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, runStep } from '../../setup/peers.mjs';

export const OSLS_VERSION = '4.3.1';

/** Path of the `serverless` executable, installing osls first when the cache does not have it. */
export async function ensureServerlessFramework(): Promise<string> {
  const dir = join(cacheDir(), `osls-${OSLS_VERSION}`);
  const bin = join(dir, 'node_modules/.bin/serverless');
  if (existsSync(bin)) return bin;
  // Installed beside the final place and renamed into it, so a killed install never looks complete.
  const staging = mkdtempSync(`${dir}.partial-`);
  try {
    await runStep(
      'npm',
      ['install', '--prefix', staging, '--no-save', '--no-audit', '--no-fund', `osls@${OSLS_VERSION}`],
      { timeoutMs: 240_000, label: `npm install osls@${OSLS_VERSION}` },
    );
    if (!existsSync(bin)) renameSync(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!existsSync(bin)) throw new Error(`osls ${OSLS_VERSION} installed but ${bin} is missing`);
  return bin;
}
