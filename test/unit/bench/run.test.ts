// The bench runner's arguments (test/bench/run.mjs), run as a process the way `npm run bench` runs it.
// Only the `bundle` bench is selected: it reads file sizes, so these runs take milliseconds.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const RUNNER = join(resolve(import.meta.dirname, '../../..'), 'test/bench/run.mjs');

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [RUNNER, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('bench runner', () => {
  it.each([[['--only', 'bundle', '--json']], [['--only=bundle', '--json']]])(
    'runs only the named benches when given %j',
    async (args) => {
      const r = await bench(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(Object.keys(JSON.parse(r.stdout).benches)).toEqual(['bundle']);
    },
  );

  it('refuses a name that is not a bench, and lists the benches', async () => {
    const r = await bench(['--only', 'bundle,nope']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no bench named nope; benches: .*bundle/);
  });
});
