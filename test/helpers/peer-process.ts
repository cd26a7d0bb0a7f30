import { type ChildProcess, spawn } from 'node:child_process';

/** At most this much of a peer's output is kept: enough to explain a failure, bounded for long runs. */
const LOG_LIMIT = 2 * 1024 * 1024;

/** Peers still running in this process; killed if the test worker exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface PeerProcessOptions {
  /** Short name used in logs and error messages, e.g. `moto` or `otelcol`. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user and group (a peer that refuses root, such as PostgreSQL). */
  uid?: number;
  gid?: number;
}

/**
 * One real peer process with its output captured. Every wait it offers has a deadline, and every
 * failure message carries the peer's recent output so a failing test explains itself.
 */
export class PeerProcess {
  readonly name: string;
  private readonly child: ChildProcess;
  private output = '';
  private dropped = 0;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  private readonly listeners = new Set<() => void>();

  constructor(opts: PeerProcessOptions) {
    this.name = opts.name;
    this.child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined && { uid: opts.uid }),
      ...(opts.gid !== undefined && { gid: opts.gid }),
    });
    live.add(this.child);
    const append = (chunk: Buffer): void => {
      this.output += chunk.toString();
      if (this.output.length > LOG_LIMIT) {
        const cut = this.output.length - LOG_LIMIT;
        this.dropped += cut;
        this.output = this.output.slice(cut);
      }
      for (const l of this.listeners) l();
    };
    this.child.stdout?.on('data', append);
    this.child.stderr?.on('data', append);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.output += `\n[${this.name} could not start: ${err.message}]\n`;
        this.exitInfo = { code: null, signal: null };
        live.delete(this.child);
        for (const l of this.listeners) l();
        resolve();
      });
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this.child);
        for (const l of this.listeners) l();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  logs(): string {
    return this.dropped > 0 ? `[… ${this.dropped} earlier characters dropped]\n${this.output}` : this.output;
  }

  /** Resolves with the first match of `pattern` in the output; fails if the process exits first or at the deadline. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.output.match(pattern);
        if (m) {
          done();
          resolve(m);
        } else if (this.exitInfo) {
          done();
          reject(this.failure(`exited (${this.describeExit()}) before printing ${pattern}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(this.failure(`printed no ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Sends a signal without waiting (to test how others cope with a peer that dies). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if the peer has not exited within graceMs; resolves once it has exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Resolves when the process has exited, or rejects at the deadline. */
  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.failure(`did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.exited, deadline]);
    } finally {
      clearTimeout(timer);
    }
    // exited has resolved, so exitInfo is set.
    return this.exitInfo ?? { code: null, signal: null };
  }

  /** An Error naming the peer, what went wrong, and its recent output. */
  failure(what: string, cause?: unknown): Error {
    const tail = this.output.slice(-4000);
    return new Error(`${this.name} ${what}\n--- ${this.name} output (tail) ---\n${tail}`, { cause });
  }

  private describeExit(): string {
    const e = this.exitInfo;
    if (!e) return 'running';
    return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
  }
}

/**
 * Polls `probe` until it resolves true, sleeping `intervalMs` between tries; rejects at the deadline
 * with the last error seen.
 */
export async function pollUntil(
  what: string,
  probe: () => Promise<boolean>,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what}: not ready within ${timeoutMs} ms`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
