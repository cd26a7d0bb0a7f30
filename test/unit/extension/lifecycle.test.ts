import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/extension/clock.js';
import type { Clock } from '../../../src/extension/export/index.js';
import { runExtension } from '../../../src/extension/lifecycle/run.js';
import { freePort } from '../../helpers/ports.js';
import {
  eventually,
  type FakeCollector,
  type FakeLambdaApi,
  recordingLog,
  startFakeCollector,
  startFakeLambdaApi,
  startRelay,
  traceRequest,
} from './fakes.js';

let api: FakeLambdaApi;
let collector: FakeCollector;
let spoolDir: string;

beforeEach(async () => {
  api = await startFakeLambdaApi();
  collector = await startFakeCollector();
  spoolDir = mkdtempSync(join(tmpdir(), 'relay-unit-spool-'));
});
afterEach(async () => {
  await api.close();
  await collector.close();
  rmSync(spoolDir, { recursive: true, force: true });
});

function start(env: Record<string, string> = {}, clock: Clock = systemClock) {
  return startRelay({ api, collector, spoolDir }, env, clock);
}

function post(port: number, path: string, body: Uint8Array) {
  return new Promise<number>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const invoke = (requestId: string, timeoutMs = 3000) => ({
  eventType: 'INVOKE',
  requestId,
  deadlineMs: Date.now() + timeoutMs,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fn',
});
const shutdown = (ms = 2000) => ({
  eventType: 'SHUTDOWN',
  shutdownReason: 'spindown',
  deadlineMs: Date.now() + ms,
});

describe('extension lifecycle', () => {
  it('registers INVOKE and SHUTDOWN under its launcher name, subscribes to platform events, then calls next', async () => {
    const ext = start({ OTEL_RELAY_EXTENSION_NAME: 'my-relay' });
    await api.waitForNext(1);
    expect(api.registered).toEqual({ name: 'my-relay', events: ['INVOKE', 'SHUTDOWN'] });
    expect(api.subscription?.types).toEqual(['platform']);
    expect(api.subscription?.URI).toMatch(/^http:\/\/sandbox\.localdomain:\d+\/$/);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
  });

  it('flushes before next under end once the done signal arrives, exactly once', async () => {
    const ext = start({ OTEL_RELAY_FLUSH: 'end' });
    await api.waitForNext(1);
    const port = ext.core().httpPort!;
    api.push(invoke('r1'));
    await eventually(() => ext.core().stats.invocationsSeen() === 1, 'INVOKE handled');
    expect(await post(port, '/v1/traces', await traceRequest(4))).toBe(200);
    expect(await post(port, '/relay/v1/invocations/r1/done', new Uint8Array())).toBe(204);
    await api.waitForNext(2);
    expect(collector.items('traces')).toBe(4);
    expect(ext.core().buffer.isEmpty()).toBe(true);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    expect(collector.items('traces')).toBe(4);
    expect(collector.requests).toHaveLength(1);
  });

  it('ends with a "shut down" line whose ledger counts partial_success rejections as rejected, and balances', async () => {
    // Regression: rejected items were counted nowhere the final line showed (received 40 = exported +
    // spilled + dropped did not hold). The collector rejects one span per request.
    collector.respond = () => ({
      status: 200,
      headers: { 'content-type': 'application/x-protobuf' },
      // ExportTraceServiceResponse { partial_success { rejected_spans: 1, error_message: "no" } }
      body: new Uint8Array([0x0a, 0x06, 0x08, 0x01, 0x12, 0x02, 0x6e, 0x6f]),
    });
    const ext = start({ OTEL_RELAY_FLUSH: 'end', OTEL_RELAY_SELF_TELEMETRY: 'true' });
    await api.waitForNext(1);
    const port = ext.core().httpPort!;
    for (let i = 1; i <= 8; i++) {
      api.push(invoke(`p${i}`));
      await eventually(() => ext.core().stats.invocationsSeen() === i, 'INVOKE handled');
      expect(await post(port, '/v1/traces', await traceRequest(5, `i${i}`))).toBe(200);
      expect(await post(port, `/relay/v1/invocations/p${i}/done`, new Uint8Array())).toBe(204);
      await api.waitForNext(i + 1);
    }
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    const line = ext.log.lines.find((l) => l.msg === 'otel-relay shut down');
    const f = line?.fields as Record<string, Record<string, number>>;
    expect(f.received?.traces).toBe(40);
    expect(f.rejected?.traces).toBe(8);
    expect(f.exported?.traces).toBe(32);
    for (const state of ['received', 'exported', 'spilled', 'rejected', 'dropped', 'filtered'])
      expect(Object.keys(f[state] ?? {}), state).toEqual(['traces', 'metrics', 'logs']);
    for (const s of ['traces', 'metrics', 'logs']) {
      const settled = ['exported', 'spilled', 'rejected', 'dropped', 'filtered'].reduce(
        (n, k) => n + (f[k]?.[s] ?? 0),
        0,
      );
      expect(settled, s).toBe(f.received?.[s]);
    }
    // Self-telemetry points are received like any data, and settled too.
    expect(f.received?.metrics).toBeGreaterThan(0);
  });

  it('fans out to otlp and file: a dead collector loses the file destination nothing, and each ledger line balances', async () => {
    collector.respond = () => ({ status: 503 });
    const dir = mkdtempSync(join(tmpdir(), 'fanout-file-'));
    const ext = start({
      OTEL_RELAY_FLUSH: 'end',
      OTEL_RELAY_TRACES_EXPORTER: 'otlp,file',
      OTEL_RELAY_FILE_PATH: join(dir, '{signal}.jsonl'),
    });
    await api.waitForNext(1);
    const port = ext.core().httpPort!;
    for (let i = 1; i <= 3; i++) {
      api.push(invoke(`f${i}`));
      await eventually(() => ext.core().stats.invocationsSeen() === i, 'INVOKE handled');
      expect(await post(port, '/v1/traces', await traceRequest(4, `f${i}`))).toBe(200);
      expect(await post(port, `/relay/v1/invocations/f${i}/done`, new Uint8Array())).toBe(204);
      await api.waitForNext(i + 1);
    }
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    const written = readFileSync(join(dir, 'traces.jsonl'), 'utf8');
    expect(written.match(/"spanId"/g)).toHaveLength(12);
    const f = ext.log.lines.find((l) => l.msg === 'otel-relay shut down')?.fields as {
      received: Record<string, number>;
      destinations: Record<string, Record<string, Record<string, number>>>;
    };
    expect(f.received.traces).toBe(12);
    expect(f.destinations.file?.exported?.traces).toBe(12);
    expect(f.destinations.otlp?.spilled?.traces).toBe(12);
    for (const line of Object.values(f.destinations)) {
      const settled = ['exported', 'spilled', 'rejected', 'dropped'].reduce(
        (n, k) => n + (line[k]?.traces ?? 0),
        0,
      );
      expect(settled).toBe(line.offered?.traces);
    }
  });

  it('waits for platform.runtimeDone of this request when there is no done signal', async () => {
    const ext = start({ OTEL_RELAY_FLUSH: 'end' });
    await api.waitForNext(1);
    api.push(invoke('r2'));
    await eventually(() => ext.core().stats.invocationsSeen() === 1, 'INVOKE handled');
    await post(ext.core().httpPort!, '/v1/traces', await traceRequest(2));
    await api.sendTelemetry([
      { time: new Date().toISOString(), type: 'platform.runtimeDone', record: { requestId: 'other' } },
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(api.nextCalls).toBe(1);
    await api.sendTelemetry([
      {
        time: new Date().toISOString(),
        type: 'platform.runtimeDone',
        record: { requestId: 'r2', status: 'success' },
      },
    ]);
    await api.waitForNext(2);
    expect(collector.items('traces')).toBe(2);
    api.push(shutdown());
    await ext.exit;
  });

  it('carries data across quick invocations under adaptive and exports it during the next one', async () => {
    const ext = start({
      OTEL_RELAY_FLUSH: 'adaptive',
      OTEL_RELAY_MAX_AGE_MS: '60000',
      OTEL_RELAY_BATCH_AGE_MS: '0',
    });
    await api.waitForNext(1);
    const port = ext.core().httpPort!;
    const send = async (id: string) => {
      await post(port, '/v1/traces', await traceRequest(1, id));
      await post(port, `/relay/v1/invocations/${id}/done`, new Uint8Array());
    };
    // a1 and a2 send while their invocation runs.
    for (const [i, id] of [
      [1, 'a1'],
      [2, 'a2'],
    ] as const) {
      api.push(invoke(id));
      await eventually(() => ext.core().stats.invocationsSeen() === i, `INVOKE ${id} handled`);
      await send(id);
      await api.waitForNext(i + 1);
    }
    // a3 starts exporting a2's data at INVOKE; its own data is sent once that is done (next was called).
    api.push(invoke('a3'));
    await api.waitForNext(4);
    await send('a3');
    // a1: no arrival history → flushed. a2, a3: the next invocation came quickly → deferred; a2's data
    // went out while a3 ran, a3's is still buffered.
    expect(collector.items('traces')).toBe(2);
    expect(ext.core().buffer.items('traces')).toBe(1);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    expect(collector.items('traces')).toBe(3);
  });

  it('does not wait for the end of an invocation under adaptive when invocations come often and data is young', async () => {
    const ext = start({ OTEL_RELAY_FLUSH: 'adaptive' });
    await api.waitForNext(1);
    const port = ext.core().httpPort!;
    // Two invocations that end normally give the relay its arrival history.
    for (const id of ['w1', 'w2']) {
      api.push(invoke(id));
      await eventually(() => ext.core().stats.invocationsSeen() === (id === 'w1' ? 1 : 2), `INVOKE ${id}`);
      await post(port, `/relay/v1/invocations/${id}/done`, new Uint8Array());
      await api.waitForNext(id === 'w1' ? 2 : 3);
    }
    // w3: neither a done signal nor runtimeDone ever comes, yet next is called; data sent afterwards
    // (the handler still running) is received and delivered later.
    api.push(invoke('w3'));
    await api.waitForNext(4);
    expect(await post(port, '/v1/traces', await traceRequest(3))).toBe(200);
    expect(ext.core().buffer.items('traces')).toBe(3);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    expect(collector.items('traces')).toBe(3);
  });

  it('spools a batch the collector refuses with 503 and re-sends it once the collector is back', async () => {
    let fail = true;
    collector.respond = () => (fail ? { status: 503 } : { status: 200 });
    const ext = start({ OTEL_RELAY_FLUSH: 'end', OTEL_RELAY_FLUSH_TIMEOUT_MS: '300' });
    await api.waitForNext(1);
    const port = ext.core().httpPort!;
    api.push(invoke('k1'));
    await eventually(() => ext.core().stats.invocationsSeen() === 1, 'INVOKE k1 handled');
    await post(port, '/v1/logs', await logsRequest());
    await post(port, '/relay/v1/invocations/k1/done', new Uint8Array());
    await api.waitForNext(2);
    expect(collector.items()).toBe(0);
    expect(ext.core().buffer.isEmpty()).toBe(true);
    expect(readdirSync(spoolDir).length).toBeGreaterThan(0);
    expect(ext.core().stats.spilled.logs).toBe(1);
    fail = false;
    api.push(invoke('k2'));
    await eventually(() => ext.core().stats.invocationsSeen() === 2, 'INVOKE k2 handled');
    await post(port, '/v1/logs', await logsRequest());
    await post(port, '/relay/v1/invocations/k2/done', new Uint8Array());
    await api.waitForNext(3);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    expect(collector.items('logs')).toBe(2);
    expect(collector.requests).toHaveLength(2);
  });

  it('says once that data is kept back while the collector breaker is open, and repeats it only at debug', async () => {
    // Prepare
    collector.respond = () => ({ status: 503 });
    const ext = start({
      OTEL_RELAY_FLUSH: 'end',
      OTEL_RELAY_FLUSH_TIMEOUT_MS: '300',
      OTEL_RELAY_BREAKER_THRESHOLD: '1',
      OTEL_RELAY_BREAKER_OPEN_MS: '600000',
    });
    await api.waitForNext(1);
    const port = ext.core().httpPort!;
    // Act
    for (let i = 1; i <= 5; i++) {
      api.push(invoke(`q${i}`));
      await eventually(() => ext.core().stats.invocationsSeen() === i, `INVOKE q${i} handled`);
      await post(port, '/v1/traces', await traceRequest(1));
      await post(port, '/relay/v1/invocations/q' + i + '/done', new Uint8Array());
      await api.waitForNext(i + 1);
    }
    // Assess
    const kept = ext.log.lines.filter((l) => l.msg.includes('kept in the buffer'));
    // Four invocations found the breaker open (some flush twice: at INVOKE and before next).
    expect(kept.length).toBeGreaterThanOrEqual(4);
    expect(kept.map((l) => l.level)).toEqual(['info', ...kept.slice(1).map(() => 'debug')]);
    expect(
      ext.log.lines.filter((l) => l.msg.startsWith('collector breaker open')).map((l) => l.level),
    ).toEqual(['warn']);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
  });

  it('counts the fallback settings it could not use with its own config problems', async () => {
    const ext = start({ OTEL_RELAY_FLUSH: 'sometimes', OTEL_RELAY_BREAKER_THRESHOLD: 'lots' });
    await api.waitForNext(1);
    expect(ext.core().stats.configProblems).toBe(2);
    expect(ext.log.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('config:'))).toHaveLength(2);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
  });

  it('calls next within the flush budget when the collector is slow, with the batch kept', async () => {
    collector.delayMs = 3_000;
    const ext = start({ OTEL_RELAY_FLUSH: 'end', OTEL_RELAY_FLUSH_TIMEOUT_MS: '150' });
    await api.waitForNext(1);
    api.push(invoke('s1', 10_000));
    await eventually(() => ext.core().stats.invocationsSeen() === 1, 'INVOKE handled');
    await post(ext.core().httpPort!, '/v1/traces', await traceRequest(5));
    await post(ext.core().httpPort!, '/relay/v1/invocations/s1/done', new Uint8Array());
    await api.waitForNext(2, 2_000);
    expect(ext.core().buffer.items('traces')).toBe(5);
    collector.delayMs = 0;
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    expect(collector.items('traces')).toBe(5);
  });

  it('registers SHUTDOWN only on Managed Instances and flushes in the background', async () => {
    const ext = start({
      AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances',
      OTEL_RELAY_BACKGROUND_INTERVAL_MS: '20',
    });
    await api.waitForNext(1);
    expect(api.registered?.events).toEqual(['SHUTDOWN']);
    await post(ext.core().httpPort!, '/v1/traces', await traceRequest(6));
    await eventually(() => collector.items('traces') === 6, 'background flush');
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    expect(collector.items('traces')).toBe(6);
  });

  it('registers SHUTDOWN only when OTEL_RELAY_MANAGED_INSTANCES is any true spelling (1, yes, on)', async () => {
    // Regression: the value was parsed twice, and `1` meant true for the config but false for `register`.
    const ext = start({ OTEL_RELAY_MANAGED_INSTANCES: '1', OTEL_RELAY_BACKGROUND_INTERVAL_MS: '20' });
    await api.waitForNext(1);
    expect(api.registered?.events).toEqual(['SHUTDOWN']);
    expect(ext.core().config.managedInstances).toBe(true);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
  });

  it('flushes on each done signal under end on Managed Instances, without waiting for the timer', async () => {
    const ext = start({
      AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances',
      OTEL_RELAY_FLUSH: 'end',
      OTEL_RELAY_BACKGROUND_INTERVAL_MS: '3600000',
    });
    await api.waitForNext(1);
    const port = ext.core().httpPort!;
    await post(port, '/v1/traces', await traceRequest(2));
    await post(port, '/relay/v1/invocations/m1/done', new Uint8Array());
    await eventually(() => collector.items('traces') === 2, 'flush after the done signal');
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    expect(collector.items('traces')).toBe(2);
  });

  it('stays in pass-through mode and keeps calling next when the relay cannot start', async () => {
    const log = recordingLog();
    const exit = runExtension({
      env: { AWS_LAMBDA_RUNTIME_API: api.runtimeApi },
      clock: systemClock,
      log,
      loadCore: () => Promise.reject(new Error('boom')),
    });
    await api.waitForNext(1);
    api.push(invoke('p1'));
    await api.waitForNext(2);
    api.push(shutdown());
    expect(await exit).toBe(0);
    expect(log.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'otel-relay could not start; running in pass-through mode: the function is unaffected, its telemetry is not collected',
    ]);
  });

  it('turns receivers and every export off, with one clear line, when the exporter endpoint points back at itself', async () => {
    const port = String(await freePort());
    let exports = 0;
    const log = recordingLog();
    const exit = runExtension({
      env: {
        AWS_LAMBDA_RUNTIME_API: api.runtimeApi,
        OTEL_RELAY_HTTP_PORT: port,
        OTEL_RELAY_GRPC_PORT: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://localhost:${port}`,
        OTEL_RELAY_SPOOL_DIR: spoolDir,
        // Both make data of the relay's own, which must not be sent to (or spooled for) itself.
        OTEL_RELAY_SELF_TELEMETRY: 'true',
        OTEL_RELAY_PLATFORM_TELEMETRY: 'true',
        OTEL_RELAY_FLUSH: 'end',
      },
      clock: systemClock,
      log,
      createExporter: () => ({
        export: async () => {
          exports++;
          return { kind: 'retryable', reason: 'ECONNREFUSED' };
        },
        resetConnections: () => {},
        close: () => {},
      }),
    });
    await api.waitForNext(1);
    api.push(invoke('loop1'));
    await api.waitForNext(2);
    api.push(shutdown());
    expect(await exit).toBe(0);
    expect(exports).toBe(0);
    expect(readdirSync(spoolDir)).toEqual([]);
    expect(log.lines.filter((l) => l.level === 'error' || l.level === 'warn').map((l) => l.msg)).toEqual([
      `config: OTEL_EXPORTER_OTLP_ENDPOINT (traces: localhost:${port}) points at this relay's own receiver; set it to your collector. The relay is off: no telemetry is accepted, produced or exported`,
    ]);
  });

  it('turns itself off for an endpoint that spells its own receiver as ::ffff:127.0.0.1', async () => {
    const port = await freePort();
    const ext = start({
      OTEL_RELAY_HTTP_PORT: String(port),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://[::ffff:127.0.0.1]:${port}`,
    });
    await api.waitForNext(1);
    expect(ext.core().httpPort).toBeUndefined();
    expect(
      ext.log.lines.some((l) => l.level === 'error' && /points at this relay's own receiver/.test(l.msg)),
    ).toBe(true);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
  });

  it('turns itself off for a hostname that resolves to loopback with its own port', async () => {
    const port = await freePort();
    const looked: string[] = [];
    const lookup = async (host: string) => {
      looked.push(host);
      return host === 'collector.internal' ? [{ address: '10.0.0.7' }, { address: '::ffff:127.0.0.1' }] : [];
    };
    const run = (endpoint: string) => {
      const log = recordingLog();
      let core: { httpPort?: number } | undefined;
      const exit = runExtension({
        env: {
          AWS_LAMBDA_RUNTIME_API: api.runtimeApi,
          OTEL_RELAY_HTTP_PORT: String(port),
          OTEL_RELAY_GRPC_PORT: '0',
          OTEL_RELAY_SELF_TELEMETRY: 'false',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_RELAY_SPOOL_DIR: spoolDir,
        },
        clock: systemClock,
        log,
        lookup,
        onReady: (c) => {
          core = c;
        },
      });
      return { log, exit, core: () => core };
    };
    const looping = run(`http://collector.internal:${port}`);
    await api.waitForNext(1);
    expect(looked).toContain('collector.internal');
    expect(looping.core()?.httpPort).toBeUndefined();
    expect(looping.log.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      `config: OTEL_EXPORTER_OTLP_ENDPOINT (traces: collector.internal:${port}) points at this relay's own receiver; set it to your collector. The relay is off: no telemetry is accepted, produced or exported`,
    ]);
    api.push(shutdown());
    expect(await looping.exit).toBe(0);
  });

  it('starts normally when the exporter hostname does not resolve in time (the lookup is bounded)', async () => {
    const log = recordingLog();
    let core: { httpPort?: number } | undefined;
    const exit = runExtension({
      env: {
        AWS_LAMBDA_RUNTIME_API: api.runtimeApi,
        OTEL_RELAY_HTTP_PORT: '0',
        OTEL_RELAY_GRPC_PORT: '0',
        OTEL_RELAY_SELF_TELEMETRY: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.internal:4318',
        OTEL_RELAY_SPOOL_DIR: spoolDir,
      },
      clock: systemClock,
      log,
      // A resolver that never answers.
      lookup: () => new Promise(() => {}),
      onReady: (c) => {
        core = c;
      },
    });
    await api.waitForNext(1);
    expect(core?.httpPort).toBeGreaterThan(0);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
    api.push(shutdown());
    expect(await exit).toBe(0);
  });

  it('logs a taken port clearly and keeps running', async () => {
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const ext = start({ OTEL_RELAY_HTTP_PORT: String(taken) });
      await api.waitForNext(1);
      expect(ext.core().httpPort).toBeUndefined();
      expect(ext.core().grpcPort).toBeGreaterThan(0);
      expect(ext.log.lines.some((l) => l.level === 'error' && l.msg.includes(`127.0.0.1:${taken}`))).toBe(
        true,
      );
      api.push(invoke('t1'));
      await api.sendTelemetry([{ time: '', type: 'platform.runtimeDone', record: { requestId: 't1' } }]);
      await api.waitForNext(2);
      api.push(shutdown());
      expect(await ext.exit).toBe(0);
    } finally {
      blocker.close();
    }
  });

  it('retries event/next when the connection to the API breaks, instead of exiting (Extension.Crash)', async () => {
    api.dropNextCalls = 2;
    const ext = start();
    await api.waitForNext(1);
    api.push(shutdown());
    expect(await ext.exit).toBe(0);
    expect(api.dropNextCalls).toBe(0);
  });

  it('exits 1 with a clear line when registration is refused', async () => {
    api.registerStatus = 403;
    const ext = start();
    expect(await ext.exit).toBe(1);
    expect(ext.log.lines[0]?.msg).toMatch(/could not register/);
  });
});

/** A logs request with one record, from the real SDK serializer. */
async function logsRequest(): Promise<Uint8Array> {
  const { ProtobufLogsSerializer } = await import('@opentelemetry/otlp-transformer');
  const { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } = await import(
    '@opentelemetry/sdk-logs'
  );
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor(exporter)] });
  provider.getLogger('unit').emit({ body: 'hello' });
  await provider.forceFlush();
  return ProtobufLogsSerializer.serializeRequest(exporter.getFinishedLogRecords())!;
}

describe('thaw and SnapStart restore', () => {
  it('drops pooled collector connections when the monotonic clock jumps back or a long freeze passed', async () => {
    let wallOffset = 0;
    let monoOffset = 0;
    const clock = { now: () => Date.now() + wallOffset, monotonic: () => performance.now() + monoOffset };
    let resets = 0;
    const exit = runExtension({
      env: {
        AWS_LAMBDA_RUNTIME_API: api.runtimeApi,
        OTEL_RELAY_HTTP_PORT: '0',
        OTEL_RELAY_GRPC_PORT: '0',
        OTEL_RELAY_SELF_TELEMETRY: 'false',
        OTEL_RELAY_SPOOL_DIR: spoolDir,
      },
      clock,
      log: recordingLog(),
      createExporter: () => ({
        export: async () => ({ kind: 'success' }),
        resetConnections: () => {
          resets++;
        },
        close: () => {},
      }),
    });
    await api.waitForNext(1);
    const shortInvoke = (id: string) => ({ ...invoke(id), deadlineMs: clock.now() + 150 });
    api.push(shortInvoke('n1'));
    await api.waitForNext(2);
    expect(resets).toBe(0);
    // A SnapStart restore: CLOCK_MONOTONIC went backwards while parked in next.
    monoOffset -= 10_000;
    api.push(shortInvoke('n2'));
    await api.waitForNext(3);
    expect(resets).toBe(1);
    // A one-minute freeze: both clocks moved on; the collector likely closed our idle sockets.
    wallOffset += 60_000;
    monoOffset += 60_000;
    api.push(shortInvoke('n3'));
    await api.waitForNext(4);
    expect(resets).toBe(2);
    api.push({ ...shutdown(), deadlineMs: clock.now() + 2000 });
    expect(await exit).toBe(0);
  });
});

describe('SHUTDOWN', () => {
  it('exits before the SHUTDOWN deadline with a collector that never answers, keeping the data in the spool', async () => {
    collector.delayMs = 10_000;
    // The relay's own clock, recorded: its last reading is when it last acted (the exit follows at once).
    let lastReading = 0;
    const clock = {
      now: () => {
        lastReading = Math.max(lastReading, Date.now());
        return lastReading;
      },
      monotonic: () => performance.now(),
    };
    const ext = start({ OTEL_RELAY_FLUSH: 'periodic:600000', OTEL_RELAY_SHUTDOWN_MARGIN_MS: '200' }, clock);
    await api.waitForNext(1);
    api.push(invoke('z1'));
    await eventually(() => ext.core().stats.invocationsSeen() === 1, 'INVOKE handled');
    await post(ext.core().httpPort!, '/v1/traces', await traceRequest(7));
    await post(ext.core().httpPort!, '/relay/v1/invocations/z1/done', new Uint8Array());
    await api.waitForNext(2);
    const deadlineMs = clock.now() + 800;
    api.push({ eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs });
    expect(await ext.exit).toBe(0);
    // By the relay's clock it was done before the deadline, and the collector (10 s) never answered.
    expect(lastReading).toBeLessThan(deadlineMs);
    expect(collector.items()).toBe(0);
    expect(ext.core().stats.spilled.traces).toBe(7);
    expect(readdirSync(spoolDir).length).toBeGreaterThan(0);
  });
});
