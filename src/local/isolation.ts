// Isolation: a mount namespace per environment (the layers at /opt, a private /tmp, an /etc/hosts in
// which sandbox.localdomain resolves), and with network 'isolated' a network namespace reaching the
// host over a veth pair with link-local addresses. One holder process keeps the namespaces alive;
// every process of the environment enters them with nsenter. Everything made here is removed on
// close, and the holder exits by itself when the emulator dies (its stdin closes).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { isProcessAlive, type Launch } from './processes.js';
import type { NetworkMode } from './types.js';

const run = promisify(execFile);

/** Inside the namespace, as in Lambda. */
export const INSIDE_OPT = '/opt';
export const INSIDE_TMP = '/tmp';
/** The variable that tells the function and extensions where the host (its peers) is. */
export const EMULATOR_HOST_VARIABLE = 'OTEL_RELAY_EMULATOR_HOST';
/**
 * Link-local pairs of isolated networks: 169.254.200.0/21, one /30 per environment (host .1, inside .2).
 * Clear of 169.254.169.254 (instance metadata), 169.254.170.2 (container credentials) and
 * 169.254.79.129 (the X-Ray daemon address Lambda sets).
 */
const NET_BASE = [169, 254, 200, 0] as const;
const NET_SLOTS = 512;
/** Claims of those slots, shared by every emulator on the machine. */
const SLOT_DIR = '/run/lambda-otel-relay/net';
/** How long namespace set-up may take before the environment gives up on it. */
const SETUP_TIMEOUT_MS = 10_000;

export interface NamespaceOptions {
  network: NetworkMode;
  /** Layer directories in order (a later layer wins), laid over /opt. */
  layers: string[];
  /** An empty directory to mount on /opt when there is no layer. */
  emptyDir: string;
  /** The environment's /tmp on the host. */
  tmpDir: string;
  /** Where the environment's /etc/hosts is written. */
  workDir: string;
  /** Host directories the processes need at their host paths (code, runtime, node). */
  keep: string[];
}

/** Namespaces are not usable here (not root, no unshare, a kernel that refuses them). */
export class NamespacesUnavailable extends Error {
  override readonly name = 'NamespacesUnavailable';
}

/**
 * The tools, by absolute path: the environment's PATH is the customer's to choose (even empty), and
 * spawn looks commands up in the child's PATH.
 */
const tools: Partial<Record<'unshare' | 'nsenter' | 'ip', string>> = {};
function tool(name: 'unshare' | 'nsenter' | 'ip'): string {
  const known = tools[name];
  if (known) return known;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin', '/bin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      tools[name] = path;
      return path;
    } catch {
      // Not here.
    }
  }
  throw new NamespacesUnavailable(`${name} is not installed (util-linux / iproute2)`);
}

const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/** The directories in `paths` that a private /tmp would hide, without ones inside another. */
export function hiddenByTmp(paths: readonly string[]): string[] {
  const under = [...new Set(paths.map((p) => resolve(p)))]
    .filter((p) => p.startsWith(`${INSIDE_TMP}${sep}`))
    .sort();
  return under.filter((p, i) => !under.slice(0, i).some((outer) => p.startsWith(`${outer}${sep}`)));
}

/** The host side, inside side and interface names of isolated network slot `slot`. */
export function slotAddresses(slot: number): {
  host: string;
  inside: string;
  hostIf: string;
  insideIf: string;
} {
  const offset = slot * 4;
  const third = NET_BASE[2] + Math.floor(offset / 256);
  const fourth = offset % 256;
  const prefix = `${NET_BASE[0]}.${NET_BASE[1]}.${third}`;
  return {
    host: `${prefix}.${fourth + 1}`,
    inside: `${prefix}.${fourth + 2}`,
    hostIf: `lorelay${slot}h`,
    insideIf: `lorelay${slot}n`,
  };
}

/**
 * The holder's script: mounts /opt, /etc/hosts and /tmp, puts back the kept host directories that
 * /tmp covers (through descriptors opened before covering it), says "ready" and waits for stdin to close.
 */
export function holderScript(opts: {
  layers: string[];
  emptyDir: string;
  hostsFile: string;
  tmpDir: string;
  keep: string[];
}): string {
  // The host's /tmp stays reachable through descriptor 3 after it is covered, to put back what is kept.
  const lines = ['set -e', `exec 3< ${INSIDE_TMP}`];
  if (opts.layers.length >= 2) {
    // The first lowerdir is the top one: the last layer wins, as in Lambda.
    const lower = [...opts.layers].reverse().join(':');
    lines.push(`mount -t overlay lambda-opt -o ${q(`lowerdir=${lower}`)} ${INSIDE_OPT}`);
  } else {
    lines.push(`mount --bind ${q(opts.layers[0] ?? opts.emptyDir)} ${INSIDE_OPT}`);
    lines.push(`mount -o remount,bind,ro ${INSIDE_OPT}`);
  }
  lines.push(`mount --bind ${q(opts.hostsFile)} /etc/hosts`);
  lines.push(`mount --bind ${q(opts.tmpDir)} ${INSIDE_TMP}`);
  for (const dir of hiddenByTmp(opts.keep)) {
    const rel = dir.slice(INSIDE_TMP.length + 1);
    lines.push(`mkdir -p ${q(dir)}`, `mount -c --bind ${q(`/proc/self/fd/3/${rel}`)} ${q(dir)}`);
  }
  lines.push('exec 3<&-');
  lines.push('echo ready', 'read _ || true');
  return lines.join('\n');
}

/** One environment's namespaces. */
export class Namespaces {
  /** Where sandbox.localdomain resolves inside (the address extensions bind their listeners to). */
  readonly sandboxAddress: string;
  /** The host as seen from inside: 127.0.0.1 on the host network, the veth's host side when isolated. */
  readonly hostAddress: string;
  private closed = false;

  private constructor(
    private readonly holder: ChildProcess,
    readonly network: NetworkMode,
    private readonly slot: number | undefined,
  ) {
    const addrs = slot === undefined ? undefined : slotAddresses(slot);
    this.sandboxAddress = addrs?.inside ?? '127.0.0.1';
    this.hostAddress = addrs?.host ?? '127.0.0.1';
  }

  get holderPid(): number {
    return this.holder.pid ?? -1;
  }

  /** Makes the namespaces; throws NamespacesUnavailable (with the reason) where they cannot be made. */
  static async create(opts: NamespaceOptions): Promise<Namespaces> {
    if (process.getuid?.() !== 0) {
      throw new NamespacesUnavailable('namespaces need root here (unshare --mount)');
    }
    tool('nsenter');
    if (opts.network === 'isolated') tool('ip');
    const slot = opts.network === 'isolated' ? claimSlot() : undefined;
    const addrs = slot === undefined ? undefined : slotAddresses(slot);
    const hostsFile = join(opts.workDir, 'hosts');
    let hosts = '';
    try {
      hosts = readFileSync('/etc/hosts', 'utf8');
    } catch {
      hosts = '127.0.0.1\tlocalhost\n';
    }
    const sandbox = addrs?.inside ?? '127.0.0.1';
    writeFileSync(hostsFile, `${hosts.trimEnd()}\n${sandbox}\tsandbox.localdomain sandbox\n`);
    const script = holderScript({
      layers: opts.layers,
      emptyDir: opts.emptyDir,
      hostsFile,
      tmpDir: opts.tmpDir,
      keep: opts.keep,
    });
    const args = [
      '--mount',
      '--propagation',
      'private',
      ...(addrs ? ['--net'] : []),
      '/bin/sh',
      '-c',
      script,
    ];
    const holder = spawn(tool('unshare'), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const ns = new Namespaces(holder, opts.network, slot);
    try {
      await waitReady(holder);
      if (addrs) await ns.connect(addrs);
    } catch (err) {
      await ns.close();
      throw new NamespacesUnavailable((err as Error).message, { cause: err });
    }
    return ns;
  }

  /** The veth pair: host side in the host's network, the other side moved into the environment's. */
  private async connect(a: ReturnType<typeof slotAddresses>): Promise<void> {
    const pid = String(this.holderPid);
    // A pair left by an emulator that died with this slot claimed goes first.
    await run(tool('ip'), ['link', 'del', a.hostIf]).catch(() => undefined);
    await run(tool('ip'), ['link', 'add', a.hostIf, 'type', 'veth', 'peer', 'name', a.insideIf]);
    await run(tool('ip'), ['link', 'set', a.insideIf, 'netns', pid]);
    await run(tool('ip'), ['addr', 'add', `${a.host}/30`, 'dev', a.hostIf]);
    await run(tool('ip'), ['link', 'set', a.hostIf, 'up']);
    const inside = [tool('nsenter'), '-t', pid, '-n', tool('ip')];
    await run(inside[0] as string, [...inside.slice(1), 'link', 'set', 'lo', 'up']);
    await run(inside[0] as string, [...inside.slice(1), 'addr', 'add', `${a.inside}/30`, 'dev', a.insideIf]);
    await run(inside[0] as string, [...inside.slice(1), 'link', 'set', a.insideIf, 'up']);
  }

  /** Starts a command inside the namespaces (and, through the shell step, in `procsFiles`' groups). */
  enter(shellArgs: string[]): Launch {
    const ns = this.network === 'isolated' ? ['-m', '-n'] : ['-m'];
    return {
      command: tool('nsenter'),
      args: ['-t', String(this.holderPid), ...ns, '--', '/bin/sh', ...shellArgs],
      cwd: '/',
    };
  }

  /** Ends the holder (the namespaces go with the last process in them) and releases the network slot. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.slot !== undefined) {
      await run(tool('ip'), ['link', 'del', slotAddresses(this.slot).hostIf]).catch(() => undefined);
      releaseSlot(this.slot);
    }
    this.holder.stdin?.end();
    if (this.holder.exitCode === null && this.holder.signalCode === null) {
      const exited = new Promise<void>((r) => this.holder.once('exit', () => r()));
      this.holder.kill('SIGKILL');
      await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 2_000).unref())]);
    }
  }
}

function waitReady(holder: ChildProcess): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => fail(`namespace set-up took over ${SETUP_TIMEOUT_MS} ms`),
      SETUP_TIMEOUT_MS,
    );
    timer.unref();
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`${why}${err.trim() ? `: ${err.trim()}` : ''}`));
    };
    holder.stderr?.setEncoding('utf8').on('data', (c: string) => {
      err += c;
    });
    holder.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    holder.once('error', (e) => fail(`unshare could not start (${e.message})`));
    holder.once('exit', (code, signal) => fail(`unshare exited (${signal ?? `code ${code}`})`));
  });
}

const claimed = new Set<number>();
let releaseOnExit = false;

/** Claims a free /30 for this process (a directory per slot, shared by every emulator). */
function claimSlot(): number {
  mkdirSync(SLOT_DIR, { recursive: true });
  if (!releaseOnExit) {
    releaseOnExit = true;
    process.once('exit', () => {
      for (const s of claimed) rmSync(join(SLOT_DIR, String(s)), { recursive: true, force: true });
    });
  }
  for (let slot = 0; slot < NET_SLOTS; slot++) {
    const dir = join(SLOT_DIR, String(slot));
    try {
      mkdirSync(dir);
    } catch {
      // Taken: reclaim it only if the emulator that took it is gone.
      let owner = 0;
      try {
        owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {
        continue;
      }
      if (owner > 0 && isProcessAlive(owner)) continue;
      rmSync(dir, { recursive: true, force: true });
      try {
        mkdirSync(dir);
      } catch {
        continue;
      }
    }
    writeFileSync(join(dir, 'pid'), String(process.pid));
    claimed.add(slot);
    return slot;
  }
  throw new NamespacesUnavailable(`all ${NET_SLOTS} isolated network slots are in use`);
}

function releaseSlot(slot: number): void {
  rmSync(join(SLOT_DIR, String(slot)), { recursive: true, force: true });
  claimed.delete(slot);
}
