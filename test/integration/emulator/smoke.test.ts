import { describe, expect, it } from 'vitest';
import { fn, probeLayer, probeServer, startEnv } from './helpers.js';

describe('smoke', () => {
  it('runs an invoke with one extension', async () => {
    const probe = await probeServer();
    const env = await startEnv({
      codeDir: fn('esm'),
      handler: 'index.handler',
      layers: [probeLayer({ a: { probe: probe.port, telemetry: {} } })],
    });
    console.log(env.lastInit);
    const r = await env.invoke({ hello: 1 });
    console.log(r);
    const r2 = await env.invoke({ action: 'log', lines: ['a', 'b'] });
    console.log(r2);
    const s = await env.shutdown();
    console.log(JSON.stringify(s));
    console.log(env.telemetry.map((t) => t.type).join(' '));
    console.log(env.output());
    console.log(probe.messages.map((m) => `${m.ext}:${m.kind}`).join(' '));
    expect(r.status).toBe('success');
  });
});
