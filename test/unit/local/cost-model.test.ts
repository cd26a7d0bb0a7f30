import { describe, expect, it } from 'vitest';
import { cpuQuotaUs, probeCgroups } from '../../../src/local/cost-model.js';

// The shapes of /proc/self/cgroup and /proc/self/mountinfo on a host with cgroup v1 controllers
// (cpu and cpuacct separate, memory in a nested group) and cgroup v2 mounted without controllers.
const PROC_CGROUP = [
  '9:name=systemd:/',
  '6:freezer:/',
  '4:memory:/process_api/abc',
  '2:cpuacct:/',
  '1:cpu:/',
  '0::/',
].join('\n');
const mount = (id: number, root: string, point: string, opts: string, fs: string, superOpts: string) =>
  `${id} 20 0:${id} ${root} ${point} ${opts} shared:${id} - ${fs} ${fs} ${superOpts}`;
const MOUNTINFO = [
  mount(30, '/', '/sys/fs/cgroup/unified', 'rw,nosuid', 'cgroup2', 'rw'),
  mount(31, '/', '/sys/fs/cgroup/cpu', 'rw,nosuid', 'cgroup', 'rw,cpu'),
  mount(32, '/', '/sys/fs/cgroup/cpuacct', 'rw,nosuid', 'cgroup', 'rw,cpuacct'),
  mount(33, '/', '/sys/fs/cgroup/memory', 'rw,nosuid', 'cgroup', 'rw,memory'),
].join('\n');
const all = () => true;

describe('probeCgroups', () => {
  it("finds the process's own group of each controller", () => {
    expect(probeCgroups(PROC_CGROUP, MOUNTINFO, all)).toEqual({
      ok: true,
      own: {
        cpu: '/sys/fs/cgroup/cpu',
        cpuacct: '/sys/fs/cgroup/cpuacct',
        memory: '/sys/fs/cgroup/memory/process_api/abc',
      },
    });
  });

  it('handles co-mounted cpu,cpuacct and a mount whose root is not the hierarchy root', () => {
    const procCgroup = '3:cpu,cpuacct:/ci/job\n5:memory:/ci/job';
    const mountInfo = [
      mount(40, '/ci', '/sys/fs/cgroup/cpu,cpuacct', 'rw', 'cgroup', 'rw,cpu,cpuacct'),
      mount(41, '/ci', '/sys/fs/cgroup/memory', 'rw', 'cgroup', 'rw,memory'),
    ].join('\n');
    expect(probeCgroups(procCgroup, mountInfo, all)).toEqual({
      ok: true,
      own: {
        cpu: '/sys/fs/cgroup/cpu,cpuacct/job',
        cpuacct: '/sys/fs/cgroup/cpu,cpuacct/job',
        memory: '/sys/fs/cgroup/memory/job',
      },
    });
  });

  it('says why when a controller is missing, read-only, or mounted without its files', () => {
    const v2only = probeCgroups(
      '0::/user.slice',
      mount(1, '/', '/sys/fs/cgroup', 'rw', 'cgroup2', 'rw'),
      all,
    );
    expect(v2only).toEqual({ ok: false, reason: expect.stringContaining('no cgroup v1 cpu controller') });
    const ro = MOUNTINFO.replace('/sys/fs/cgroup/memory rw,nosuid', '/sys/fs/cgroup/memory ro,nosuid');
    expect(probeCgroups(PROC_CGROUP, ro, all)).toEqual({
      ok: false,
      reason: expect.stringContaining('read-only'),
    });
    const noFiles = probeCgroups(PROC_CGROUP, MOUNTINFO, (p) => !String(p).endsWith('memory.limit_in_bytes'));
    expect(noFiles).toEqual({
      ok: false,
      reason: expect.stringContaining('memory controller is not usable'),
    });
    const unmounted = probeCgroups(PROC_CGROUP, MOUNTINFO.split('\n').slice(0, 2).join('\n'), all);
    expect(unmounted).toEqual({
      ok: false,
      reason: expect.stringContaining('cpuacct hierarchy is not mounted'),
    });
  });
});

describe('cpuQuotaUs', () => {
  it('gives memory/1769 of a CPU during invocations and at least 2 CPUs during Init', () => {
    expect(cpuQuotaUs(128, 20_000, 'invoke')).toBe(1_447);
    expect(cpuQuotaUs(1769, 20_000, 'invoke')).toBe(20_000);
    expect(cpuQuotaUs(10_240, 100_000, 'invoke')).toBe(578_858);
    expect(cpuQuotaUs(128, 20_000, 'init')).toBe(40_000);
    expect(cpuQuotaUs(10_240, 20_000, 'init')).toBe(115_772);
  });

  it('never goes below the 1 ms the kernel accepts', () => {
    expect(cpuQuotaUs(128, 5_000, 'invoke')).toBe(1_000);
  });
});
