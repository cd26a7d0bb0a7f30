// The zero-code wrapper's decisions that need no Lambda: which instrumentations a configuration turns
// on and when, how `_HANDLER` is split, and that otelRelay()/wrapHandler() step aside under it.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { describe, expect, it } from 'vitest';
import { otelRelay, wrapHandler } from '../../../src/middleware/index.js';
import { RelayLog } from '../../../src/middleware/log.js';
import { markZeroCode } from '../../../src/middleware/zero-code-mark.js';
import {
  type InstrumentationName,
  installInstrumentations,
  platformHosts,
  selectInstrumentations,
} from '../../../src/zero-code/instrumentations.js';
import { loadHandler, parseHandlerName } from '../../../src/zero-code/resolve-handler.js';

const quiet = () => {
  const lines: string[] = [];
  return { lines, log: new RelayLog((l) => lines.push(l)) };
};

describe('instrumentation selection (OTEL_NODE_ENABLED/DISABLED_INSTRUMENTATIONS)', () => {
  it('defaults to http, undici and aws-sdk; database clients are opt-in', () => {
    expect(selectInstrumentations({}, quiet().log)).toEqual(['http', 'undici', 'aws-sdk']);
    expect(
      selectInstrumentations(
        { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,@opentelemetry/instrumentation-pg' },
        quiet().log,
      ),
    ).toEqual(['http', 'pg']);
  });

  it('removes the disabled ones and names an unknown one in a warning', () => {
    const q = quiet();
    expect(
      selectInstrumentations(
        { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'undici, aws-sdk', OTEL_NODE_ENABLED_INSTRUMENTATIONS: '' },
        q.log,
      ),
    ).toEqual(['http']);
    selectInstrumentations({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express' }, q.log);
    expect(q.lines.join('\n')).toMatch(/express.{0,4} is not in this layer/);
  });

  it('keeps the Runtime API and the extension out of the CLIENT spans', () => {
    const hosts = platformHosts({ AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', OTEL_RELAY_HTTP_PORT: '4399' });
    expect([...hosts]).toEqual(
      expect.arrayContaining(['127.0.0.1:9001', '127.0.0.1:4399', 'localhost:4399']),
    );
  });

  it('builds a lazy instrumentation only on the first require of a module it patches', () => {
    const built: InstrumentationName[] = [];
    const fake = (name: InstrumentationName) => () => {
      built.push(name);
      return {} as Instrumentation;
    };
    const factories = Object.fromEntries(
      (['http', 'undici', 'aws-sdk', 'pg', 'ioredis', 'redis', 'mysql2', 'mongodb', 'kafkajs'] as const).map(
        (n) => [n, fake(n)],
      ),
    ) as Record<InstrumentationName, () => Instrumentation>;
    const installed = installInstrumentations(['http', 'pg'], factories, () => {});
    expect(built).toEqual(['http']);
    // A module named like the trigger, in a temporary node_modules: requiring it turns pg on, once.
    const dir = mkdtempSync(join(tmpdir(), 'zc-'));
    mkdirSync(join(dir, 'node_modules/pg'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/pg/index.js'), 'module.exports = { Client: class {} };');
    const req = createRequire(join(dir, 'index.js'));
    expect(typeof (req('pg') as { Client: unknown }).Client).toBe('function');
    req('pg');
    expect(built).toEqual(['http', 'pg']);
    expect(installed.active()).toEqual(['http', 'pg']);
  });
});

describe('_HANDLER resolution like the Node.js runtime', () => {
  it('splits nested paths and export paths at the first dot after the last slash', () => {
    expect(parseHandlerName('src/fn/index.handler')).toEqual({
      module: 'src/fn/index',
      exportPath: ['handler'],
    });
    expect(parseHandlerName('app.v2.handler')).toEqual({ module: 'app', exportPath: ['v2', 'handler'] });
    expect(() => parseHandlerName('index')).toThrow(/not a valid handler name/);
  });

  it('loads .cjs, and .js as ESM under "type": "module", and reports a missing export by name', async () => {
    const root = mkdtempSync(join(tmpdir(), 'zc-task-'));
    writeFileSync(join(root, 'a.cjs'), 'exports.handler = async () => "cjs";');
    const esm = join(root, 'esm');
    mkdirSync(esm);
    writeFileSync(join(esm, 'package.json'), '{"type":"module"}');
    writeFileSync(join(esm, 'b.js'), 'export const handler = async () => "esm";');
    const a = (await loadHandler(root, 'a.handler')) as () => Promise<string>;
    const b = (await loadHandler(root, 'esm/b.handler')) as () => Promise<string>;
    expect([await a(), await b()]).toEqual(['cjs', 'esm']);
    await expect(loadHandler(root, 'a.missing')).rejects.toMatchObject({ name: 'Runtime.HandlerNotFound' });
    await expect(loadHandler(root, 'nope.handler')).rejects.toMatchObject({
      name: 'Runtime.ImportModuleError',
    });
  });
});

describe('coexistence', () => {
  it('under the zero-code wrapper, wrapHandler returns the handler itself and otelRelay adds no hooks', () => {
    markZeroCode();
    const lines: string[] = [];
    const handler = async () => 'ok';
    expect(wrapHandler(handler, { log: (l) => lines.push(l) })).toBe(handler);
    expect(otelRelay({ log: (l) => lines.push(l) })).toEqual({});
    expect(lines.join('\n')).toMatch(/steps aside/);
  });
});
