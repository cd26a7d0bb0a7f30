import { describe, expect, it } from 'vitest';
import { hiddenByTmp, holderScript, slotAddresses } from '../../../src/local/isolation.js';

describe('hiddenByTmp', () => {
  it('keeps the directories under /tmp that a private /tmp would hide, outermost only', () => {
    expect(
      hiddenByTmp(['/work/code', '/tmp/a/code', '/tmp/a/code/sub', '/tmp/b/', '/tmp', '/tmpx/y']),
    ).toEqual(['/tmp/a/code', '/tmp/b']);
  });
});

describe('slotAddresses', () => {
  it('gives each slot its own link-local /30 in 169.254.200.0/21, host .1 and environment .2', () => {
    expect(slotAddresses(0)).toEqual({
      host: '169.254.200.1',
      inside: '169.254.200.2',
      hostIf: 'lorelay0h',
      insideIf: 'lorelay0n',
    });
    expect(slotAddresses(64)).toMatchObject({ host: '169.254.201.1', inside: '169.254.201.2' });
    const last = slotAddresses(511);
    expect(last).toMatchObject({ host: '169.254.207.253', inside: '169.254.207.254' });
    expect(last.hostIf.length).toBeLessThanOrEqual(15);
  });
});

describe('holderScript', () => {
  const base = { emptyDir: '/tmp/env/opt', hostsFile: '/tmp/env/hosts', tmpDir: '/tmp/env/tmp' };

  it('binds one layer read-only at /opt and puts back kept directories after covering /tmp', () => {
    const script = holderScript({ ...base, layers: ["/tmp/it's a layer"], keep: ['/tmp/code', '/usr/bin'] });
    const lines = script.split('\n');
    expect(lines).toContain(`mount --bind '/tmp/it'\\''s a layer' /opt`);
    expect(lines).toContain('mount -o remount,bind,ro /opt');
    const cover = lines.indexOf(`mount --bind '/tmp/env/tmp' /tmp`);
    const putBack = lines.indexOf(`mount -c --bind '/proc/self/fd/3/code' '/tmp/code'`);
    expect(cover).toBeGreaterThan(lines.indexOf('exec 3< /tmp'));
    expect(putBack).toBeGreaterThan(cover);
    expect(script).not.toContain('/usr/bin');
    expect(lines.at(-2)).toBe('echo ready');
  });

  it('lays several layers as an overlay in which the last layer wins, and an empty /opt without layers', () => {
    expect(holderScript({ ...base, layers: ['/l/one', '/l/two'], keep: [] })).toContain(
      `mount -t overlay lambda-opt -o 'lowerdir=/l/two:/l/one' /opt`,
    );
    expect(holderScript({ ...base, layers: [], keep: [] })).toContain(`mount --bind '/tmp/env/opt' /opt`);
  });
});
