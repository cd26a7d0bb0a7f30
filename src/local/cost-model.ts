// The cost model: what Lambda charges an environment, reproduced with cgroup v1 controllers. Each
// environment gets its own cpu, cpuacct and memory groups under the emulator's own groups (never at a
// hierarchy's root): a CPU quota of memory/1,769 of one CPU while invocations run (2 CPUs during Init),
// a memory limit of the memory size, the group's peak as Max Memory Used, the kernel's OOM kills as
// Runtime.OutOfMemory, and per-process CPU time from a cpuacct leaf per process.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isProcessAlive } from './processes.js';

export type CostModel = 'lambda' | 'none';

/** Lambda: at 1,769 MB a function has the equivalent of one vCPU; CPU scales linearly with memory. */
export const MEMORY_MB_PER_VCPU = 1_769;
/** Init runs without the memory-proportional quota, on up to 2 vCPUs (or the memory share, if larger). */
export const INIT_VCPUS = 2;
/** The CFS period of the quota, in ms. AWS does not publish its own; see docs/emulator.md. */
export const DEFAULT_CPU_PERIOD_MS = 20;
/** The kernel refuses quotas below 1 ms. */
const MIN_QUOTA_US = 1_000;
/** Sub-directory of the emulator's own group that holds every environment group. */
const BASE = 'lambda-otel-relay';

type Controller = 'cpu' | 'cpuacct' | 'memory';
const CONTROLLERS: readonly Controller[] = ['cpu', 'cpuacct', 'memory'];
/** A file only a usable hierarchy of that controller has. */
const PROBE_FILE: Record<Controller, string> = {
  cpu: 'cpu.cfs_quota_us',
  cpuacct: 'cpuacct.usage',
  memory: 'memory.limit_in_bytes',
};

/** Where the emulator's own group of each controller is, as directories. */
export type CgroupHierarchies = Record<Controller, string>;

export type CgroupProbe = { ok: true; own: CgroupHierarchies } | { ok: false; reason: string };

/**
 * Finds the emulator's own cgroup v1 group for cpu, cpuacct and memory (from /proc/self/cgroup and
 * the mounts), and checks that each controller is really there and writable. Pure over its inputs.
 */
export function probeCgroups(procCgroup: string, mountInfo: string, exists = existsSync): CgroupProbe {
  const own = {} as CgroupHierarchies;
  for (const ctl of CONTROLLERS) {
    const line = procCgroup
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f.length >= 3 && (f[1] ?? '').split(',').includes(ctl));
    if (!line) {
      return {
        ok: false,
        reason: `no cgroup v1 ${ctl} controller for this process (cgroup v2 delegation is not supported)`,
      };
    }
    const path = line.slice(2).join(':');
    const mount = mountInfo
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => {
        const dash = f.indexOf('-');
        return dash > 0 && f[dash + 1] === 'cgroup' && (f[dash + 3] ?? '').split(',').includes(ctl);
      });
    if (!mount || mount[3] === undefined || mount[4] === undefined) {
      return { ok: false, reason: `the cgroup v1 ${ctl} hierarchy is not mounted` };
    }
    if ((mount[5] ?? '').split(',').includes('ro')) {
      return { ok: false, reason: `the cgroup v1 ${ctl} hierarchy at ${mount[4]} is read-only` };
    }
    const dir = join(mount[4], relative(mount[3], path));
    if (!exists(join(dir, PROBE_FILE[ctl]))) {
      return { ok: false, reason: `${dir} has no ${PROBE_FILE[ctl]}: the ${ctl} controller is not usable` };
    }
    own[ctl] = dir;
  }
  return { ok: true, own };
}

/** The CPU quota (µs per period) for a memory size; `init` gives the Init phase's larger quota. */
export function cpuQuotaUs(memoryMb: number, periodUs: number, phase: 'init' | 'invoke'): number {
  const share = memoryMb / MEMORY_MB_PER_VCPU;
  const cpus = phase === 'init' ? Math.max(INIT_VCPUS, share) : share;
  return Math.max(MIN_QUOTA_US, Math.round(cpus * periodUs));
}

let probed: CgroupProbe | undefined;
let sequence = 0;
const live = new Set<EnvironmentCgroups>();

/** The probe of this process, once. */
export function hostCgroups(): CgroupProbe {
  if (probed) return probed;
  try {
    probed = probeCgroups(
      readFileSync('/proc/self/cgroup', 'utf8'),
      readFileSync('/proc/self/mountinfo', 'utf8'),
    );
  } catch (err) {
    probed = { ok: false, reason: `cgroups cannot be read: ${(err as Error).message}` };
  }
  if (probed.ok) {
    const own = probed.own;
    for (const ctl of CONTROLLERS) {
      try {
        mkdirSync(join(own[ctl], BASE), { recursive: true });
      } catch (err) {
        probed = { ok: false, reason: `cannot create a group under ${own[ctl]}: ${(err as Error).message}` };
        return probed;
      }
    }
    process.once('exit', () => {
      for (const g of live) g.remove();
    });
  }
  return probed;
}

/** Groups named <pid>-<n> whose emulator process is gone: kill what is left in them, remove them. */
function removeLeftovers(own: CgroupHierarchies): void {
  for (const ctl of CONTROLLERS) {
    const base = join(own[ctl], BASE);
    let entries: string[] = [];
    try {
      entries = readdirSync(base);
    } catch {
      continue;
    }
    for (const name of entries) {
      const pid = Number(name.split('-')[0]);
      if (!Number.isInteger(pid) || pid <= 0 || isProcessAlive(pid)) continue;
      removeGroup(join(base, name));
    }
  }
}

/** SIGKILLs every task of a group and its leaves, then removes them; best effort, never throws. */
function removeGroup(dir: string): boolean {
  let ok = true;
  let leaves: string[] = [];
  try {
    leaves = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return true;
  }
  for (const d of [...leaves, dir]) {
    try {
      for (const pid of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    } catch {
      // No such group any more.
    }
  }
  // A group with tasks cannot go: SIGKILLed ones leave it a moment later, so retry briefly.
  for (const d of [...leaves, dir]) {
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(d);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || attempt >= wait.attempts) {
          ok = false;
          break;
        }
        Atomics.wait(wait.cell, 0, 0, wait.stepMs);
      }
    }
  }
  return ok;
}

/** How long removeGroup() waits, synchronously (it also runs at process exit), for tasks to leave. */
const wait = { cell: new Int32Array(new SharedArrayBuffer(4)), stepMs: 10, attempts: 50 };

const readNumber = (file: string): number => Number(readFileSync(file, 'utf8').trim());

/** One environment's groups: made at start, removed on close and at process exit. */
export class EnvironmentCgroups {
  readonly dirs: CgroupHierarchies;
  readonly periodUs: number;
  private readonly leaves = new Set<string>();

  constructor(
    own: CgroupHierarchies,
    readonly memoryMb: number,
    periodMs: number,
  ) {
    const name = `${process.pid}-${++sequence}`;
    this.dirs = {
      cpu: join(own.cpu, BASE, name),
      cpuacct: join(own.cpuacct, BASE, name),
      memory: join(own.memory, BASE, name),
    };
    this.periodUs = Math.round(periodMs * 1000);
    // An emulator that was killed could not remove its groups (nor stop what ran in them): do it now.
    removeLeftovers(own);
    for (const ctl of CONTROLLERS) mkdirSync(this.dirs[ctl], { recursive: true });
    live.add(this);
    try {
      const bytes = String(memoryMb * 1024 * 1024);
      writeFileSync(join(this.dirs.memory, 'memory.limit_in_bytes'), bytes);
      // Without swap accounting the limit above is the whole story; with it, swap must not extend it.
      const memsw = join(this.dirs.memory, 'memory.memsw.limit_in_bytes');
      if (existsSync(memsw)) writeFileSync(memsw, bytes);
      writeFileSync(join(this.dirs.cpu, 'cpu.cfs_period_us'), String(this.periodUs));
      this.enter('init');
    } catch (err) {
      this.remove();
      throw new Error(`the cost model could not configure ${this.dirs.memory}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Init runs on up to 2 CPUs; invocations, post-runtime and shutdown under the memory share. */
  enter(phase: 'init' | 'invoke'): void {
    writeFileSync(
      join(this.dirs.cpu, 'cpu.cfs_quota_us'),
      String(cpuQuotaUs(this.memoryMb, this.periodUs, phase)),
    );
  }

  /** The cgroup.procs files a process of this environment joins; `leaf` names its own cpuacct group. */
  procsFiles(leaf: string): string[] {
    const safe = leaf.replace(/[^A-Za-z0-9._-]/g, '_');
    const acct = join(this.dirs.cpuacct, safe);
    if (!this.leaves.has(acct)) {
      mkdirSync(acct, { recursive: true });
      this.leaves.add(acct);
    }
    // cpu and cpuacct are often one hierarchy: the leaf then sits under the quota'd group.
    const files = [join(acct, 'cgroup.procs'), join(this.dirs.memory, 'cgroup.procs')];
    if (this.dirs.cpu !== this.dirs.cpuacct) files.push(join(this.dirs.cpu, 'cgroup.procs'));
    return files;
  }

  /** CPU time (ns) of one process's leaf since it was made; 0 when it has none. */
  cpuNs(leaf: string): number {
    try {
      return readNumber(join(this.dirs.cpuacct, leaf.replace(/[^A-Za-z0-9._-]/g, '_'), 'cpuacct.usage'));
    } catch {
      return 0;
    }
  }

  /** The memory group's peak since the last resetPeak(), in bytes. */
  peakBytes(): number {
    return readNumber(join(this.dirs.memory, 'memory.max_usage_in_bytes'));
  }

  /** A new environment generation (after a reset) starts its Max Memory Used from what it uses now. */
  resetPeak(): void {
    try {
      writeFileSync(join(this.dirs.memory, 'memory.max_usage_in_bytes'), '0');
    } catch {
      // Kernels that refuse the reset keep the lifetime peak: still an upper bound.
    }
  }

  /** How many processes the kernel's OOM killer has killed in this group so far. */
  oomKills(): number {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync(join(this.dirs.memory, 'memory.oom_control'), 'utf8'));
    return m?.[1] ? Number(m[1]) : 0;
  }

  /** cpu.stat of the quota'd group: nr_periods, nr_throttled, throttled_time. */
  cpuStat(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const line of readFileSync(join(this.dirs.cpu, 'cpu.stat'), 'utf8').split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v !== undefined) out[k] = Number(v);
    }
    return out;
  }

  /** Kills anything still in the groups and removes them; false if some group could not go yet. */
  remove(): boolean {
    let ok = true;
    for (const ctl of CONTROLLERS) if (!removeGroup(this.dirs[ctl])) ok = false;
    if (ok) live.delete(this);
    return ok;
  }
}
