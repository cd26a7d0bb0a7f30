// V8 code caches for the layer's extension bundle, one per V8 version (so one per Node.js major that
// builds it). Each is made by running the bundle through layer/start.cjs against a stand-in
// Extensions API (register, one INVOKE, SHUTDOWN), so the cache holds what a cold start and a first
// invocation compile. Lambda's Node 20, 22 and 24 each need their own: pass their binaries with
// --code-cache-node=<path> (repeatable); the Node running the build is always included.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

/** A stand-in Extensions + Telemetry API: one INVOKE, then SHUTDOWN. */
async function standInApi() {
  let nexts = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.endsWith('/extension/register')) {
        res.writeHead(200, { 'lambda-extension-identifier': 'code-cache-build' }).end('{}');
      } else if (req.url?.endsWith('/telemetry')) res.writeHead(200).end('"OK"');
      else if (req.url?.endsWith('/event/next')) {
        const event =
          nexts++ === 0
            ? {
                eventType: 'INVOKE',
                requestId: 'code-cache-build',
                deadlineMs: Date.now() + 500,
                invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:code-cache',
              }
            : { eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs: Date.now() + 2000 };
        res.writeHead(200).end(JSON.stringify(event));
      } else res.writeHead(404).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, api: `127.0.0.1:${server.address().port}` };
}

/** Whether V8 takes the cache in `dir` under `node` (and the launcher's flags): accepted | rejected | absent. */
export function checkCodeCache(node, dir) {
  return execFileSync(node, [join(dir, 'start.js')], {
    env: { PATH: process.env.PATH ?? '', OTEL_RELAY_CODE_CACHE: 'check' },
    encoding: 'utf8',
    timeout: 30_000,
  }).trim();
}

function runOnce(node, dir, api) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [join(dir, 'start.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_LAMBDA_RUNTIME_API: api,
        OTEL_RELAY_CODE_CACHE: 'write',
        OTEL_RELAY_HTTP_PORT: '0',
        OTEL_RELAY_GRPC_PORT: '0',
        OTEL_RELAY_LOG_LEVEL: 'off',
        OTEL_RELAY_SELF_TELEMETRY: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`code cache: ${node} exited (${code ?? signal}) making the cache\n${err}`));
    });
  });
}

/**
 * Puts start.js beside dist/layer/otel-relay/extension.js and writes one code cache per node binary.
 * Returns the files written (relative to `dir`).
 */
export async function writeCodeCaches(dir, loaderSource, nodes = []) {
  copyFileSync(loaderSource, join(dir, 'start.js'));
  for (const f of readdirSync(dir)) if (f.endsWith('.cache')) rmSync(join(dir, f));
  const binaries = [...new Set([process.execPath, ...nodes])];
  const { server, api } = await standInApi();
  try {
    for (const node of binaries) {
      if (!existsSync(node)) throw new Error(`code cache: --code-cache-node ${node} does not exist`);
      await runOnce(node, dir, api);
      // A cache V8 would reject (flags differ from the launcher's) is a build error, not a silent loss.
      const state = checkCodeCache(node, dir);
      if (state !== 'accepted') throw new Error(`code cache: ${node} ${state} the cache it just made`);
    }
  } finally {
    server.close();
  }
  return readdirSync(dir).filter((f) => f.endsWith('.cache') || f === 'start.js');
}
