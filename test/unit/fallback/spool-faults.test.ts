// Spool faults a real /tmp can show: a file that cannot be deleted, foreign entries under the temp
// prefix, a huge file, a file name that lies about its content.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  ExportOutcome,
  FlushBudget,
  Logger,
  SignalExporter,
} from '../../../src/extension/export/index.js';
import { createFallbackDelivery, Spool, SpoolError } from '../../../src/extension/fallback/index.js';
import { traceRequest } from '../extension/fakes.js';

const dir = () => mkdtempSync(join(tmpdir(), 'spool-faults-'));

function recorder() {
  const lines: string[] = [];
  const log: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  return { lines, log };
}

// Immutable (chattr +i) directories, made deletable again after each test.
const immutable: string[] = [];
afterEach(() => {
  for (const d of immutable.splice(0)) spawnSync('chattr', ['-i', d]);
});
function makeImmutable(d: string): void {
  const r = spawnSync('chattr', ['+i', d], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chattr +i ${d} failed (needs root and ext4/xfs): ${r.stderr}`);
  immutable.push(d);
}

function deliveryWith(spoolDir: string, outcome: () => ExportOutcome) {
  const t = 1_700_000_000_000;
  const sent: number[] = [];
  const exporter: SignalExporter = {
    async export(_signal, body) {
      sent.push(body.byteLength);
      return outcome();
    },
    resetConnections() {},
    close() {},
  };
  const { lines, log } = recorder();
  const delivery = createFallbackDelivery(
    { exporter, env: {}, clock: { now: () => t, monotonic: () => t }, log },
    {
      config: {
        spoolDir,
        spoolMaxBytes: 1 << 20,
        breakerThreshold: 3,
        breakerOpenMs: 10_000,
        breakerMaxOpenMs: 60_000,
        s3ReserveMs: 300,
        spillMinBytes: 0,
        spillMaxAgeMs: 0,
      },
    },
  );
  const budget = (): FlushBudget => ({
    deadline: t + 10_000,
    abort: new AbortController().signal,
    reason: 'invoke',
  });
  return { delivery, sent, lines, budget };
}

describe('spool faults', () => {
  it('sends a delivered file that cannot be deleted once per process, and counts it once', async () => {
    const d = dir();
    const h = deliveryWith(d, () => ({ kind: 'success' }));
    await h.delivery.spool.write('traces', await traceRequest(4), 4);
    makeImmutable(d);
    for (let i = 0; i < 3; i++) await h.delivery.replay?.(h.budget()).catch(() => {});
    expect(h.sent).toHaveLength(1);
    expect(h.delivery.counters.replayedItems).toBe(4);
    expect(h.delivery.counters.replayedFiles).toBe(1);
    expect(h.lines.filter((l) => /cannot be deleted/.test(l))).toHaveLength(1);
    // It is still on disk and still counts toward the bound.
    expect(readdirSync(d).filter((n) => n.endsWith('.binpb'))).toHaveLength(1);
    expect(h.delivery.spool.bytes).toBeGreaterThan(0);
  });

  it('keeps spooling when a directory named like a temp file sits in the spool, and says it left it', async () => {
    const d = dir();
    mkdirSync(join(d, '.tmp-someone'));
    writeFileSync(join(d, '.tmp-someone', 'x'), 'x');
    const { lines, log } = recorder();
    const spool = new Spool({ dir: d, maxBytes: 1 << 20, log });
    const entry = await spool.write('traces', await traceRequest(2), 2);
    expect(entry.items).toBe(2);
    expect(await spool.list()).toHaveLength(1);
    expect(readdirSync(join(d, '.tmp-someone'))).toEqual(['x']);
    expect(lines.filter((l) => l.includes('.tmp-someone'))).toHaveLength(1);
  });

  it('leaves foreign temp files and those of a live writer, with a line each; removes its own and a dead writer of ours', async () => {
    const d = dir();
    const name = '0000000000001-000001-traces-1.binpb';
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const files = {
      foreign: '.tmp-notes.txt',
      live: `.tmp-1-0123456789ab-${name}`, // pid 1 is always alive
      own: `.tmp-${process.pid}-0123456789ab-${name}`,
      deadWriter: `.tmp-${dead}-0123456789ab-${name}`,
    };
    for (const f of Object.values(files)) writeFileSync(join(d, f), 'partial');
    const { lines, log } = recorder();
    await new Spool({ dir: d, maxBytes: 1 << 20, log }).open();
    expect(readdirSync(d).sort()).toEqual([files.foreign, files.live].sort());
    expect(lines).toHaveLength(2);
    expect(lines.find((l) => l.includes(files.foreign))).toMatch(
      /left .* alone \(not a temp file this relay writes\)/,
    );
    expect(lines.find((l) => l.includes(files.live))).toMatch(/being written by process 1/);
  });

  it('never reads a file larger than the spool bound into memory: it is moved aside with a line', async () => {
    const d = dir();
    const name = '0000000000001-000001-traces-1.binpb';
    // Sparse: 200 MB on paper, nothing on disk.
    const r = spawnSync('truncate', ['-s', '200M', join(d, name)]);
    expect(r.status).toBe(0);
    const { lines, log } = recorder();
    const spool = new Spool({ dir: d, maxBytes: 64 << 20, log });
    const [entry] = await spool.list();
    const before = process.memoryUsage().arrayBuffers;
    const err = await spool.read(entry!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpoolError);
    expect((err as SpoolError).reason).toBe('invalid');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(100 << 20);
    expect(readdirSync(d)).toEqual([`.refused-${name}`]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/larger than the spool's bound/);
  });

  it('counts replayed items from the validated content, not from the file name', async () => {
    const d = dir();
    writeFileSync(join(d, '1700000000000-000001-traces-100000000000000000000.binpb'), await traceRequest(4));
    const h = deliveryWith(d, () => ({ kind: 'success' }));
    await h.delivery.replay?.(h.budget());
    expect(h.sent).toHaveLength(1);
    expect(h.delivery.counters.replayedItems).toBe(4);
    expect(h.lines).toContain('info 4 items from 1 spool files replayed to the collector; 0 files left');
  });
});
