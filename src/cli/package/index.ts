// Where this package's own files are, wherever it is installed: the checkout, node_modules, or an
// npx cache. The CLI and the CDK constructs are bundled into dist/, so "relative to this file" means a
// different depth in each; walking up to the package's package.json is the same everywhere.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'lambda-otel-relay';

/** The directory holding this package's package.json, found upward from `from` (a file URL or path). */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (let i = 0; i < 20; i++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME)
          return dir;
      } catch {
        // A package.json that is not JSON is not ours; keep looking upward.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find the ${PACKAGE_NAME} package directory above ${from}; reinstall the package`);
}

/** The built layer tree (extensions/otel-relay and otel-relay/extension.js) this package ships. */
export function packagedLayerDir(): string {
  return join(packageRoot(), 'dist/layer');
}

/** The layer zip this package ships (byte-for-byte reproducible, built by layer/build.mjs --layer). */
export function packagedLayerZip(): string {
  return join(packageRoot(), 'dist/layer.zip');
}
