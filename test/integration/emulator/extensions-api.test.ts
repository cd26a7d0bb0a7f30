// The Extensions API: registration rules and errors, identifiers, error endpoints, launch failures,
// and what an extension process gets as its environment.
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTENSION_EXCLUDED_VARIABLES } from '../../../src/local/layout.js';
import {
  errorTypeOf,
  probeLayer,
  probeServer,
  startFunction,
  startWithProbes,
  tempDir,
  writeExecutable,
} from './helpers.js';

function call(
  runtimeApi: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  const [host, port] = runtimeApi.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method, path, headers }, (res) => {
      let data = '';
      res.on('data', (c) => {
        data += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('register', () => {
  it('answers with the identifier and function details, accountId only when asked for', async () => {
    const { env, probe } = await startWithProbes(
      {
        plain: {},
        withacct: { acceptFeature: 'accountId' },
      },
      { functionName: 'billing', accountId: '210987654321' },
    );
    expect(env.lastInit?.status).toBe('success');
    const plain = probe.of('plain', 'register')[0]?.data;
    const withAcct = probe.of('withacct', 'register')[0]?.data;
    expect(plain.status).toBe(200);
    expect(plain.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(plain.body)).toEqual({
      functionName: 'billing',
      functionVersion: '$LATEST',
      handler: 'index.handler',
    });
    expect(JSON.parse(withAcct.body)).toMatchObject({ accountId: '210987654321' });
  });

  it('rejects a bad registration with 403 and the documented error type', async () => {
    const cases: Record<string, [Record<string, unknown>, string]> = {
      emptyname: [{ registerAs: '' }, 'Extension.InvalidExtensionName'],
      badevent: [{ events: ['INVOKE', 'RESTORE'] }, 'Extension.InvalidEventType'],
      malformed: [{ rawRegisterBody: '{"events":' }, 'InvalidRequestFormat'],
      configkeys: [{ rawRegisterBody: '{"events":[],"configurationKeys":["a"]}' }, 'InvalidRequestFormat'],
    };
    const exts: Record<string, Record<string, unknown>> = {};
    for (const [name, [config]] of Object.entries(cases)) exts[name] = config;
    const { env, probe } = await startWithProbes(exts, { initTimeoutMs: 4000 });
    for (const [name, [config, errorType]] of Object.entries(cases)) {
      const reg = probe.of(config.registerAs === '' ? '' : name, 'register')[0]?.data;
      expect(reg?.status, name).toBe(403);
      expect(errorTypeOf(reg), name).toBe(errorType);
    }
    // None of them registered, so Init could not complete.
    expect(env.lastInit?.status).toBe('timeout');
  });

  it('rejects a second register with Extension.InvalidExtensionState', async () => {
    const { env, probe } = await startWithProbes({ twice: { registerTwice: true } });
    expect(env.lastInit?.status).toBe('success');
    const again = probe.of('twice', 'register2')[0]?.data;
    expect(again.status).toBe(403);
    expect(errorTypeOf(again)).toBe('Extension.InvalidExtensionState');
  });

  it('lets ten extensions register and refuses the eleventh with Extension.TooManyExtensions', async () => {
    const exts: Record<string, Record<string, unknown>> = {};
    for (let i = 0; i < 11; i++) exts[`ext${String(i).padStart(2, '0')}`] = { events: ['SHUTDOWN'] };
    const { env, probe } = await startWithProbes(exts, { initTimeoutMs: 8000 });
    const regs = probe.messages.filter((m) => m.kind === 'register');
    expect(regs).toHaveLength(11);
    expect(regs.filter((m) => m.data.status === 200)).toHaveLength(10);
    const refused = regs.filter((m) => m.data.status !== 200);
    expect(refused.map((m) => errorTypeOf(m.data))).toEqual(['Extension.TooManyExtensions']);
    // The refused extension never registers, so Init cannot complete.
    expect(env.lastInit?.status).toBe('timeout');
  });

  it('treats a name that is not a launched file as an internal extension (INVOKE only)', async () => {
    const { env, probe } = await startWithProbes(
      {
        shutdownmismatch: { registerAs: 'not-my-file', events: ['INVOKE', 'SHUTDOWN'] },
      },
      { initTimeoutMs: 4000 },
    );
    const reg = probe.of('not-my-file', 'register')[0]?.data;
    expect(reg.status).toBe(403);
    expect(errorTypeOf(reg)).toBe('Extension.InvalidEventType');
    // The launched file never registered under its own name: Init times out.
    expect(env.lastInit?.status).toBe('timeout');
  });
});

describe('identifiers and error endpoints', () => {
  it('answers next without, with a malformed, or with an unknown identifier with the documented 403s', async () => {
    const env = await startFunction();
    const api = env.runtimeApi;
    const next = '/2020-01-01/extension/event/next';
    const missing = await call(api, 'GET', next, {});
    const malformed = await call(api, 'GET', next, { 'Lambda-Extension-Identifier': 'abc' });
    const unknown = await call(api, 'GET', next, {
      'Lambda-Extension-Identifier': '00000000-0000-4000-8000-000000000000',
    });
    expect([missing.status, malformed.status, unknown.status]).toEqual([403, 403, 403]);
    expect(errorTypeOf(missing)).toBe('Extension.MissingExtensionIdentifier');
    expect(errorTypeOf(malformed)).toBe('Extension.InvalidExtensionIdentifier');
    expect(errorTypeOf(unknown)).toBe('Extension.UnknownExtensionIdentifier');
  });

  it('turns init/error into Extension.InitError (202 to the caller), and Init fails', async () => {
    const { env, probe } = await startWithProbes({ cfg: { initError: true } });
    const ack = probe.of('cfg', 'initError')[0]?.data;
    expect(ack.status).toBe(202);
    expect(JSON.parse(ack.body)).toEqual({ status: 'OK' });
    expect(env.lastInit).toMatchObject({ status: 'error', errorType: 'Extension.InitError' });
  });
});

describe('exit/error', () => {
  it('needs the error type header (403 Extension.MissingHeader), then accepts it and refuses further calls', async () => {
    const { env, probe } = await startWithProbes({ leaving: { exitError: true } });
    const noHeader = probe.of('leaving', 'exitErrorNoHeader')[0]?.data;
    expect(noHeader.status).toBe(403);
    expect(errorTypeOf(noHeader)).toBe('Extension.MissingHeader');
    const ack = probe.of('leaving', 'exitError')[0]?.data;
    expect(ack.status).toBe(202);
    expect(JSON.parse(ack.body)).toEqual({ status: 'OK' });
    expect(probe.of('leaving', 'nextAfterError')[0]?.data.status).toBe(403);
    expect(env.lastInit).toMatchObject({ status: 'error', errorType: 'Extension.ExitError' });
  });
});

describe('launch and init failures', () => {
  it('fails Init with Extension.LaunchError for a file that is not executable or has no #! line', async () => {
    for (const [name, text, mode] of [
      ['noexec', '#!/bin/sh\nexit 0\n', 0o644],
      ['noshebang', 'echo hello\n', 0o755],
    ] as const) {
      const layer = tempDir('badlayer-');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(layer, 'extensions'));
      writeExecutable(join(layer, 'extensions', name), text, mode);
      const env = await startFunction({ layers: [layer] });
      expect(env.lastInit).toMatchObject({ status: 'error', errorType: 'Extension.LaunchError' });
    }
  });

  it('reports Extension.Crash when an extension exits (even with 0) before registering', async () => {
    const { env } = await startWithProbes({ quitter: { exitBeforeRegister: 0 } });
    expect(env.lastInit).toMatchObject({ status: 'error', errorType: 'Extension.Crash' });
    const report = env.telemetry.find((t) => t.type === 'platform.initReport')?.record;
    expect(report).toMatchObject({ phase: 'init', status: 'error', errorType: 'Extension.Crash' });
  });

  it('times Init out when an extension never registers, and retries Init at the first invoke', async () => {
    const { env } = await startWithProbes(
      { sleepy: { neverRegister: true } },
      { initTimeoutMs: 800, timeoutMs: 600 },
    );
    expect(env.lastInit).toMatchObject({ phase: 'init', status: 'timeout' });
    expect(env.lastInit?.durationMs).toBeGreaterThanOrEqual(800);
    const r = await env.invoke({});
    expect(r.status).toBe('timeout');
    expect(env.lastInit).toMatchObject({ phase: 'invoke', status: 'timeout' });
  });

  it('starts the runtime only after every extension has registered', async () => {
    const { env, probe } = await startWithProbes({ slowreg: { registerDelayMs: 300 } });
    const registeredAt = probe.of('slowreg', 'register')[0]?.t as number;
    const r = await env.invoke({});
    const loadedAt = (r.response as { loadedAt: number }).loadedAt;
    expect(loadedAt).toBeGreaterThanOrEqual(registeredAt);
  });
});

describe('extension environment', () => {
  it('gives extensions the function variables minus the documented exclusions and every _-prefixed name', async () => {
    const { env, probe } = await startWithProbes(
      { envcheck: {} },
      { env: { CUSTOMER_FLAG: 'yes', NODE_OPTIONS: '--max-old-space-size=100' } },
    );
    const vars = probe.of('envcheck', 'register')[0]?.data.env as Record<string, string>;
    // The documented exclusions (layout.ts), which the runtime does get, and the runtime's own trace header.
    const runtimeVars = env.variables('runtime');
    for (const excluded of EXTENSION_EXCLUDED_VARIABLES) {
      expect(runtimeVars[excluded], excluded).toBeDefined();
      expect(vars[excluded], excluded).toBeUndefined();
    }
    expect(vars._X_AMZN_TRACE_ID).toBeUndefined();
    expect(vars).toMatchObject({
      CUSTOMER_FLAG: 'yes',
      NODE_OPTIONS: '--max-old-space-size=100',
      AWS_LAMBDA_RUNTIME_API: env.runtimeApi,
      AWS_LAMBDA_FUNCTION_NAME: 'local-function',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: 'us-east-1',
      // In its mount namespace the environment's /tmp is at /tmp.
      TMPDIR: env.isolation === 'none' ? env.tmpDir : '/tmp',
    });
    expect(vars.PATH?.split(':')[0]).toBe(join(process.execPath, '..'));
  });

  it('lays layers over /opt in order so one layer can exec files of another', async () => {
    const probe = await probeServer();
    const base = probeLayer({});
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(join(base, 'tool'));
    copyFileSync(
      join(import.meta.dirname, '../../fixtures/emulator/extensions/probe-extension.mjs'),
      join(base, 'tool', 'ext.mjs'),
    );
    const top = tempDir('toplayer-');
    mkdirSync(join(top, 'extensions'));
    writeExecutable(
      join(top, 'extensions', 'launcher'),
      `#!/bin/sh\nexec node "$(dirname "$0")/../tool/ext.mjs" '{"probe":${probe.port}}' "$0"\n`,
    );
    const env = await startFunction({ layers: [base, top] });
    expect(env.lastInit?.status).toBe('success');
    expect(probe.of('launcher', 'register')[0]?.data.status).toBe(200);
  });
});
