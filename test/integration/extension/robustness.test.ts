// The relay in the emulator under the conditions users hit: bad input, every supported Node.js,
// other SDKs (Python), Managed Instances, and a collector that is not there.
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeStatus } from '../../../src/otlp/index.js';
import { NODE_MAJORS, nodeBinary } from '../../helpers/node-versions.js';
import { freePort } from '../../helpers/ports.js';
import { ensurePythonVenv } from '../../setup/peers.mjs';
import { collect, emptyIds, expectExactlyOnce, repoRoot, useRelaySuite } from './harness.js';

describe('relay robustness in the emulator', () => {
  const suite = useRelaySuite();

  it('answers each malformed request with its documented status and leaves the buffer intact', async () => {
    // Prepare
    const relay = await suite.start({ flush: 'end', env: { OTEL_RELAY_MAX_REQUEST_BYTES: '65536' } });
    const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
    const raw = [
      {
        path: '/v1/traces',
        contentType: 'application/x-protobuf',
        bodyBase64: b64(Uint8Array.from([0x0a, 0x7f, 0x01])),
      },
      { path: '/v1/traces', contentType: 'text/plain', bodyBase64: b64('hello') },
      { path: '/v1/logs', contentType: 'application/json', bodyBase64: b64('{"resourceLogs": [ {') },
      {
        path: '/v1/metrics',
        contentType: 'application/x-protobuf',
        contentEncoding: 'gzip',
        bodyBase64: b64(gzipSync(new Uint8Array(4 * 1024 * 1024))),
      },
      { path: '/v1/traces', contentType: 'application/x-protobuf', bodyBase64: b64(new Uint8Array(65537)) },
      {
        path: '/v1/traces',
        contentType: 'application/x-protobuf',
        contentEncoding: 'br',
        bodyBase64: b64('x'),
      },
      { path: '/v2/traces', contentType: 'application/x-protobuf', bodyBase64: b64('') },
    ];
    // Act: valid data first (buffered), then the bad requests, then more valid data.
    const first = await relay.env.invoke({ tag: `bad-${Date.now()}`, spans: 2, logs: 1, points: 1, raw });
    const second = await relay.env.invoke({ tag: `bad2-${Date.now()}`, spans: 1 });
    await relay.env.shutdown();
    // Assess
    expect(first.status).toBe('success');
    const answers = (first.response as { raw: { status: number; contentType: string; body: string }[] }).raw;
    expect(answers.map((a) => a.status)).toEqual([400, 415, 400, 413, 413, 415, 404]);
    const status0 = decodeStatus(Buffer.from(answers[0]!.body, 'base64'));
    expect(status0.message).toMatch(/not a valid OTLP traces export request; nothing was accepted/);
    const jsonBody = JSON.parse(Buffer.from(answers[2]!.body, 'base64').toString());
    expect(jsonBody).toMatchObject({ code: 3, message: expect.stringMatching(/nothing was accepted/) });
    expect(decodeStatus(Buffer.from(answers[3]!.body, 'base64')).message).toMatch(
      /decompresses to more than/,
    );
    const sent = emptyIds();
    collect(sent, first.response);
    collect(sent, second.response);
    await expectExactlyOnce(suite.collector, sent);
  });

  for (const major of NODE_MAJORS) {
    it(`runs the one bundle on Node.js ${major} (extension and function on that node)`, async () => {
      const relay = await suite.start({
        flush: 'adaptive',
        config: { nodePath: await nodeBinary(major) },
      });
      const sent = emptyIds();
      for (let i = 0; i < 3; i++)
        collect(
          sent,
          (await relay.env.invoke({ tag: `node${major}-${i}-${Date.now()}`, spans: 2 })).response,
        );
      const shutdown = await relay.env.shutdown();
      await expectExactlyOnce(suite.collector, sent);
      expect(relay.env.output()).toContain(`"node":"v${major}.`);
      expect(shutdown.extensions).toEqual([
        expect.objectContaining({ name: 'otel-relay', state: 'Exited', exitCode: 0 }),
      ]);
    });
  }

  it('runs without the customer NODE_OPTIONS, which still reaches the function', async () => {
    const hook = resolve(repoRoot, 'test/fixtures/extension/node-options-hook.cjs');
    const relay = await suite.start({ flush: 'end', env: { NODE_OPTIONS: `--require ${hook}` } });
    const sent = emptyIds();
    const r = await relay.env.invoke({ tag: `nodeopts-${Date.now()}`, spans: 2 });
    expect(r.status).toBe('success');
    collect(sent, r.response);
    const shutdown = await relay.env.shutdown();
    await expectExactlyOnce(suite.collector, sent);
    expect(shutdown.extensions).toEqual([
      expect.objectContaining({ name: 'otel-relay', state: 'Exited', exitCode: 0 }),
    ]);
  });

  for (const python of ['http', 'grpc'] as const) {
    it(`accepts spans from the OpenTelemetry Python SDK over OTLP/${python}`, async () => {
      const venv = await ensurePythonVenv();
      const relay = await suite.start({ flush: 'end', env: { FIXTURE_PYTHON: venv.python } });
      const sent = emptyIds();
      for (let i = 0; i < 2; i++) {
        const r = await relay.env.invoke({ tag: `py-${python}-${i}-${Date.now()}`, spans: 3, python });
        expect(r.status).toBe('success');
        collect(sent, r.response);
      }
      await relay.env.shutdown();
      expect(sent.spanIds).toHaveLength(6);
      await expectExactlyOnce(suite.collector, sent);
    });
  }

  it('registers SHUTDOWN only on Managed Instances and delivers concurrent invocations exactly once', async () => {
    const relay = await suite.start({
      flush: 'adaptive',
      env: { OTEL_RELAY_BACKGROUND_INTERVAL_MS: '200' },
      config: { mode: 'managed-instances', maxConcurrency: 4 },
    });
    const sent = emptyIds();
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        [0, 1, 2, 3].map((i) =>
          relay!.env.invoke({ tag: `lmi-${round}-${i}-${Date.now()}`, spans: 2, logs: 1, points: 1 }),
        ),
      );
      for (const r of results) {
        expect(r.status).toBe('success');
        collect(sent, r.response);
      }
    }
    await relay.env.shutdown();
    await expectExactlyOnce(suite.collector, sent);
    const ext = relay.env.telemetry.find((t) => t.type === 'platform.extension');
    expect(ext?.record).toMatchObject({ name: 'otel-relay', events: ['SHUTDOWN'] });
  });

  it('never fails or times out an invocation when the collector is not there', async () => {
    const nowhere = await freePort();
    const relay = await suite.start({
      flush: 'end',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${nowhere}` },
      config: { timeoutMs: 2_000 },
    });
    for (let i = 0; i < 5; i++) {
      const r = await relay.env.invoke({ tag: `dead-${i}`, spans: 2 });
      expect(r.status).toBe('success');
    }
    const shutdown = await relay.env.shutdown();
    expect(shutdown.extensions).toEqual([
      expect.objectContaining({ name: 'otel-relay', state: 'Exited', exitCode: 0 }),
    ]);
  });

  it('keeps calling next in pass-through mode when its ports are taken by another process', async () => {
    const blocker = (await import('node:http')).createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const relay = await suite.start({ flush: 'end', env: { OTEL_RELAY_HTTP_PORT: String(taken) } });
      // The fixture's SDK exports to the blocker, which never answers OTLP: the function still succeeds
      // or errors on its own; the extension must not hang the invocation.
      const r = await relay.env.invoke({ tag: 'taken', spans: 0 });
      expect(['success', 'error']).toContain(r.status);
      expect(relay.env.output()).toContain(`could not listen on 127.0.0.1:${taken}`);
      const shutdown = await relay.env.shutdown();
      expect(shutdown.extensions).toEqual([expect.objectContaining({ state: 'Exited', exitCode: 0 })]);
    } finally {
      blocker.close();
    }
  });
});
