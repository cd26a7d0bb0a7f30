import { PeerProcess, pollUntil } from './peer-process.js';

/** A peer process with an HTTP API on a loopback port, ready once `readyPath` answers 2xx. */
export interface HttpPeer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  get(path: string): Promise<{ status: number; text: string }>;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  logs(): string;
}

export async function startHttpPeer(opts: {
  name: string;
  command: string;
  args: string[];
  port: number;
  readyPath: string;
  startTimeoutMs?: number;
  cwd?: string;
}): Promise<HttpPeer> {
  const url = `http://127.0.0.1:${opts.port}`;
  const proc = new PeerProcess({ name: opts.name, command: opts.command, args: opts.args, cwd: opts.cwd });
  try {
    await pollUntil(
      `${opts.name} at ${url}`,
      async () => {
        if (!proc.running) throw proc.failure('exited during start');
        return (await fetch(url + opts.readyPath, { signal: AbortSignal.timeout(2_000) })).ok;
      },
      { timeoutMs: opts.startTimeoutMs ?? 60_000, intervalMs: 250 },
    );
  } catch (err) {
    await proc.stop();
    throw proc.failure('did not start', err);
  }
  return {
    url,
    async get(path) {
      const res = await fetch(url + path, { signal: AbortSignal.timeout(10_000) });
      return { status: res.status, text: await res.text() };
    },
    stop: () => proc.stop(),
    kill: (signal) => proc.kill(signal),
    logs: () => proc.logs(),
  };
}
