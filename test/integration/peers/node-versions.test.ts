import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NODE_MAJORS, nodeBinary } from '../../helpers/node-versions.js';

const execFileP = promisify(execFile);

describe('nodeBinary', () => {
  for (const major of NODE_MAJORS) {
    it(`runs a module with Node.js ${major} when asked for major ${major}`, async () => {
      // Prepare
      const node = await nodeBinary(major);

      // Act
      const { stdout } = await execFileP(
        node,
        [
          '--input-type=module',
          '-e',
          'console.log(JSON.stringify({ v: process.versions.node, t: typeof fetch }))',
        ],
        { timeout: 30_000 },
      );

      // Assess
      const out = JSON.parse(stdout) as { v: string; t: string };
      expect(out.v.split('.')[0]).toBe(String(major));
      expect(out.t).toBe('function');
    });
  }
});
