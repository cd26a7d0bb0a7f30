// Destinations that are loaded only when selected (kafka, redis, postgres, zipkin, ...) ship as
// separate files beside the extension bundle, `otel-relay/destinations/<name>.js`, each with its
// client library inside. Inlined, kafkajs alone would add ~260 KB that every cold start parses.
// The plugin turns each `import('./<name>/index.js')` in src/extension/destinations/index.ts into a
// require of that file; `buildDestinations` then bundles the files it saw.
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

const LOADER = `${sep}src${sep}extension${sep}destinations${sep}index.ts`;
const DYNAMIC = /^\.\/([a-z0-9]+)\/index\.js$/;

/**
 * An esbuild plugin for the extension bundle; `seen` collects the destination names it separated.
 * The dynamic import becomes a `require` of the file (through a one-line stub module), not an
 * `import()`: the layer runs extension.js through vm.Script with a code cache, where `import()` has
 * no loader. `require` there is the launcher's, which resolves from the same directory.
 */
export function destinationsPlugin(seen) {
  return {
    name: 'separate-destinations',
    setup(b) {
      b.onResolve({ filter: DYNAMIC }, (args) => {
        if (args.kind !== 'dynamic-import' || !args.importer.endsWith(LOADER)) return undefined;
        const name = DYNAMIC.exec(args.path)?.[1];
        if (!name) return undefined;
        seen.add(name);
        return { path: name, namespace: 'relay-destination' };
      });
      b.onLoad({ filter: /.*/, namespace: 'relay-destination' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(`./destinations/${args.path}.js`)});`,
        loader: 'js',
      }));
      b.onResolve({ filter: /^\.\/destinations\/[a-z0-9]+\.js$/ }, (args) =>
        args.namespace === 'relay-destination' ? { path: args.path, external: true } : undefined,
      );
    },
  };
}

/** Bundles one file per destination the plugin saw, beside `extensionOut`; returns what it wrote. */
export async function buildDestinations({ root, build, extensionOut, names }) {
  const outDir = join(dirname(join(root, extensionOut)), 'destinations');
  const written = [];
  for (const name of [...names].sort()) {
    const src = join(root, 'src/extension/destinations', name, 'index.ts');
    if (!existsSync(src))
      throw new Error(`layer: destination ${name} is loaded by the registry but ${src} is missing`);
    const out = join(outDir, `${name}.js`);
    await build({
      entryPoints: [src],
      outfile: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      sourcemap: 'linked',
      legalComments: 'external',
      logLevel: 'warning',
    });
    written.push(`${extensionOut.replace(/[^/]+$/, '')}destinations/${name}.js`);
  }
  return written;
}
