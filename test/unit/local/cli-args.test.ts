import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLocalArgs } from '../../../src/cli/commands/local.js';
import { UsageError } from '../../../src/cli/usage.js';

describe('parseLocalArgs', () => {
  it('parses every option', () => {
    const dir = mkdtempSync(join(tmpdir(), 'args-'));
    try {
      writeFileSync(join(dir, 'e.json'), '{"a":1}');
      const o = parseLocalArgs([
        '--code',
        'fn',
        '--handler',
        'index.handler',
        '--layer',
        'l1',
        '--layer',
        'l2',
        '--event',
        join(dir, 'e.json'),
        '--count',
        '5',
        '--interval-ms',
        '0',
        '--timeout-ms',
        '900',
        '--memory-mb',
        '1024',
        '--env',
        'A=1',
        '--env',
        'B=x=y',
        '--mode',
        'managed-instances',
        '--max-concurrency',
        '8',
        '--tmp-dir',
        '/var/tmp/x',
        '--json',
      ]);
      expect(o).toMatchObject({
        codeDir: 'fn',
        handler: 'index.handler',
        layers: ['l1', 'l2'],
        event: { a: 1 },
        count: 5,
        intervalMs: 0,
        timeoutMs: 900,
        memoryMb: 1024,
        env: { A: '1', B: 'x=y' },
        mode: 'managed-instances',
        maxConcurrency: 8,
        tmpDir: '/var/tmp/x',
        json: true,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parses snap-start mode and its snapshot time', () => {
    const o = parseLocalArgs([
      '--code',
      'fn',
      '--handler',
      'i.h',
      '--mode',
      'snap-start',
      '--snapshot-ms',
      '250',
    ]);
    expect(o).toMatchObject({ mode: 'snap-start', snapStart: { snapshotMs: 250 } });
    const plain = parseLocalArgs(['--code', 'fn', '--handler', 'i.h', '--mode', 'snap-start']);
    expect(plain).toMatchObject({ mode: 'snap-start' });
    expect(plain).not.toHaveProperty('snapStart');
  });

  it('turns the cost model on by default, with the host network', () => {
    const o = parseLocalArgs(['--code', 'fn', '--handler', 'i.h']);
    expect(o).toMatchObject({ costModel: 'lambda', network: 'host' });
    expect(o).not.toHaveProperty('cpuPeriodMs');
    expect(
      parseLocalArgs(['--code', 'fn', '--handler', 'i.h', '--cost-model', 'none', '--network', 'isolated']),
    ).toMatchObject({ costModel: 'none', network: 'isolated' });
    expect(parseLocalArgs(['--code', 'fn', '--handler', 'i.h', '--cpu-period-ms', '100'])).toMatchObject({
      costModel: 'lambda',
      cpuPeriodMs: 100,
    });
  });

  it.each([
    [['--code', 'c', '--handler', 'i.h', '--cost-model', 'aws'], '--cost-model must be lambda or none'],
    [['--code', 'c', '--handler', 'i.h', '--network', 'bridge'], '--network must be host or isolated'],
    [
      ['--code', 'c', '--handler', 'i.h', '--cost-model', 'none', '--cpu-period-ms', '50'],
      '--cpu-period-ms applies to --cost-model lambda only',
    ],
    [
      ['--code', 'c', '--handler', 'i.h', '--cpu-period-ms', '0'],
      '--cpu-period-ms must be a positive integer',
    ],
    [['--handler', 'i.h'], '--code is required'],
    [
      ['--code', 'c', '--handler', 'i.h', '--mode', 'warm'],
      '--mode must be on-demand, managed-instances or snap-start',
    ],
    [
      ['--code', 'c', '--handler', 'i.h', '--snapshot-ms', '10'],
      '--snapshot-ms applies to --mode snap-start only',
    ],
    [
      ['--code', 'c', '--handler', 'i.h', '--mode', 'snap-start', '--snapshot-ms', 'soon'],
      '--snapshot-ms must be a non-negative integer',
    ],
    [['--code', 'c', '--handler', 'i.h', '--count', '0'], '--count must be a positive integer'],
    [['--code', 'c', '--handler', 'i.h', '--env', 'NOEQUALS'], '--env expects K=V'],
    [['--code', 'c', '--handler', 'i.h', '--event', '/nonexistent.json'], 'cannot be read'],
    [['--code', 'c', '--handler', 'i.h', '--bogus'], 'Unknown option'],
  ])('rejects %j with a usage error', (argv, message) => {
    expect(() => parseLocalArgs(argv)).toThrow(UsageError);
    expect(() => parseLocalArgs(argv)).toThrow(message);
  });
});
