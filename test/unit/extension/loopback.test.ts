// Regression: an endpoint spelled http://[::ffff:127.0.0.1]:4318 was not recognised as the relay
// itself, so the relay exported to its own receiver and the buffer doubled on every flush.
import { describe, expect, it } from 'vitest';
import { createOtlpExporter } from '../../../src/extension/export/index.js';
import type { FlushBudget } from '../../../src/extension/export/types.js';
import { isLoopbackHost, selfConnectGuard } from '../../../src/extension/lifecycle/loopback.js';
import { loadConfig } from '../../../src/extension/settings/index.js';
import { manualClock, startReceivers, traceRequest } from './fakes.js';

describe('isLoopbackHost', () => {
  it('recognises every spelling of this machine in a URL', () => {
    for (const url of [
      'http://localhost:4318',
      'http://LOCALHOST:4318',
      'http://api.localhost:4318',
      'http://127.0.0.1:4318',
      'http://127.1:4318',
      'http://0x7f.0.0.1:4318',
      'http://0.0.0.0:4318',
      'http://[::1]:4318',
      'http://[::]:4318',
      'http://[::ffff:127.0.0.1]:4318',
      'http://[::ffff:7f00:1]:4318',
      'http://[::ffff:0.0.0.0]:4318',
    ])
      expect(isLoopbackHost(new URL(url).hostname), url).toBe(true);
  });

  it('leaves other hosts alone', () => {
    for (const url of [
      'http://10.0.0.1:4318',
      'http://[::ffff:10.0.0.1]:4318',
      'http://collector:4318',
      'http://[2001:db8::1]:4318',
    ])
      expect(isLoopbackHost(new URL(url).hostname), url).toBe(false);
  });
});

describe('selfConnectGuard', () => {
  const budget = (): FlushBudget => ({
    deadline: Date.now() + 5000,
    abort: new AbortController().signal,
    reason: 'invoke',
  });

  it("refuses to connect when the endpoint's name resolves to this machine on the relay's own port (HTTP and gRPC)", async () => {
    // The relay's real receivers stand in for "ourselves"; `localhost` is resolved by the system resolver.
    const own = await startReceivers(64 * 1024);
    try {
      const ports = [own.httpR.port, own.grpcR.port];
      for (const [protocol, port] of [
        ['http/protobuf', own.httpR.port],
        ['grpc', own.grpcR.port],
      ] as const) {
        const { config } = loadConfig({
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://localhost:${port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        });
        const before = own.buffer.items('traces');
        const guarded = createOtlpExporter(config.exporters, manualClock(), selfConnectGuard(ports));
        const out = await guarded.export('traces', await traceRequest(2), budget());
        guarded.close();
        expect(out, protocol).toMatchObject({
          kind: 'retryable',
          notThisFlush: true,
          reason: expect.stringMatching(/resolves to this machine and port \d+ is the relay's own receiver/),
        });
        expect(own.buffer.items('traces'), protocol).toBe(before);
        // The same export with the relay on other ports goes through: the refusal above came from the guard.
        const other = createOtlpExporter(config.exporters, manualClock(), selfConnectGuard([1]));
        expect(await other.export('traces', await traceRequest(2), budget()), protocol).toEqual({
          kind: 'success',
        });
        other.close();
        expect(own.buffer.items('traces'), protocol).toBe(before + 2);
      }
    } finally {
      await own.close();
    }
  });
});
