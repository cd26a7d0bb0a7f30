import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/local/clock.js';
import { parseSubscription, type Subscription, TelemetryRelay } from '../../../src/local/telemetry.js';
import type { TelemetryRecord } from '../../../src/local/types.js';

/** A clock whose timers run only when the test advances it. */
class ManualClock implements Clock {
  private t = 1_700_000_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = until;
  }
}

interface Listener {
  port: number;
  batches: TelemetryRecord[][];
  next(timeoutMs?: number): Promise<TelemetryRecord[]>;
  status: number[];
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

async function listener(statuses: number[] = []): Promise<Listener> {
  const batches: TelemetryRecord[][] = [];
  const waiting: ((b: TelemetryRecord[]) => void)[] = [];
  let seen = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const code = statuses.shift() ?? 200;
      res.writeHead(code).end();
      if (code !== 200) return;
      const batch = JSON.parse(body) as TelemetryRecord[];
      batches.push(batch);
      waiting.shift()?.(batch);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    port: (server.address() as AddressInfo).port,
    batches,
    status: statuses,
    next: (timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const idx = seen++;
        if (batches[idx]) return resolve(batches[idx]);
        const timer = setTimeout(() => reject(new Error('no batch delivered')), timeoutMs);
        waiting.push((b) => {
          clearTimeout(timer);
          resolve(b);
        });
      }),
  };
}

function sub(port: number, over: Partial<Subscription> = {}): Subscription {
  return {
    schemaVersion: '2022-12-13',
    types: ['platform', 'function', 'extension'],
    buffering: { maxItems: 1000, maxBytes: 262_144, timeoutMs: 25 },
    destination: { protocol: 'HTTP', port, path: '/t' },
    ...over,
  };
}

const settle = (ms = 100): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('parseSubscription', () => {
  const valid = {
    schemaVersion: '2022-12-13',
    types: ['platform'],
    destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:8080/lambda' },
  };

  it('fills the documented buffering defaults and keeps the path', () => {
    const r = parseSubscription(valid, { managedInstances: false });
    expect(r).toEqual({
      subscription: {
        schemaVersion: '2022-12-13',
        types: ['platform'],
        buffering: { maxItems: 10_000, maxBytes: 262_144, timeoutMs: 1_000 },
        destination: { protocol: 'HTTP', port: 8080, path: '/lambda' },
      },
    });
  });

  it.each([
    ['timeoutMs', 24],
    ['timeoutMs', 30_001],
    ['maxBytes', 262_143],
    ['maxBytes', 1_048_577],
    ['maxItems', 999],
    ['maxItems', 10_001],
    ['maxItems', 1500.5],
  ])('rejects buffering.%s = %s', (key, value) => {
    const r = parseSubscription({ ...valid, buffering: { [key]: value } }, { managedInstances: false });
    expect(r).toHaveProperty('error');
    expect((r as { error: string }).error).toContain(`buffering.${key}`);
  });

  it('accepts the sandbox host alias and a TCP destination with a port', () => {
    const alias = parseSubscription(
      { ...valid, destination: { protocol: 'HTTP', URI: 'http://sandbox:9999' } },
      { managedInstances: false },
    );
    expect(alias).toMatchObject({ subscription: { destination: { port: 9999, path: '/' } } });
    const tcp = parseSubscription(
      { ...valid, destination: { protocol: 'TCP', port: 4243 } },
      { managedInstances: false },
    );
    expect(tcp).toMatchObject({ subscription: { destination: { protocol: 'TCP', port: 4243 } } });
  });

  it('accepts only schema 2025-01-29 on managed instances', () => {
    expect(parseSubscription(valid, { managedInstances: true })).toHaveProperty('error');
    expect(
      parseSubscription({ ...valid, schemaVersion: '2025-01-29' }, { managedInstances: true }),
    ).toHaveProperty('subscription');
  });
});

describe('TelemetryRelay', () => {
  it('sends a batch timeoutMs after the first buffered record, not before', async () => {
    const l = await listener();
    const clock = new ManualClock();
    const relay = new TelemetryRelay({ clock });
    closers.push(() => relay.close());
    relay.subscribe('ext', sub(l.port));
    relay.emit('platform.start', { requestId: 'r1' });
    clock.advance(24);
    await settle();
    expect(l.batches).toHaveLength(0);
    clock.advance(1);
    const batch = await l.next();
    expect(batch.map((r) => r.type)).toEqual(['platform.start']);
  });

  it('sends at once when maxItems records are buffered', async () => {
    const l = await listener();
    const relay = new TelemetryRelay({ clock: new ManualClock() });
    closers.push(() => relay.close());
    relay.subscribe('ext', sub(l.port));
    for (let i = 0; i < 1000; i++) relay.emit('function', `line ${i}`);
    const batch = await l.next();
    expect(batch).toHaveLength(1000);
  });

  it('holds everything while paused and delivers it on resume, in order', async () => {
    const l = await listener();
    const clock = new ManualClock();
    const relay = new TelemetryRelay({ clock });
    closers.push(() => relay.close());
    relay.subscribe('ext', sub(l.port));
    relay.pause();
    relay.emit('platform.runtimeDone', { requestId: 'a' });
    relay.emit('platform.report', { requestId: 'a' });
    clock.advance(10_000);
    await settle();
    expect(l.batches).toHaveLength(0);
    relay.resume();
    const batch = await l.next();
    expect(batch.map((r) => r.type)).toEqual(['platform.runtimeDone', 'platform.report']);
  });

  it('replays the records of the current init to a late subscriber, filtered by type', async () => {
    const l = await listener();
    const clock = new ManualClock();
    const relay = new TelemetryRelay({ clock });
    closers.push(() => relay.close());
    relay.emit('platform.report', { requestId: 'before-init' });
    relay.markInitStart();
    relay.emit('platform.initStart', { phase: 'init' });
    relay.emit('extension', 'ext log');
    relay.subscribe('ext', sub(l.port, { types: ['platform'] }));
    relay.flushAll();
    const batch = await l.next();
    expect(batch.map((r) => r.type)).toEqual(['platform.initStart']);
  });

  it('retries a failed delivery with backoff', async () => {
    const l = await listener([500]);
    const clock = new ManualClock();
    const relay = new TelemetryRelay({ clock });
    closers.push(() => relay.close());
    relay.subscribe('ext', sub(l.port));
    relay.emit('platform.start', { requestId: 'r' });
    relay.flushAll();
    await settle();
    expect(l.batches).toHaveLength(0);
    clock.advance(100);
    const batch = await l.next();
    expect(batch.map((r) => r.type)).toEqual(['platform.start']);
  });

  it('gives JSON log objects as strings to schema 2022-07-01 subscribers', async () => {
    const l = await listener();
    const relay = new TelemetryRelay({ clock: new ManualClock() });
    closers.push(() => relay.close());
    relay.subscribe('old', sub(l.port, { schemaVersion: '2022-07-01' }));
    relay.emit('function', { message: 'hi', level: 'INFO' });
    relay.flushAll();
    const batch = await l.next();
    expect(batch[0]?.record).toBe('{"message":"hi","level":"INFO"}');
  });

  it('formats time with milliseconds and Z', () => {
    const relay = new TelemetryRelay({ clock: new ManualClock() });
    const rec = relay.emit('platform.start', {});
    expect(rec.time).toBe('2023-11-14T22:13:20.000Z');
    relay.close();
  });
});
