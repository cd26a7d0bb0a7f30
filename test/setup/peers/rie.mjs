// The AWS Lambda Runtime Interface Emulator (github.com/aws/aws-lambda-runtime-interface-emulator), AWS's
// own implementation of the Runtime and Extensions APIs, built from the Go module proxy into the peer
// cache. It is the second fidelity check of the local emulator: the relay layer runs under it too.
import { join } from 'node:path';
import { cacheDir, ensureCached, runStep, shortHash } from '../peers.mjs';

export const RIE_MODULE = 'github.com/aws/aws-lambda-runtime-interface-emulator';
/** No tagged release carries the current sources; this pseudo-version is the pinned commit. */
export const RIE_VERSION = 'v0.0.0-20261030222936-bef5c4ba774d';

/** The cache entry for the pinned version (it may not exist yet). */
export function rieDir() {
  return join(cacheDir(), `rie-${shortHash(RIE_MODULE, RIE_VERSION)}`);
}

/** Builds aws-lambda-rie unless cached; returns the binary's path. */
export async function ensureRie({ verbose = false } = {}) {
  const dir = rieDir();
  const binary = join(dir, 'bin/aws-lambda-rie');
  await ensureCached(dir, 20 * 60_000, async () => {
    console.log(`peers: building the Runtime Interface Emulator ${RIE_VERSION} into ${dir}`);
    const env = { ...process.env, GOBIN: join(dir, 'bin'), CGO_ENABLED: '0' };
    await runStep('go', ['version'], {
      env,
      timeoutMs: 30_000,
      label: 'go version (a Go toolchain is needed to build the Runtime Interface Emulator)',
    });
    await runStep(
      'go',
      ['install', '-trimpath', '-ldflags=-s -w', `${RIE_MODULE}/cmd/aws-lambda-rie@${RIE_VERSION}`],
      {
        env,
        timeoutMs: 20 * 60_000,
        verbose,
        label: `go install aws-lambda-rie@${RIE_VERSION}`,
      },
    );
    // The binary has no version or help flag (unknown flags are taken as the bootstrap to run), so
    // the build info embedded by go is what says it is the pinned module.
    const info = await runStep('go', ['version', '-m', binary], {
      env,
      timeoutMs: 30_000,
      label: 'go version -m',
    });
    if (!info.includes(`${RIE_MODULE}\t${RIE_VERSION}`)) {
      throw new Error(`peers: ${binary} is not ${RIE_MODULE}@${RIE_VERSION}:\n${info}`);
    }
  });
  return binary;
}
