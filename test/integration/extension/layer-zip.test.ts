// The layer zip as built by the test run's global setup (`node layer/build.mjs --layer`): only what
// Lambda runs. Every byte of it is downloaded and unpacked on a cold start.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

describe('layer zip', () => {
  it('holds the launcher and the bundle but not the source map, which stays in dist/ for debugging', () => {
    const zip = join(root, 'dist/layer.zip');
    expect(existsSync(zip), 'dist/layer.zip (built by the global setup)').toBe(true);
    const names = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').sort();
    // The zip lists files only (no directory entries: unzip and Lambda create the directories).
    expect(names).toEqual(expect.arrayContaining(['extensions/otel-relay', 'otel-relay/extension.js']));
    expect(names.filter((n) => n.endsWith('.map'))).toEqual([]);
    expect(existsSync(join(root, 'dist/layer/otel-relay/extension.js.map'))).toBe(true);
  });
});
