// A real redis-server on a free loopback port, one per test file, with no persistence. An ACL user
// can be added for the AUTH tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRedis } from '../setup/peers/redis.mjs';
import { PeerProcess } from './peer-process.js';
import { freePort } from './ports.js';

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:PORT` (no user). */
  url: string;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  logs(): string;
}

export interface RedisServerOptions {
  /** ACL users: `user <name> on ><password> <rules>` lines, e.g. `~otlp_* +xadd +hello +ping`. */
  users?: Array<{ name: string; password: string; rules: string }>;
  /** Reuse a port (a server restarted after a test stopped it). */
  port?: number;
}

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = await ensureRedis();
  const dir = mkdtempSync(join(tmpdir(), 'relay-redis-'));
  const port = opts.port ?? (await freePort());
  const conf = [
    `port ${port}`,
    'bind 127.0.0.1',
    'save ""',
    'appendonly no',
    `dir ${dir}`,
    ...(opts.users ?? []).map((u) => `user ${u.name} on >${u.password} ${u.rules}`),
  ];
  writeFileSync(join(dir, 'redis.conf'), `${conf.join('\n')}\n`);
  const proc = new PeerProcess({ name: 'redis', command: binary, args: [join(dir, 'redis.conf')] });
  try {
    await proc.waitForOutput(/Ready to accept connections/, 30_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    kill: (signal) => proc.kill(signal),
    logs: () => proc.logs(),
  };
}
