// Builds one command of a Go module into the peer cache, under nice so a cold build shares the
// machine politely. Not `go install pkg@version`: that also reads the module's version list (for
// deprecation notices), which the module proxy here refuses for some modules. A one-line wrapper
// module requiring the exact version needs only that version's files. The cache entry is keyed by package, version and tags,
// and the wall time of the build is recorded beside the binary (build-seconds) for the docs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, ensureCached, runStep, shortHash } from '../peers.mjs';

/**
 * @param {{ name: string, module: string, pkg: string, version: string, tags?: string[], verbose?: boolean, timeoutMs?: number }} spec
 * @returns {Promise<string>} the binary's path
 */
export async function ensureGoBinary({
  name,
  module,
  pkg,
  version,
  tags = [],
  verbose = false,
  timeoutMs = 45 * 60_000,
}) {
  const dir = join(cacheDir(), `${name}-${shortHash(pkg, version, tags.join(','))}`);
  const binary = join(dir, 'bin', pkg.split('/').at(-1));
  await ensureCached(dir, timeoutMs, async () => {
    console.log(`peers: building ${pkg}@${version} into ${dir} (takes minutes on a cold cache)`);
    const env = { ...process.env, GOBIN: join(dir, 'bin'), CGO_ENABLED: '0' };
    const started = Date.now();
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    writeFileSync(
      join(src, 'go.mod'),
      `module relaypeer/${name}\n\ngo 1.24\n\nrequire ${module} ${version}\n`,
    );
    const args = ['-n', '10', 'go', 'build', '-mod=mod', '-trimpath', '-ldflags=-s -w', '-o', binary];
    if (tags.length > 0) args.push(`-tags=${tags.join(',')}`);
    args.push(pkg);
    await runStep('nice', args, { env, cwd: src, timeoutMs, verbose, label: `go build ${pkg}@${version}` });
    writeFileSync(join(dir, 'build-seconds'), String(Math.round((Date.now() - started) / 1000)));
  });
  return binary;
}
