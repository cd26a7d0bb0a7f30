// What the extension loads before its first `next` is cold start the function pays for (CPU, RSS).
// The Node builtins that only some deployments or later events need (gRPC's http2, TLS, gzip, crypto,
// the spool's fs/promises) must be loaded on first use, not at startup. Checked in the built bundle.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerDir } from './harness.js';

/** Builtins loaded in the extension process at the moment of its first event/next. */
async function builtinsAtFirstNext(env: Record<string, string> = {}): Promise<string[]> {
  const out = join(tmpdir(), `startup-modules-${process.pid}-${Date.now()}.txt`);
  // A preload records process.moduleLoadList when the first event/next request is made.
  const preload = join(tmpdir(), `startup-modules-${process.pid}.cjs`);
  writeFileSync(
    preload,
    `const http = require('http'); const request = http.request; let done = false;
http.request = function (o, ...rest) {
  if (!done && o && String(o.path).endsWith('/event/next')) {
    done = true;
    require('fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n'));
  }
  return request.call(this, o, ...rest);
};`,
  );
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
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
    const child = spawn(process.execPath, ['-r', preload, join(layerDir, 'otel-relay/extension.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${(server.address() as { port: number }).port}`,
        OTEL_RELAY_HTTP_PORT: '0',
        OTEL_RELAY_GRPC_PORT: '0',
        OTEL_RELAY_LOG_LEVEL: 'off',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        ...env,
      },
      stdio: 'ignore',
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    return readFileSync(out, 'utf8')
      .split('\n')
      .filter((m) => m.startsWith('NativeModule '))
      .map((m) => m.slice('NativeModule '.length));
  } finally {
    server.close();
  }
}

describe('extension startup', () => {
  it('loads neither http2, TLS, zlib, crypto nor fs/promises before its first next', async () => {
    // Act
    const loaded = await builtinsAtFirstNext();
    // Assess: the receivers are up (net and http are loaded), the rest waits for first use.
    expect(loaded).toEqual(expect.arrayContaining(['net', 'http']));
    const lazy = ['http2', 'https', 'tls', 'zlib', 'crypto', 'fs/promises'];
    expect(loaded.filter((m) => lazy.includes(m))).toEqual([]);
  });

  it('loads https when the exporter endpoint is https only once an export needs it', async () => {
    // Act
    const loaded = await builtinsAtFirstNext({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:9' });
    // Assess
    expect(loaded.filter((m) => m === 'https' || m === 'tls')).toEqual([]);
  });
});
