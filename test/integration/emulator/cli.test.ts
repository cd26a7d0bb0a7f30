// `lambda-otel-relay local` as other tools use it: the built CLI, --json lines on stdout, labelled
// process output on stderr, exit codes.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fn, probeLayer, probeServer, tempDir } from './helpers.js';

const CLI = resolve(import.meta.dirname, '../../../dist/cli.mjs');

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [CLI, 'local', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

describe('lambda-otel-relay local', () => {
  it('prints one JSON line per invocation and one for the shutdown with --json', async () => {
    const probe = await probeServer();
    const dir = tempDir('cli-');
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ action: 'log', lines: ['from the function'] }));
    const { code, stdout, stderr } = await runCli([
      '--code',
      fn('esm'),
      '--handler',
      'index.handler',
      '--layer',
      probeLayer({ relay: { probe: probe.port, onInvoke: { log: true } } }),
      '--event',
      event,
      '--count',
      '3',
      '--interval-ms',
      '50',
      '--env',
      'A=1',
      '--json',
    ]);
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    for (const inv of lines.slice(0, 3)) {
      expect(inv).toMatchObject({ type: 'invocation', status: 'success', response: { logged: 1 } });
      for (const k of ['requestId', 'durationMs', 'postRuntimeMs', 'billedDurationMs', 'maxMemoryUsedMB']) {
        expect(inv[k], k).toBeDefined();
      }
    }
    expect(lines[0]?.initDurationMs).toBeGreaterThan(0);
    expect(lines[3]).toMatchObject({
      type: 'shutdown',
      reason: 'spindown',
      extensions: [{ name: 'relay', state: 'Exited', exitCode: 0, signal: null }],
    });
    expect(stderr).toContain('[function] ');
    expect(stderr).toContain('from the function');
    expect(stderr).toContain('[extension relay] relay handled');
  });

  it('prints a table without --json and exits 1 when an invocation fails', async () => {
    const dir = tempDir('cli-');
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ action: 'throw', message: 'nope' }));
    const { code, stdout } = await runCli([
      '--code',
      fn('esm'),
      '--handler',
      'index.handler',
      '--event',
      event,
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^#\s+request id\s+status/);
    expect(stdout).toMatch(/\berror\b.*TypeError: nope/);
    expect(stdout).toMatch(/shutdown \(spindown\)/);
  });

  it('runs --mode snap-start: the first invocation reports its restore, not an init', async () => {
    const { code, stdout } = await runCli([
      '--code',
      fn('snapstart'),
      '--handler',
      'index.handler',
      '--mode',
      'snap-start',
      '--snapshot-ms',
      '100',
      '--count',
      '2',
      '--json',
    ]);
    expect(code).toBe(0);
    const [first, second] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      type: 'invocation',
      status: 'success',
      response: { initializationType: 'snap-start' },
    });
    expect(first?.restoreDurationMs).toBeGreaterThan(0);
    expect(first).not.toHaveProperty('initDurationMs');
    expect(second).not.toHaveProperty('restoreDurationMs');
    const table = await runCli([
      '--code',
      fn('snapstart'),
      '--handler',
      'index.handler',
      '--mode',
      'snap-start',
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^#\s+request id\s+status.*\binit\s+restore\b/);
    expect(table.stdout).toMatch(/\bsuccess\b.*\d+\.\d\d ms\s*$/m);
  });

  it('exits 2 with a usage message for bad arguments', async () => {
    const missing = await runCli(['--code', fn('esm')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--handler is required');
    const badMode = await runCli(['--code', fn('esm'), '--handler', 'index.handler', '--mode', 'fast']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain('--mode must be on-demand, managed-instances or snap-start');
  });
});
