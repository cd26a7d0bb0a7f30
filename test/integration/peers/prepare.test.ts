import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectorDir, ensureCollector, ensurePythonVenv, pythonVenvDir } from '../../setup/peers.mjs';

// Preparation against an empty cache with a broken toolchain: it must fail at once, saying what is
// missing, instead of skipping or hanging. Each test points the cache at a fresh temporary directory.
describe('peer preparation', () => {
  const saved = { ...process.env };
  let cache: string;
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), 'peers-cache-'));
    process.env.LAMBDA_OTEL_RELAY_CACHE = cache;
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(cache, { recursive: true, force: true });
  });

  it('fails naming the Go toolchain when go is not on PATH', async () => {
    process.env.PATH = '/nonexistent';
    await expect(ensureCollector()).rejects.toThrow(/a Go toolchain is needed to build the collector/);
    expect(existsSync(join(collectorDir(), '.ready'))).toBe(false);
  });

  it('fails naming the interpreter when Python is missing', async () => {
    process.env.PYTHON = '/nonexistent/python3';
    await expect(ensurePythonVenv()).rejects.toThrow(/\/nonexistent\/python3 -m venv could not start/);
    expect(existsSync(join(pythonVenvDir(), '.ready'))).toBe(false);
  });

  it('takes over a lock whose owner process is gone instead of waiting for it', async () => {
    // Prepare: a half-built entry locked by a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    mkdirSync(join(pythonVenvDir(), 'partial'), { recursive: true });
    mkdirSync(`${pythonVenvDir()}.lock`);
    writeFileSync(join(`${pythonVenvDir()}.lock`, 'pid'), String(dead));
    process.env.PYTHON = '/nonexistent/python3';

    // Act / Assess: it got past the lock to the build, which fails on the missing interpreter.
    await expect(ensurePythonVenv()).rejects.toThrow(/could not start/);
    expect(existsSync(`${pythonVenvDir()}.lock`)).toBe(false);
    expect(existsSync(join(pythonVenvDir(), 'partial'))).toBe(false);
  });
});
