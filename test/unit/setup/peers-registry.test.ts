// The peer registry's scheduler (preparePeers) and the run-scoped failure record of ensureCached, with
// made-up peers whose builds are promises this test resolves by hand: no real build runs here.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureCached, PEERS, type PeerEntry, preparePeers } from '../../setup/peers.mjs';

/** A peer whose build is held open until release() is called; records when it was running. */
function heldPeer(name: string, cpu: boolean, running: Set<string>, peak: { cpu: number }) {
  let release: (fail?: Error) => void = () => {};
  const entry: PeerEntry = {
    name,
    cpu,
    prepare: () =>
      new Promise<string>((resolve, reject) => {
        running.add(name);
        peak.cpu = Math.max(peak.cpu, [...running].filter((n) => n.startsWith('cpu')).length);
        release = (fail) => {
          running.delete(name);
          if (fail) reject(fail);
          else resolve(`/cache/${name}`);
        };
      }),
  };
  return { entry, release: (fail?: Error) => release(fail) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('peer registry', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('lists each peer once, by name', () => {
    const names = PEERS.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['python-venv', 'otelcol', 'node-22', 'node-24']));
  });

  it('starts every light peer at once and runs CPU-heavy builds one at a time', async () => {
    process.env.LAMBDA_OTEL_RELAY_PEER_JOBS = '1';
    const running = new Set<string>();
    const peak = { cpu: 0 };
    const cpuA = heldPeer('cpu-a', true, running, peak);
    const others = [
      heldPeer('cpu-b', true, running, peak),
      heldPeer('io-a', false, running, peak),
      heldPeer('io-b', false, running, peak),
    ];
    const peers = [cpuA, ...others];
    const lines: string[] = [];
    const done = preparePeers({ peers: peers.map((p) => p.entry), log: (l) => lines.push(l) });
    await tick();
    expect([...running].sort()).toEqual(['cpu-a', 'io-a', 'io-b']);

    cpuA.release();
    await tick();
    expect(running.has('cpu-b')).toBe(true);
    for (const p of others) p.release();
    const outcomes = await done;

    expect(peak.cpu).toBe(1);
    expect(outcomes.map((o) => o.name)).toEqual(['cpu-a', 'cpu-b', 'io-a', 'io-b']);
    expect(lines.at(-1)).toMatch(/^peers: 4\/4 ready in /);
  });

  it('attempts every peer when one fails, then names each failure with its reason', async () => {
    const running = new Set<string>();
    const peak = { cpu: 0 };
    process.env.LAMBDA_OTEL_RELAY_PEER_JOBS = '1';
    const cpuBroken = heldPeer('cpu-broken', true, running, peak);
    const cpuFine = heldPeer('cpu-fine', true, running, peak);
    const ioBroken = heldPeer('io-broken', false, running, peak);
    const done = preparePeers({ peers: [cpuBroken.entry, cpuFine.entry, ioBroken.entry], log: () => {} });
    await tick();
    cpuBroken.release(new Error('go build exited 1: missing module'));
    ioBroken.release(new Error('pip could not reach the index'));
    await tick();
    // The CPU slot freed by the failed build went to the next one.
    expect(running.has('cpu-fine')).toBe(true);
    cpuFine.release();

    const err = await done.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^peers: cpu-broken, io-broken could not be prepared/);
    expect(err?.message).toContain('missing module');
    expect(err?.message).toContain('pip could not reach the index');
    expect(running.size).toBe(0);
  });
});

describe('a failed build within one test run', () => {
  const saved = { ...process.env };
  let cache: string;
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), 'peers-failed-'));
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(cache, { recursive: true, force: true });
  });

  it('fails later callers of the same run at once with the recorded reason', async () => {
    process.env.LAMBDA_OTEL_RELAY_RUN_ID = 'run-1';
    const dir = join(cache, 'peer-x');
    let builds = 0;
    const broken = async () => {
      builds++;
      throw new Error('the toolchain is missing');
    };
    await expect(ensureCached(dir, 5_000, broken)).rejects.toThrow('the toolchain is missing');
    await expect(ensureCached(dir, 5_000, broken)).rejects.toThrow(
      /failed to build earlier in this test run:\nthe toolchain is missing/,
    );
    expect(builds).toBe(1);
  });

  it('retries in a new run, and a success clears the record', async () => {
    const dir = join(cache, 'peer-y');
    process.env.LAMBDA_OTEL_RELAY_RUN_ID = 'run-1';
    await expect(
      ensureCached(dir, 5_000, async () => {
        throw new Error('flaky');
      }),
    ).rejects.toThrow('flaky');
    process.env.LAMBDA_OTEL_RELAY_RUN_ID = 'run-2';
    await expect(ensureCached(dir, 5_000, async () => {})).resolves.toBe(dir);
    expect(existsSync(join(dir, '.ready'))).toBe(true);
    expect(existsSync(`${dir}.failed`)).toBe(false);
  });

  it('records nothing outside a test run, so every call retries', async () => {
    delete process.env.LAMBDA_OTEL_RELAY_RUN_ID;
    const dir = join(cache, 'peer-z');
    let builds = 0;
    const broken = async () => {
      builds++;
      throw new Error('broken');
    };
    await expect(ensureCached(dir, 5_000, broken)).rejects.toThrow('broken');
    await expect(ensureCached(dir, 5_000, broken)).rejects.toThrow('broken');
    expect(builds).toBe(2);
  });
});
