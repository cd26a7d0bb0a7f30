// A real PostgreSQL server per test file: initdb in a temporary directory as the `postgres` user
// (the server refuses root), trust auth on loopback, a free port.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePostgres } from '../setup/peers/postgres.mjs';
import { PeerProcess } from './peer-process.js';
import { freePort } from './ports.js';

export interface PostgresServer {
  port: number;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (the superuser, trust auth). */
  url: string;
  /** Runs SQL as the superuser with psql; returns its unaligned output. */
  psql(sql: string): string;
  /** Stops the server, keeping its data. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and data (after `stop`). */
  restart(): Promise<void>;
  /** Stops the server for good and removes its data directory. */
  remove(): Promise<void>;
  logs(): string;
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = await ensurePostgres();
  const { uid, gid } = postgresIds();
  const dir = mkdtempSync(join(tmpdir(), 'relay-pg-'));
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  execFileSync(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], {
    uid,
    gid,
    cwd: dir,
    stdio: 'pipe',
  });
  const port = await freePort();
  let proc: PeerProcess | undefined;
  // SIGINT is PostgreSQL's fast shutdown: SIGTERM ("smart") would wait for every client to leave.
  const halt = async (): Promise<void> => {
    if (!proc?.running) return;
    proc.kill('SIGINT');
    await proc.waitForExit(30_000);
  };
  const start = async (): Promise<void> => {
    const p = new PeerProcess({
      name: 'postgres',
      command: join(bin, 'postgres'),
      args: [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
      ],
      env: { ...process.env, LC_ALL: 'C' },
      cwd: dir,
      uid,
      gid,
    });
    proc = p;
    try {
      await p.waitForOutput(/database system is ready to accept connections/, 60_000);
    } catch (err) {
      await p.stop();
      throw err;
    }
  };
  await start();
  const psqlArgs = [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'postgres',
    '-AtqX',
    '-v',
    'ON_ERROR_STOP=1',
  ];
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    psql: (sql) =>
      execFileSync(join(bin, 'psql'), [...psqlArgs, '-c', sql], { stdio: ['ignore', 'pipe', 'pipe'] })
        .toString()
        .trim(),
    stop: halt,
    async restart() {
      await halt();
      await start();
    },
    async remove() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    logs: () => proc?.logs() ?? '',
  };
}
