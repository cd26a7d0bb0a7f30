import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSpoolDir, Spool, SpoolError } from '../../../src/extension/fallback/index.js';

const dir = () => mkdtempSync(join(tmpdir(), 'spool-test-'));

describe('Spool', () => {
  it('writes batches that read back byte for byte, oldest first', async () => {
    let t = 1_700_000_000_000;
    const spool = new Spool({ dir: dir(), maxBytes: 1 << 20, now: () => t });
    // Valid (empty-bodied) export requests: one unknown length-delimited field each, as read() checks.
    await spool.write('traces', new Uint8Array([0x7a, 1, 3]), 3);
    t += 5;
    await spool.write('logs', new Uint8Array([0x7a, 0]), 1);
    const entries = await spool.list();
    expect(entries.map((e) => [e.signal, e.items, e.bytes])).toEqual([
      ['traces', 3, 3],
      ['logs', 1, 2],
    ]);
    expect([...(await spool.read(entries[1]!)).body]).toEqual([0x7a, 0]);
    expect(spool.bytes).toBe(5);
  });

  it('refuses a batch that would pass the size bound and keeps what it has', async () => {
    const spool = new Spool({ dir: dir(), maxBytes: 10 });
    await spool.write('traces', new Uint8Array(8), 1);
    const err = await spool.write('traces', new Uint8Array(3), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpoolError);
    expect((err as SpoolError).reason).toBe('spool-full');
    expect(await spool.list()).toHaveLength(1);
  });

  it('frees space when a replayed batch is removed', async () => {
    const spool = new Spool({ dir: dir(), maxBytes: 10 });
    const e = await spool.write('metrics', new Uint8Array(8), 2);
    await spool.remove(e);
    await spool.write('metrics', new Uint8Array(8), 2);
    expect(spool.bytes).toBe(8);
  });

  it('counts files left by an earlier process and removes its unfinished temp files', async () => {
    const d = dir();
    const first = new Spool({ dir: d, maxBytes: 100 });
    await first.write('traces', new Uint8Array(40), 4);
    // Its writer (an earlier extension process) is gone.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(d, `.tmp-${dead}-0123456789ab-0000000000001-000001-traces-1.binpb`), 'partial');
    const second = new Spool({ dir: d, maxBytes: 100 });
    await second.open();
    expect(second.bytes).toBe(40);
    expect(readdirSync(d).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(await second.list()).toHaveLength(1);
  });

  it('treats a missing directory as an empty spool when listing for replay', async () => {
    expect(await listSpoolDir(join(dir(), 'nope'))).toEqual([]);
  });

  it('reports an unwritable directory as an io failure', async () => {
    const d = dir();
    writeFileSync(join(d, 'file'), 'x');
    const spool = new Spool({ dir: join(d, 'file', 'sub'), maxBytes: 100 });
    const err = await spool.write('traces', new Uint8Array(1), 1).catch((e: unknown) => e);
    expect((err as SpoolError).reason).toBe('io');
  });
});
