// A real redis-server on a free loopback port, one per test file, with no persistence. An ACL user
// can be added for the AUTH tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRedis } from '../setup/peers/redis.mjs';
import { PeerProcess } from './peer-process.js';
import { freePort } from './ports.js';

export interface RedisServer {
  port: number;
  /** The CA's PEM file, when started with `tls`. */
  caFile?: string;
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
  /** Serve TLS only, with a certificate for 127.0.0.1 signed by a CA made for this server. */
  tls?: boolean;
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
  let caFile: string | undefined;
  if (opts.tls) {
    caFile = makeCertificates(dir);
    conf[0] = 'port 0';
    conf.push(
      `tls-port ${port}`,
      `tls-cert-file ${join(dir, 'server.pem')}`,
      `tls-key-file ${join(dir, 'server.key')}`,
      `tls-ca-cert-file ${caFile}`,
      'tls-auth-clients no',
    );
  }
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
    ...(caFile !== undefined && { caFile }),
    url: `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    kill: (signal) => proc.kill(signal),
    logs: () => proc.logs(),
  };
}

/** A CA and a server certificate for 127.0.0.1 (openssl); returns the CA's PEM path. */
function makeCertificates(dir: string): string {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=relay-test-ca',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  );
  return join(dir, 'ca.pem');
}
