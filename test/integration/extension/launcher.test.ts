// The layer's launcher (layer/otel-relay.sh): it registers before Node boots and execs node in the same
// process with the identifier; it falls back to node registering when its own attempt fails; and on a
// runtime without node it passes events through in the shell, so the function is unaffected.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../../src/local/index.js';
import { layerDir, repoRoot } from './harness.js';

const launcher = join(layerDir, 'extensions/otel-relay');
const ID = '0b3c6a1e-5f0d-4d8e-9a55-2f6b9e1c7d40';

interface ApiCall {
  path: string;
  /** The calling process's command line, read while the request is being answered. */
  cmdline: string;
  identifier: string | undefined;
  name: string | undefined;
  body: string;
}

/**
 * An Extensions API on loopback that records who called it. `onRegister` may answer or break the
 * request itself (return true when it did); otherwise register gets an identifier and `next` SHUTDOWN.
 */
async function recordingApi(pid: () => number, onRegister?: (n: number, socket: Socket) => boolean) {
  const calls: ApiCall[] = [];
  let registers = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${pid()}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {}
      const identifier = req.headers['lambda-extension-identifier'] as string | undefined;
      const name = req.headers['lambda-extension-name'] as string | undefined;
      calls.push({ path: req.url ?? '', cmdline, identifier, name, body });
      if (req.url?.endsWith('/extension/register')) {
        if (onRegister?.(++registers, req.socket)) return;
        res.writeHead(200, { 'lambda-extension-identifier': ID }).end('{"functionName":"f"}');
      } else if (req.url?.endsWith('/telemetry')) res.writeHead(200).end('"OK"');
      else if (req.url?.endsWith('/event/next')) {
        res.writeHead(200).end(
          JSON.stringify({
            eventType: 'SHUTDOWN',
            shutdownReason: 'spindown',
            deadlineMs: Date.now() + 2000,
          }),
        );
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { calls, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function runLauncher(
  onRegister?: (n: number, socket: Socket) => boolean,
  env: Record<string, string> = {},
): Promise<{ code: number | null; calls: ApiCall[]; pid: number }> {
  let pid = 0;
  const api = await recordingApi(() => pid, onRegister);
  try {
    const child = spawn(launcher, [], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${api.port}`,
        OTEL_RELAY_HTTP_PORT: '0',
        OTEL_RELAY_GRPC_PORT: '0',
        OTEL_RELAY_LOG_LEVEL: 'off',
        OTEL_RELAY_SELF_TELEMETRY: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        ...env,
      },
      stdio: 'ignore',
    });
    pid = child.pid ?? 0;
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the launcher did not exit within 20 s'));
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    return { code, calls: api.calls, pid };
  } finally {
    await api.close();
  }
}

describe('layer launcher', () => {
  it('registers from bash, then execs node in the same process with the identifier', async () => {
    // Act
    const { code, calls } = await runLauncher();
    // Assess
    expect(code).toBe(0);
    const registers = calls.filter((c) => c.path.endsWith('/extension/register'));
    expect(registers).toHaveLength(1);
    expect(registers[0]!.cmdline).toMatch(/bash/);
    expect(registers[0]!.cmdline).not.toMatch(/(start|extension)\.js/);
    expect(registers[0]!.name).toBe('otel-relay');
    expect(JSON.parse(registers[0]!.body)).toEqual({ events: ['INVOKE', 'SHUTDOWN'] });
    const next = calls.find((c) => c.path.endsWith('/extension/event/next'));
    // Same pid (exec), now node, using the identifier the launcher was given.
    expect(next?.cmdline).toMatch(/node .*otel-relay\/start\.js --extension-id=/);
    expect(next?.identifier).toBe(ID);
  });

  it('falls back to registering from node when the launcher cannot register', async () => {
    // Act: the first register's connection is cut before any answer.
    const { code, calls } = await runLauncher((n, socket) => {
      if (n > 1) return false;
      socket.destroy();
      return true;
    });
    // Assess
    expect(code).toBe(0);
    const registers = calls.filter((c) => c.path.endsWith('/extension/register'));
    expect(registers.map((r) => /start\.js/.test(r.cmdline))).toEqual([false, true]);
    expect(calls.find((c) => c.path.endsWith('/event/next'))?.identifier).toBe(ID);
  });

  it('gives up on a register that is never answered after its read timeout, and node registers', async () => {
    // Act: the first register is left unanswered (the socket stays open).
    const { code, calls } = await runLauncher((n) => n === 1, { OTEL_RELAY_LAUNCHER_TIMEOUT_S: '1' });
    // Assess
    expect(code).toBe(0);
    const registers = calls.filter((c) => c.path.endsWith('/extension/register'));
    expect(registers).toHaveLength(2);
    expect(registers[1]!.cmdline).toMatch(/start\.js\s*$/);
  });

  it('leaves registration to node when OTEL_RELAY_LAUNCHER_REGISTER=false', async () => {
    // Act
    const { code, calls } = await runLauncher(undefined, { OTEL_RELAY_LAUNCHER_REGISTER: 'false' });
    // Assess
    expect(code).toBe(0);
    const registers = calls.filter((c) => c.path.endsWith('/extension/register'));
    expect(registers.map((r) => /start\.js/.test(r.cmdline))).toEqual([true]);
  });

  it('leaves registration to node on Lambda Managed Instances (SHUTDOWN only)', async () => {
    // Act
    const { code, calls } = await runLauncher(undefined, {
      AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances',
    });
    // Assess
    expect(code).toBe(0);
    const registers = calls.filter((c) => c.path.endsWith('/extension/register'));
    expect(registers).toHaveLength(1);
    expect(registers[0]!.cmdline).toMatch(/start\.js/);
    expect(JSON.parse(registers[0]!.body)).toEqual({ events: ['SHUTDOWN'] });
  });
});

describe('layer on a runtime without node', () => {
  let env: LambdaEnvironment | undefined;
  let emptyDir: string | undefined;
  afterEach(async () => {
    await env?.dispose();
    if (emptyDir) rmSync(emptyDir, { recursive: true, force: true });
  });

  it('registers and passes events through in the shell: every invocation succeeds, with one log line', async () => {
    // Prepare: PATH holds nothing (no node, no coreutils), as on a Python, Java or provided runtime.
    // The emulated runtime itself is started by absolute path, so the function still runs.
    emptyDir = mkdtempSync(join(tmpdir(), 'no-node-'));
    env = await LambdaEnvironment.start({
      codeDir: resolve(repoRoot, 'test/fixtures/extension/plain'),
      handler: 'index.handler',
      layers: [layerDir],
      timeoutMs: 5_000,
      env: { PATH: emptyDir, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
    });
    // Act
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await env.invoke({ tag: `no-node-${i}` }));
    const shutdown = await env.shutdown();
    // Assess
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success']);
    expect(results[0]!.initDurationMs).toBeGreaterThan(0);
    expect(shutdown.extensions).toEqual([
      expect.objectContaining({ name: 'otel-relay', state: 'Exited', exitCode: 0 }),
    ]);
    const lines = env
      .output()
      .split('\n')
      .filter((l) => l.includes('otel-relay: no Node.js on this runtime'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/passing events through: the function runs unaffected/);
  });
});
