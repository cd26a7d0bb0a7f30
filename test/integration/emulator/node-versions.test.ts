// The emulated runtime on every Lambda Node.js major (20, 22, 24): `nodePath` picks the runtime's node
// and puts it first on the extensions' PATH.
import { describe, expect, it } from 'vitest';
import { NODE_MAJORS, nodeBinary } from '../../helpers/node-versions.js';
import { fn, probeLayer, probeServer, startEnv } from './helpers.js';

describe.each(NODE_MAJORS)('Node.js %i', (major) => {
  it('runs ESM and CommonJS handlers, and extensions on the same node', async () => {
    const nodePath = await nodeBinary(major);
    const probe = await probeServer();
    const esm = await startEnv({
      codeDir: fn('esm'),
      handler: 'index.handler',
      nodePath,
      layers: [probeLayer({ ext: { probe: probe.port } })],
    });
    const vars = ((await esm.invoke({ action: 'env' })).response as { env: Record<string, string> }).env;
    expect(vars.AWS_EXECUTION_ENV).toBe(`AWS_Lambda_nodejs${major}.x`);
    expect(probe.of('ext', 'register')[0]?.data.node).toMatch(new RegExp(`^v${major}\\.`));
    const cjs = await startEnv({ codeDir: fn('cjs'), handler: 'index.handler', nodePath });
    expect((await cjs.invoke({})).response).toMatchObject({ kind: 'cjs' });
  });

  it(`${major >= 24 ? 'refuses' : 'runs'} a callback handler`, async () => {
    const env = await startEnv({
      codeDir: fn('callback'),
      handler: 'index.handler',
      nodePath: await nodeBinary(major),
    });
    if (major >= 24) {
      expect(env.lastInit).toMatchObject({ status: 'error', errorType: 'Runtime.CallbackHandlerDeprecated' });
    } else {
      const r = await env.invoke({ file: `cb-${major}`, timerMs: 1 });
      expect(r.response).toMatchObject({ kind: 'callback' });
    }
  });
});
