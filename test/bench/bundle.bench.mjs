// Sizes of what the layer ships: the bundle, its source map, the launcher, and dist/layer.zip.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const files = {
  bundle: 'dist/layer/otel-relay/extension.js',
  sourceMap: 'dist/layer/otel-relay/extension.js.map',
  launcher: 'dist/layer/extensions/otel-relay',
  zip: 'dist/layer.zip',
};

export async function run() {
  const results = {};
  for (const [k, f] of Object.entries(files)) {
    const p = join(root, f);
    results[`${k}Bytes`] = existsSync(p) ? statSync(p).size : null;
  }
  return {
    name: 'bundle',
    results,
    table: Object.entries(files).map(([k, f]) => ({
      file: f,
      kib:
        results[`${k}Bytes`] === null
          ? 'missing (run npm run build:layer)'
          : Math.round(results[`${k}Bytes`] / 102.4) / 10,
    })),
  };
}
