// The built extension process against a scripted Extensions API: what it loads before `register`
// (nothing heavy on the init path), and that silence or garbage from the platform ends in
// a bounded exit or carries on, never a hang.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ExtensionRun,
  invokeEvent,
  postTraces,
  refusingServer,
  shutdownEvent,
  startExtension,
} from './extension-process.js';

let run: ExtensionRun | undefined;
afterEach(async () => {
  await run?.stop();
  run = undefined;
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sec-init-'));
  // Records the built-in modules the extension loaded (beyond node:http, loaded here to hook it) at the
  // moment it sends its first request, which is `register`.
  writeFileSync(
    join(dir, 'snapshot.cjs'),
    `const http = require('node:http');
const before = new Set(process.moduleLoadList);
const request = http.request;
let first = true;
http.request = function (...args) {
  if (first) {
    first = false;
    const loaded = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule '));
    require('node:fs').writeFileSync(process.env.SNAPSHOT_OUT, JSON.stringify({ path: args[0] && args[0].path, loaded }));
  }
  return request.apply(this, args);
};
`,
  );
  return () => rmSync(dir, { recursive: true, force: true });
});

const nexts = (r: ExtensionRun) => r.calls.filter((c) => c.endsWith('/extension/event/next')).length;

describe('init path', () => {
  it('loads no TLS, HTTP/2, zlib or crypto module before register', async () => {
    const out = join(dir, 'loaded.json');
    run = await startExtension({
      nodeArgs: ['-r', join(dir, 'snapshot.cjs')],
      env: { SNAPSHOT_OUT: out },
    });
    await run.waitForOutput(/otel-relay ready/);
    run.answerNext(shutdownEvent());
    expect(await run.exited()).toBe(0);
    const snap = JSON.parse(readFileSync(out, 'utf8')) as { path: string; loaded: string[] };
    expect(snap.path).toBe('/2020-01-01/extension/register');
    const heavy = ['http2', 'https', 'tls', 'zlib', 'crypto', 'child_process', 'worker_threads'];
    expect(snap.loaded.filter((m) => heavy.includes(m.replace('NativeModule ', '')))).toEqual([]);
  });
});

describe('a platform that is silent or answers garbage', () => {
  it('gives up on a register that never answers and exits 1', async () => {
    run = await startExtension({ register: 'hang' });
    expect(await run.exited(20_000)).toBe(1);
    expect(run.stdout()).toMatch(/could not register with the Extensions API/);
    expect(nexts(run)).toBe(0);
  });

  it('exits 1 when register is answered without an extension identifier or refused', async () => {
    for (const register of [
      { status: 200, body: '\u0000garbage' },
      { status: 500, body: '{"errorType":"Extension.Unknown"}' },
    ]) {
      run = await startExtension({ register });
      expect(await run.exited()).toBe(1);
      expect(run.stdout()).toMatch(/could not register/);
      expect(nexts(run)).toBe(0);
      await run.stop();
      run = undefined;
    }
  });

  it('exits 1 after a bounded number of event/next answers that are not JSON events', async () => {
    run = await startExtension();
    await run.waitForOutput(/otel-relay ready/);
    for (let i = 0; i < 5; i++) run.answerNext({ status: 200, body: '<html>not an event</html>' });
    expect(await run.exited()).toBe(1);
    expect(nexts(run)).toBeLessThanOrEqual(3);
    expect(run.stdout()).toMatch(/event\/next failed; the extension exits/);
  });

  it('carries on past an INVOKE whose deadline is not a number and shuts down cleanly', async () => {
    run = await startExtension({ env: { OTEL_RELAY_FLUSH: 'end' } });
    await run.waitForOutput(/otel-relay ready/);
    run.answerNext(invokeEvent('req-garbage-deadline', 'soon'));
    run.answerNext(invokeEvent('req-no-deadline', null));
    run.answerNext(shutdownEvent());
    expect(await run.exited()).toBe(0);
    expect(nexts(run)).toBe(3);
  });

  it('keeps what arrived during an INVOKE with a garbage deadline and spools it at shutdown', async () => {
    const collector = await refusingServer(503, 'unavailable');
    try {
      run = await startExtension({
        env: { OTEL_RELAY_FLUSH: 'end', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
      });
      const port = Number((await run.waitForOutput(/"http":(\d+)/))[1]);
      run.answerNext(invokeEvent('req-nan', 'soon'));
      await postTraces(port, 4);
      await fetch(`http://127.0.0.1:${port}/relay/v1/invocations/req-nan/done`, {
        method: 'POST',
        signal: AbortSignal.timeout(5_000),
      });
      run.answerNext(shutdownEvent());
      expect(await run.exited()).toBe(0);
      const summary = JSON.parse((await run.waitForOutput(/^.*"otel-relay shut down".*$/m))[0]) as {
        received: { traces: number };
        spilled: { traces: number };
        dropped: { traces: number };
      };
      expect(summary.received.traces).toBe(4);
      expect(summary.spilled.traces).toBe(4);
      expect(summary.dropped.traces).toBe(0);
    } finally {
      await collector.close();
    }
  });
});

describe('a Telemetry API listener fed garbage', () => {
  it('ignores malformed batches and oversized bodies, and still ends the invocation on a good runtimeDone', async () => {
    run = await startExtension({
      env: { OTEL_RELAY_FLUSH: 'end', OTEL_RELAY_PLATFORM_TELEMETRY: 'true' },
    });
    await run.waitForOutput(/otel-relay ready/);
    const i = run.calls.indexOf('PUT /2022-07-01/telemetry');
    expect(i).toBeGreaterThanOrEqual(0);
    const uri = new URL(
      (JSON.parse(run.bodies[i] ?? '{}') as { destination: { URI: string } }).destination.URI,
    );
    // The emulator's rule: sandbox.localdomain is loopback outside Lambda.
    const listener = `http://127.0.0.1:${uri.port}/`;
    const deliver = async (body: string | Uint8Array) => {
      try {
        const res = await fetch(listener, { method: 'POST', body, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        return res.status;
      } catch {
        return 'connection closed';
      }
    };
    run.answerNext(invokeEvent('req-telemetry', Date.now() + 60_000));
    expect(await deliver('{not json')).toBe(200);
    expect(await deliver('{"type":"platform.runtimeDone"}')).toBe(200);
    expect(await deliver(Buffer.alloc(9 * 1024 * 1024, 0x20))).toBe('connection closed');
    expect(
      await deliver(
        JSON.stringify([
          null,
          7,
          'x',
          { type: 'platform.runtimeDone', record: null },
          { type: 'platform.runtimeDone', record: { requestId: 42 } },
          {
            type: 'platform.report',
            time: 'yesterday',
            record: { requestId: 'req-telemetry', metrics: 'lots' },
          },
          { type: 'platform.start', record: { requestId: ['req-telemetry'] } },
        ]),
      ),
    ).toBe(200);
    expect(nexts(run)).toBe(1);
    expect(
      await deliver(
        JSON.stringify([
          {
            type: 'platform.runtimeDone',
            time: new Date().toISOString(),
            record: { requestId: 'req-telemetry' },
          },
        ]),
      ),
    ).toBe(200);
    // The good runtimeDone ends the invocation long before its 60 s deadline: `next` comes again.
    const end = Date.now() + 10_000;
    while (nexts(run) < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(nexts(run)).toBe(2);
    run.answerNext(shutdownEvent());
    expect(await run.exited()).toBe(0);
  });
});

describe('a flood faster than export', () => {
  it('accounts for every accepted item as exported, spilled or dropped in the shutdown summary', async () => {
    const collector = await refusingServer(503, 'unavailable');
    try {
      run = await startExtension({
        env: {
          OTEL_RELAY_FLUSH: 'end',
          OTEL_RELAY_BUFFER_MAX_BYTES: String(64 * 1024),
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        },
      });
      const port = Number((await run.waitForOutput(/"http":(\d+)/))[1]);
      run.answerNext(invokeEvent('req-flood', Date.now() + 10_000));
      // Far more than the buffer and its eviction queue hold within one invocation (nothing is
      // spilled before the flush at its end).
      for (let i = 0; i < 200; i++) await postTraces(port, 20);
      await fetch(`http://127.0.0.1:${port}/relay/v1/invocations/req-flood/done`, {
        method: 'POST',
        signal: AbortSignal.timeout(5_000),
      });
      run.answerNext(shutdownEvent());
      expect(await run.exited()).toBe(0);
      const summary = JSON.parse((await run.waitForOutput(/^.*"otel-relay shut down".*$/m))[0]) as {
        received: { traces: number };
        exported: { traces: number };
        spilled: { traces: number };
        dropped: { traces: number };
      };
      expect(summary.received.traces).toBe(4000);
      // The buffer and its eviction queue hold far fewer than 4,000 spans: some were dropped, what was
      // evicted in time was spilled, and every one is counted.
      expect(summary.dropped.traces).toBeGreaterThan(0);
      expect(summary.spilled.traces).toBeGreaterThan(0);
      expect(summary.exported.traces + summary.spilled.traces + summary.dropped.traces).toBe(4000);
    } finally {
      await collector.close();
    }
  });
});
