// The contract between the middleware and the relay: the middleware's "invocation done" signal is
// what ends each invocation for the relay (not the later platform.runtimeDone), and the invocation
// spans it sent arrive at the suite.collector.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvocationResult } from '../../../src/local/index.js';
import { repoRoot, useRelaySuite } from './harness.js';

describe('middleware done signal → relay', () => {
  const suite = useRelaySuite();

  it('ends every invocation on the middleware done signal and delivers its span', async () => {
    const functionName = `mw-${Date.now()}`;
    const relay = await suite.start({
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
    const received = await suite.collector.waitFor(
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
