// The environment's processes: spawned in their own process group (so freeze/thaw reaches anything they
// start), output split into labelled lines, the runtime's telemetry log frames decoded, memory read
// from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ProcessRole } from './types.js';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

export interface LogFrame {
  /** Epoch ms the runtime stamped on the frame. */
  timeMs: number;
  /** true for JSON-format frames (AWS_LAMBDA_LOG_FORMAT=JSON). */
  json: boolean;
  text: string;
}

export interface SpawnSpec {
  role: ProcessRole;
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Give the child a telemetry log fd (3) and decode frames from it. */
  logFd?: boolean;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  onFrame?: (frame: LogFrame) => void;
  /** How the process is really started (cgroups, namespaces): see Launcher. Default: directly. */
  launcher?: Launcher;
}

/** Turns a command into the one that starts it inside the environment's cgroups and namespaces. */
export type Launcher = (command: string, args: string[], cwd: string) => Launch;

export interface Launch {
  command: string;
  args: string[];
  /** The host directory spawn starts in (the process itself may change to another one). */
  cwd: string;
}

/**
 * Joins the given cgroup.procs files, changes to `cwd` and execs the command, all in the same process:
 * the pid (and its process group) is the command's, and nothing runs outside the groups.
 */
const JOIN_AND_EXEC =
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 126; shift; n=$((n-1)); done; ' +
  'cd "$1" || exit 126; shift; exec "$@"';

/** The /bin/sh arguments of JOIN_AND_EXEC. */
export function joinAndExecArgs(procsFiles: readonly string[], cwd: string, command: string, args: string[]) {
  return [
    '-c',
    JOIN_AND_EXEC,
    'lambda-launch',
    String(procsFiles.length),
    ...procsFiles,
    cwd,
    command,
    ...args,
  ];
}

/** Thrown when Lambda could not exec a file: the platform's Extension.LaunchError. */
export class LaunchError extends Error {
  override readonly name = 'LaunchError';
}

/**
 * Lambda execs extensions directly (no shell fallback), so a file must be a regular, executable file
 * starting with a shebang or an ELF header. Node's spawn would run a shebang-less script with /bin/sh.
 */
export function checkExecutable(path: string): void {
  let fd: number | undefined;
  try {
    if (!statSync(path).isFile()) throw new LaunchError(`${path} is not a regular file`);
    accessSync(path, constants.X_OK);
    fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    const isScript = n >= 2 && head[0] === 0x23 && head[1] === 0x21;
    const isElf = n === 4 && head.toString('latin1') === '\x7fELF';
    if (!isScript && !isElf)
      throw new LaunchError(`${path}: exec format error (no #! line and not an ELF binary)`);
  } catch (err) {
    if (err instanceof LaunchError) throw err;
    throw new LaunchError(`${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class ManagedProcess {
  readonly role: ProcessRole;
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited and its output is read. */
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | undefined;
  /** Set when the emulator sent SIGKILL (so the exit is not the process's own doing). */
  killedByPlatform = false;
  private readonly child: ChildProcess;
  private lastData = 0;

  constructor(spec: SpawnSpec) {
    this.role = spec.role;
    this.name = spec.name;
    const launch = spec.launcher
      ? spec.launcher(spec.command, spec.args, spec.cwd)
      : { command: spec.command, args: spec.args, cwd: spec.cwd };
    this.child = spawn(launch.command, launch.args, {
      cwd: launch.cwd,
      env: spec.env,
      detached: true,
      stdio: spec.logFd ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) {
      // spawn reports exec failures asynchronously; the pre-check makes this rare.
      this.pid = -1;
    } else {
      this.pid = this.child.pid;
    }
    const streamsDone: Promise<void>[] = [];
    const out = this.child.stdout;
    const err = this.child.stderr;
    if (out) streamsDone.push(this.lines(out, (l) => spec.onLine('stdout', l)));
    if (err) streamsDone.push(this.lines(err, (l) => spec.onLine('stderr', l)));
    const fd3 = this.child.stdio[3] as Readable | null | undefined;
    if (fd3 && spec.onFrame) streamsDone.push(this.frames(fd3, spec.onFrame));
    this.exited = new Promise<ExitInfo>((resolveExit) => {
      let info: ExitInfo | undefined;
      const finish = (i: ExitInfo): void => {
        if (info) return;
        info = i;
        // Output written just before exit is still in the pipes; read it before reporting the exit,
        // but never wait on a grandchild that keeps a pipe open.
        const timeout = new Promise<void>((r) => setTimeout(r, 200).unref());
        void Promise.race([Promise.all(streamsDone), timeout]).then(() => {
          this.exit = i;
          resolveExit(i);
        });
      };
      this.child.on('exit', (code, signal) => finish({ code, signal }));
      this.child.on('error', (err) => {
        spec.onLine('stderr', `could not start ${spec.command}: ${err.message}`);
        finish({ code: 127, signal: null });
      });
    });
  }

  get alive(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Signals the whole process group; a dead group is not an error. */
  signal(sig: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    if (sig === 'SIGKILL') this.killedByPlatform = true;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        process.kill(this.pid, sig);
      } catch {
        // Already gone.
      }
    }
  }

  /** Resolves once every byte written to the pipes before now has been read (see drain()). */
  async drain(): Promise<void> {
    // The data is already in the kernel when the caller's HTTP request arrived, but which of the two
    // fds the event loop serves first is arbitrary; two full loop turns read it, more if it keeps coming.
    for (let round = 0; round < 20; round++) {
      const before = this.lastData;
      await new Promise<void>((r) => setImmediate(r));
      await new Promise<void>((r) => setImmediate(r));
      if (this.lastData === before) return;
    }
  }

  private lines(stream: Readable, onLine: (line: string) => void): Promise<void> {
    return new Promise((resolveDone) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.lastData++;
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const p of parts) onLine(p);
      });
      const end = (): void => {
        if (partial) onLine(partial);
        partial = '';
        resolveDone();
      };
      stream.on('end', end);
      stream.on('close', end);
      stream.on('error', end);
    });
  }

  private frames(stream: Readable, onFrame: (frame: LogFrame) => void): Promise<void> {
    return new Promise((resolveDone) => {
      let buf: Buffer = Buffer.alloc(0);
      stream.on('data', (chunk: Buffer) => {
        this.lastData++;
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        while (buf.length >= 16) {
          const type = buf.readUInt32BE(0);
          const len = buf.readInt32BE(4);
          if (buf.length < 16 + len) break;
          const micros = buf.readBigInt64BE(8);
          const text = buf.subarray(16, 16 + len).toString('utf8');
          buf = buf.subarray(16 + len);
          // Frame type 0xa55a0003 | level mask is text, 0xa55a0002 | level mask is JSON.
          onFrame({ timeMs: Number(micros / 1000n), json: (type & 0x3) === 2, text });
        }
      });
      const end = (): void => resolveDone();
      stream.on('end', end);
      stream.on('close', end);
      stream.on('error', end);
    });
  }
}

/** Peak resident memory (VmHWM) of a process and its descendants, in kB; 0 when unreadable. */
export function peakMemoryKb(pid: number): number {
  let total = 0;
  const seen = new Set<number>();
  const visit = (p: number, depth: number): void => {
    if (seen.has(p) || depth > 8) return;
    seen.add(p);
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status) ?? /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      if (m?.[1]) total += Number(m[1]);
      const children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      if (children) for (const c of children.split(/\s+/)) visit(Number(c), depth + 1);
    } catch {
      // The process is gone or /proc is not readable: count nothing for it.
    }
  };
  visit(pid, 0);
  return total;
}

/** User + system CPU time of a process and its descendants (reaped ones included), in ms; 0 when gone. */
export function cpuTimeMs(pid: number): number {
  let ticks = 0;
  const seen = new Set<number>();
  const visit = (p: number, depth: number): void => {
    if (seen.has(p) || depth > 8) return;
    seen.add(p);
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after the command: state is 3; utime, stime, cutime, cstime are 14-17.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      for (const i of [11, 12, 13, 14]) ticks += Number(f[i] ?? 0);
      const children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim();
      if (children) for (const c of children.split(/\s+/)) visit(Number(c), depth + 1);
    } catch {
      // Gone: its time is no longer readable.
    }
  };
  visit(pid, 0);
  // USER_HZ is 100 on every Linux Lambda runs on (and nearly everywhere else).
  return ticks * 10;
}

/** Whether a process exists (one we may not signal counts too). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when /proc shows the process stopped (SIGSTOP) or gone. */
export function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'T' || state === 't' || state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}
