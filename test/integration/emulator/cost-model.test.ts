// The cost model, checked through the cgroups' own settings and counters (quota, throttled periods,
// peak, OOM kills), never through timings: Lambda's CPU share per memory size, Init without it, the
// memory size enforced as Runtime.OutOfMemory.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuQuotaUs, MEMORY_MB_PER_VCPU } from '../../../src/local/cost-model.js';
import type { LambdaEnvironment } from '../../../src/local/index.js';
import { fn, probeLayer, sleep, startEnv, tempDir, writeExecutable } from './helpers.js';

const stateOf = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '?';
  } catch {
    return 'gone';
  }
};

const COST = { codeDir: fn('cost'), handler: 'index.handler', costModel: 'lambda' } as const;

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8').trim();
const cpuStat = (env: LambdaEnvironment): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const line of read(groups(env).cpu, 'cpu.stat').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v) out[k] = Number(v);
  }
  return out;
};
function groups(env: LambdaEnvironment): { cpu: string; cpuacct: string; memory: string } {
  const g = env.cgroups;
  if (!g) throw new Error(`the cost model is off in this environment:\n${env.output()}`);
  return g;
}

describe('cost model', () => {
  it('runs an invocation at 128 MB under a quota of ~7.2% of a CPU, and CPU-bound work is throttled', async () => {
    const env = await startEnv({ ...COST, memoryMb: 128, timeoutMs: 30_000 });
    const g = groups(env);
    const period = Number(read(g.cpu, 'cpu.cfs_period_us'));
    const quota = Number(read(g.cpu, 'cpu.cfs_quota_us'));
    expect(quota / period).toBeCloseTo(128 / MEMORY_MB_PER_VCPU, 3);
    expect(quota).toBe(cpuQuotaUs(128, period, 'invoke'));
    const throttledBefore = cpuStat(env).nr_throttled ?? 0;
    const r = await env.invoke({ action: 'spin', ms: 150 });
    expect(r.status).toBe('success');
    expect(cpuStat(env).nr_throttled).toBeGreaterThan(throttledBefore);
    // The process's own cpuacct leaf saw the work the function measured for itself.
    expect(r.cpuMs?.runtime).toBeGreaterThanOrEqual((r.response as { cpuMs: number }).cpuMs * 0.9);
    // The memory limit is the memory size; Max Memory Used is the group's peak.
    expect(Number(read(g.memory, 'memory.limit_in_bytes'))).toBe(128 * 1024 * 1024);
    expect(r.maxMemoryUsedMB).toBe(Math.ceil(Number(read(g.memory, 'memory.max_usage_in_bytes')) / 2 ** 20));
    expect(r.maxMemoryUsedMB).toBeGreaterThan(0);
    expect(r.maxMemoryUsedMB).toBeLessThanOrEqual(128);
  });

  it('does not throttle Init, which runs on up to 2 CPUs', async () => {
    const env = await startEnv({ ...COST, memoryMb: 128, env: { COST_INIT_SPIN_MS: '400' } });
    expect(env.lastInit?.status).toBe('success');
    // A single-threaded 400 ms spin at a 7.2% quota would be throttled in almost every period.
    expect(cpuStat(env).nr_throttled).toBe(0);
    const r = await env.invoke({ action: 'cgroup' });
    expect(r.status).toBe('success');
  });

  it('gives a 1,769 MB function one CPU and counts each process in its own cpuacct group', async () => {
    const env = await startEnv({
      ...COST,
      memoryMb: 1769,
      layers: [probeLayer({ 'probe-a': { probe: 1 } })],
    });
    const g = groups(env);
    expect(Number(read(g.cpu, 'cpu.cfs_quota_us'))).toBe(Number(read(g.cpu, 'cpu.cfs_period_us')));
    const r = await env.invoke({ action: 'cgroup' });
    const cgroupLines = (r.response as { cgroup: string }).cgroup;
    // The runtime is in the environment's memory group and its own cpuacct leaf.
    expect(cgroupLines).toContain(g.memory.slice(g.memory.indexOf('/lambda-otel-relay/')));
    expect(existsSync(join(g.cpuacct, 'runtime', 'cpuacct.usage'))).toBe(true);
    expect(Object.keys(r.cpuMs?.extensions ?? {})).toEqual(['probe-a']);
  });

  it('ends an invocation that goes over the memory size with Runtime.OutOfMemory and resets', async () => {
    const env = await startEnv({ ...COST, memoryMb: 128, timeoutMs: 30_000 });
    const g = groups(env);
    let reset = false;
    env.on('reset', () => {
      reset = true;
    });
    const r = await env.invoke({ action: 'allocate', mb: 400 });
    expect(r.status).toBe('error');
    expect(r.errorType).toBe('Runtime.OutOfMemory');
    expect(r.error?.errorType).toBe('Runtime.OutOfMemory');
    expect(Number(/oom_kill (\d+)/.exec(read(g.memory, 'memory.oom_control'))?.[1])).toBeGreaterThan(0);
    expect(reset).toBe(true);
    const report = env.recordsFor(r.requestId).find((rec) => rec.type === 'platform.report');
    expect(report?.record).toMatchObject({ status: 'error', errorType: 'Runtime.OutOfMemory' });
    // The next invocation re-runs Init in a fresh generation and succeeds.
    const next = await env.invoke({ action: 'cgroup' });
    expect(next.status).toBe('success');
    expect(next.initDurationMs).toBeGreaterThan(0);
  });

  it('reports Runtime.OutOfMemory when the kernel kills an extension instead of the runtime', async () => {
    // An extension that allocates 400 MiB when it gets an INVOKE: the kernel kills it, not the function.
    const dir = tempDir('hungry-');
    mkdirSync(join(dir, 'extensions'));
    writeExecutable(
      join(dir, 'extensions', 'hungry'),
      `#!/bin/sh
exec node --input-type=module -e '
const api = "http://" + process.env.AWS_LAMBDA_RUNTIME_API + "/2020-01-01/extension";
const reg = await fetch(api + "/register", { method: "POST", headers: { "Lambda-Extension-Name": "hungry" }, body: JSON.stringify({ events: ["INVOKE"] }) });
const id = reg.headers.get("lambda-extension-identifier");
const kept = [];
for (;;) {
  await fetch(api + "/event/next", { headers: { "Lambda-Extension-Identifier": id } }).then((r) => r.json());
  for (let i = 0; i < 400; i++) kept.push(Buffer.alloc(1024 * 1024, 1));
}'
`,
    );
    const env = await startEnv({ ...COST, memoryMb: 128, timeoutMs: 30_000, layers: [dir] });
    const r = await env.invoke({ action: 'cgroup' });
    expect(r).toMatchObject({ status: 'error', errorType: 'Runtime.OutOfMemory' });
    expect(r.error?.errorMessage).toMatch(/extension hungry exited .*memory size \(128 MB\)/);
    const shutdownOfReset = env.output();
    expect(shutdownOfReset).toMatch(/shutdown \(failure\)/);
  });

  it('fails an Init that goes over the memory size with Runtime.OutOfMemory', async () => {
    const env = await startEnv({ ...COST, memoryMb: 128, env: { COST_INIT_ALLOCATE_MB: '400' } });
    expect(env.lastInit).toMatchObject({ status: 'error', errorType: 'Runtime.OutOfMemory' });
  });

  it('removes the groups an emulator left when it was killed, and stops what ran in them', async () => {
    // A CLI run (cost model on by default) is SIGKILLed mid-invocation: it cannot clean up.
    const dir = tempDir('killed-');
    writeFileSync(join(dir, 'event.json'), JSON.stringify({ action: 'sleep', ms: 60_000 }));
    const cli = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '../../../dist/cli.mjs'),
        'local',
        ...['--code', fn('esm'), '--handler', 'index.handler', '--event', join(dir, 'event.json')],
        ...['--timeout-ms', '90000', '--memory-mb', '256'],
      ],
      { stdio: 'ignore' },
    );
    const env = await startEnv({ ...COST, memoryMb: 128 });
    const base = dirname(groups(env).memory);
    const left = join(base, `${cli.pid}-1`);
    let pids: number[] = [];
    for (let i = 0; i < 300 && pids.length === 0; i++) {
      await sleep(100);
      if (existsSync(left)) pids = read(left, 'cgroup.procs').split('\n').filter(Boolean).map(Number);
    }
    expect(pids.length, 'the CLI run never put a process in its group').toBeGreaterThan(0);
    const exited = new Promise((r) => cli.once('exit', r));
    cli.kill('SIGKILL');
    await exited;
    expect(existsSync(left)).toBe(true);
    // The next environment made anywhere removes it, and kills what was still in it.
    const next = await startEnv({ ...COST, memoryMb: 128 });
    expect(next.cgroups).toBeDefined();
    expect(existsSync(left)).toBe(false);
    for (const pid of pids) expect(['gone', 'Z']).toContain(stateOf(pid));
  });

  it('removes its groups when the environment is disposed', async () => {
    const env = await startEnv({ ...COST, memoryMb: 256 });
    const g = groups(env);
    await env.invoke({});
    await env.dispose();
    for (const dir of Object.values(g)) expect(existsSync(dir)).toBe(false);
  });
});
