import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'otlp-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles a one-line entry the way layer/build.mjs bundles the extension (CommonJS, minified). */
async function bundleImporting(names: string): Promise<string> {
  const entry = join(dir, `entry-${names.replace(/\W+/g, '_')}.ts`);
  writeFileSync(entry, `export { ${names} } from ${JSON.stringify(resolve('src/otlp/index.ts'))};\n`);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

describe('what src/otlp puts in the extension bundle', () => {
  it('leaves protobufjs out when only the ingest helpers are used', async () => {
    const code = await bundleImporting(
      'validateExportRequest, splitEntries, otlpJsonToProtobuf, encodeExportResponse, encodeStatus, decodeGrpcFrames',
    );
    expect(code).not.toMatch(/protobuf\.js|protobufjs|util\.Long|dcodeIO/);
    expect(code.length).toBeLessThan(60_000);
  });

  it('includes protobufjs when decodeExportRequest is used (the check above can fail)', async () => {
    const code = await bundleImporting('decodeExportRequest');
    expect(code).toMatch(/dcodeIO/);
  });
});
