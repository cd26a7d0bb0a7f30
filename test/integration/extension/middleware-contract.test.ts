// The contract between the middleware and the relay: the middleware's "invocation done" signal is
// what ends each invocation for the relay (not the later platform.runtimeDone), and the invocation
// spans it sent arrive at the collector.
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InvocationResult } from '../../../src/local/index.js';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { type RelayEnv, repoRoot, startRelayEnv } from './harness.js';

describe('middleware done signal → relay', () => {
  let collector: CollectorPeer;
  let relay: RelayEnv | undefined;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector?.stop();
  });
  afterEach(async () => {
    await relay?.env.dispose();
    relay = undefined;
  });
  printLogsOnFailure('otelcol', () => collector);
  printLogsOnFailure('emulator', () => (relay ? { logs: () => relay?.env.output() ?? '' } : undefined));

  it('ends every invocation on the middleware done signal and delivers its span', async () => {
    const functionName = `mw-${Date.now()}`;
    relay = await startRelayEnv(collector, {
      flush: 'end',
      env: { OTEL_RELAY_LOG_LEVEL: 'debug' },
      config: { codeDir: resolve(repoRoot, 'test/fixtures/extension/middleware'), functionName },
    });
    const results: InvocationResult[] = [];
    for (let i = 0; i < 4; i++) results.push(await relay.env.invoke({ tag: i }));
    await relay.env.shutdown();
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success', 'success']);
    // The relay's debug line per invocation says what ended it.
    const ends = relay.env
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"invocation"'))
      .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { requestId: string; end: string });
    expect(ends.map((e) => [e.requestId, e.end])).toEqual(results.map((r) => [r.requestId, 'done']));
    const received = await collector.waitFor(
      (r) => results.every((x) => r.spans().some((s) => s.attributes['faas.invocation_id'] === x.requestId)),
      20_000,
    );
    for (const r of results) {
      expect(
        received
          .spans()
          .filter(
            (s) =>
              s.attributes['faas.invocation_id'] === r.requestId &&
              s.resource['service.name'] === functionName,
          ),
      ).toHaveLength(1);
    }
  });
});
