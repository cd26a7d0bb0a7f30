// The layer's V8 code cache (layer/start.cjs, layer/code-cache.mjs): the build makes one that V8
// takes, and a damaged cache or one from another V8 version is ignored: the extension still runs.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { layerDir } from './harness.js';

const cacheName = `extension.js.v8-${process.versions.v8}.cache`;

function check(dir: string): string {
  return execFileSync(process.execPath, [join(dir, 'start.js')], {
    env: { PATH: process.env.PATH ?? '', OTEL_RELAY_CODE_CACHE: 'check' },
    encoding: 'utf8',
  }).trim();
}

/** Runs start.js against a stand-in Extensions API; resolves with the exit code and the calls made. */
async function runStart(dir: string): Promise<{ code: number | null; paths: string[] }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      paths.push(req.url ?? '');
      if (req.url?.endsWith('/extension/register'))
        res.writeHead(200, { 'lambda-extension-identifier': 'id-1' }).end('{}');
      else if (req.url?.endsWith('/telemetry')) res.writeHead(200).end('"OK"');
      else if (req.url?.endsWith('/event/next'))
        res.writeHead(200).end(
          JSON.stringify({
            eventType: 'SHUTDOWN',
            shutdownReason: 'spindown',
            deadlineMs: Date.now() + 2000,
          }),
        );
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const child = spawn(process.execPath, [join(dir, 'start.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${(server.address() as { port: number }).port}`,
        OTEL_RELAY_HTTP_PORT: '0',
        OTEL_RELAY_GRPC_PORT: '0',
        OTEL_RELAY_LOG_LEVEL: 'off',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      },
      stdio: 'ignore',
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, paths };
  } finally {
    server.close();
  }
}

describe('layer code cache', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const copyLayer = () => {
    dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
    cpSync(join(layerDir, 'otel-relay'), dir, { recursive: true });
    return dir;
  };

  it('is built for this Node and taken by V8', async () => {
    // Assess
    expect(readdirSync(join(layerDir, 'otel-relay'))).toContain(cacheName);
    expect(check(join(layerDir, 'otel-relay'))).toBe('accepted');
    const run = await runStart(join(layerDir, 'otel-relay'));
    expect(run.code).toBe(0);
    expect(run.paths.filter((p) => p.endsWith('/event/next'))).toHaveLength(1);
  });

  it('is not used when damaged (V8 would abort on it), and the extension runs without it', async () => {
    // Prepare: flip bytes in the middle of the cache.
    const d = copyLayer();
    const file = join(d, cacheName);
    const bytes = readFileSync(file);
    const middle = Math.floor(bytes.length / 2);
    for (let i = middle; i < middle + 64; i++) bytes.writeUInt8(bytes.readUInt8(i) ^ 0xff, i);
    writeFileSync(file, bytes);
    // Act
    const state = check(d);
    const run = await runStart(d);
    // Assess
    expect(state).toBe('damaged');
    expect(run.code).toBe(0);
    expect(run.paths.some((p) => p.endsWith('/extension/register'))).toBe(true);
  });

  it('is not used when truncated, and the extension runs without it', async () => {
    // Prepare
    const d = copyLayer();
    const file = join(d, cacheName);
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    // Act
    const state = check(d);
    const run = await runStart(d);
    // Assess
    expect(state).toBe('damaged');
    expect(run.code).toBe(0);
  });

  it('is rejected by V8 when Node runs with other V8 flags, and the extension runs without it', async () => {
    // Act: a heap flag changes V8's flag hash, as another V8 version changes its version hash.
    const state = execFileSync(
      process.execPath,
      ['--max-semi-space-size=1', join(layerDir, 'otel-relay/start.js')],
      {
        env: { PATH: process.env.PATH ?? '', OTEL_RELAY_CODE_CACHE: 'check' },
        encoding: 'utf8',
      },
    ).trim();
    // Assess
    expect(state).toBe('rejected');
  });

  it('is not read when it was made by another V8 version', async () => {
    // Prepare: only a cache under another version's name.
    const d = copyLayer();
    renameSync(join(d, cacheName), join(d, 'extension.js.v8-0.0.0.0.cache'));
    // Act
    const state = check(d);
    const run = await runStart(d);
    // Assess
    expect(state).toBe('absent');
    expect(run.code).toBe(0);
  });
});
