// Security review 3: the spool never reads through a symlink and never hands out a file that is not a
// valid export request; such a file is moved aside (kept, not deleted) and reported.
import { existsSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSpoolDir, Spool, SpoolError } from '../../../src/extension/fallback/index.js';
import { traceRequest } from '../extension/fakes.js';

const dir = () => mkdtempSync(join(tmpdir(), 'spool-safety-'));

function warnings() {
  const lines: string[] = [];
  return { lines, warn: (m: string) => void lines.push(m) };
}

describe('Spool.read', () => {
  it('refuses a symlink planted under a spool name without reading its target, and moves it aside', async () => {
    const d = dir();
    const secret = join(dir(), 'secret.binpb');
    writeFileSync(secret, await traceRequest(2));
    const name = '1700000000000-000001-traces-2.binpb';
    symlinkSync(secret, join(d, name));
    const log = warnings();
    const spool = new Spool({ dir: d, maxBytes: 1 << 20, log });
    const [entry] = await listSpoolDir(d);
    expect(entry?.name).toBe(name);
    const err = await spool.read(entry!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpoolError);
    expect((err as SpoolError).reason).toBe('invalid');
    expect(log.lines.join('\n')).toMatch(/symlink/);
    expect(readdirSync(d)).toEqual([`.refused-${name}`]);
    expect(existsSync(secret)).toBe(true);
    expect(await listSpoolDir(d)).toEqual([]);
  });

  it('moves aside a file that is not a valid export request instead of handing it out', async () => {
    const d = dir();
    const name = '1700000000000-000002-logs-1.binpb';
    writeFileSync(join(d, name), Buffer.from('this is not protobuf at all'));
    const log = warnings();
    const spool = new Spool({ dir: d, maxBytes: 1 << 20, log });
    const [entry] = await spool.list();
    await expect(spool.read(entry!)).rejects.toThrow(/not a valid OTLP logs export request/);
    expect(readdirSync(d)).toEqual([`.refused-${name}`]);
    expect(log.lines).toHaveLength(1);
    expect(spool.bytes).toBe(0);
  });

  it('reads a valid spooled batch as written', async () => {
    const d = dir();
    const body = await traceRequest(3);
    const spool = new Spool({ dir: d, maxBytes: 1 << 20 });
    await spool.write('traces', body, 3);
    const [entry] = await spool.list();
    const read = await spool.read(entry!);
    expect(Buffer.from(read.body)).toEqual(Buffer.from(body));
    expect(read.items).toBe(3);
  });
});
