// The replay command's argument handling (its sending is tested against real peers in
// test/integration/fallback/replay.test.ts).
import { describe, expect, it } from 'vitest';
import { parseTime, run } from '../../../src/cli/commands/replay.js';
import { signalUrl } from '../../../src/cli/replay/send.js';
import { UsageError } from '../../../src/cli/usage.js';

describe('replay arguments', () => {
  const now = Date.parse('2026-11-21T08:00:00Z');

  it('reads ages and ISO times', () => {
    expect(parseTime('30m', now, '--since')).toBe(now - 30 * 60_000);
    expect(parseTime('2d', now, '--since')).toBe(now - 2 * 86_400_000);
    expect(parseTime('2026-11-20T00:00:00Z', now, '--since')).toBe(Date.parse('2026-11-20T00:00:00Z'));
  });

  it('says what is wrong with a bad time', () => {
    expect(() => parseTime('yesterday', now, '--since')).toThrow(UsageError);
    expect(() => parseTime('yesterday', now, '--since')).toThrow(/--since yesterday/);
  });

  it('refuses a run without a source, with an unknown signal, or with a bad header', async () => {
    await expect(run([])).rejects.toThrow(/exactly one of --from/);
    await expect(run(['--spool', '/x', '--signal', 'spans'])).rejects.toThrow(/--signal spans/);
    await expect(run(['--spool', '/x', '--header', 'novalue'])).rejects.toThrow(/K=V/);
    await expect(run(['--spool', '/x', '--bogus'])).rejects.toThrow(UsageError);
  });

  it('appends /v1/<signal> to the collector endpoint', () => {
    expect(signalUrl('http://c:4318/', 'logs').href).toBe('http://c:4318/v1/logs');
  });
});
