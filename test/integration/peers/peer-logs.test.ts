import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

describe('printLogsOnFailure', () => {
  it("prints the peer's output for a failed test and not for a passing one", () => {
    // Act: a separate vitest run over a fixture with one passing and one failing test.
    const run = spawnSync(
      process.execPath,
      [
        resolve(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--config',
        'test/fixtures/peer-logs/vitest.config.ts',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      },
    );
    const out = `${run.stdout}\n${run.stderr}`;

    // Assess
    expect(run.status).toBe(1);
    expect(out).toContain('===== fakepeer output, for failed test "fails on purpose" =====');
    expect(out).toContain('fakepeer-line-2');
    expect(out).not.toContain('for failed test "passes quietly"');
  });
});
