// The zero-code part of the layer: /opt/otel-relay-handler (the AWS_LAMBDA_EXEC_WRAPPER script),
// /opt/otel-relay/zero-code.mjs (SDK, invocation core and handler loading: one minified ESM file), and
// one minified CommonJS file per instrumentation under /opt/otel-relay/zero-code/, required only when
// the instrumentation is turned on (most of them on the first require of the module they patch).
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const ZERO_CODE_INSTRUMENTATIONS = [
  'http',
  'undici',
  'aws-sdk',
  'pg',
  'ioredis',
  'redis',
  'mysql2',
  'mongodb',
  'kafkajs',
];

/** Builds the zero-code files into dist/layer; returns the paths built (none if the source is absent). */
export async function buildZeroCode({ root, build }) {
  const src = join(root, 'src/zero-code/handler.ts');
  if (!existsSync(src)) return [];
  const out = join(root, 'dist/layer/otel-relay');
  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'external',
    logLevel: 'warning',
  };
  await build({
    ...common,
    entryPoints: [src],
    outfile: join(out, 'zero-code.mjs'),
    format: 'esm',
    // Bundled CommonJS dependencies call require(); an ESM bundle has to provide it.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  const built = ['dist/layer/otel-relay/zero-code.mjs'];
  await Promise.all(
    ZERO_CODE_INSTRUMENTATIONS.map(async (name) => {
      await build({
        ...common,
        entryPoints: [join(root, `src/zero-code/instrumentation/${name}.ts`)],
        outfile: join(out, `zero-code/${name}.cjs`),
        format: 'cjs',
      });
      built.push(`dist/layer/otel-relay/zero-code/${name}.cjs`);
    }),
  );
  const wrapper = join(root, 'dist/layer/otel-relay-handler');
  mkdirSync(dirname(wrapper), { recursive: true });
  copyFileSync(join(root, 'layer/otel-relay-handler.sh'), wrapper);
  chmodSync(wrapper, 0o755);
  built.push('dist/layer/otel-relay-handler');
  writeFileSync(join(out, 'zero-code', 'package.json'), '{ "type": "commonjs" }\n');
  return built;
}
