// The emulated Node.js runtime and the Runtime API, driven through real processes.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fn, sleep, startEnv, tempDir, types } from './helpers.js';

describe('handler loading', () => {
  it('runs an ESM (.mjs) async handler and returns its response', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler' });
    const r = await env.invoke({ hello: 'world' });
    expect(r.status).toBe('success');
    expect((r.response as { event: unknown }).event).toEqual({ hello: 'world' });
  });

  it('runs a CommonJS handler, including a nested export path', async () => {
    const env = await startEnv({ codeDir: fn('cjs'), handler: 'index.handler' });
    const r = await env.invoke({ n: 1 });
    expect(r.response).toMatchObject({ kind: 'cjs', event: { n: 1 }, requestId: r.requestId });
    const nested = await startEnv({ codeDir: fn('cjs'), handler: 'index.nested.handler' });
    expect((await nested.invoke({})).response).toEqual({ kind: 'cjs-nested' });
  });

  it('loads a .js file as ESM when package.json says type: module', async () => {
    const env = await startEnv({ codeDir: fn('module-type'), handler: 'index.handler' });
    expect((await env.invoke({ a: 1 })).response).toEqual({ kind: 'module-type', event: { a: 1 } });
  });

  it('fails init with Runtime.HandlerNotFound when the export is missing, and again at the invoke', async () => {
    const env = await startEnv({ codeDir: fn('broken'), handler: 'missing.handler' });
    expect(env.lastInit).toMatchObject({
      phase: 'init',
      status: 'error',
      errorType: 'Runtime.HandlerNotFound',
    });
    const r = await env.invoke({});
    expect(r.status).toBe('failure');
    expect(r.errorType).toBe('Runtime.HandlerNotFound');
    expect(env.lastInit).toMatchObject({ phase: 'invoke', status: 'error' });
    const reports = env.telemetry.filter((t) => t.type === 'platform.initReport').map((t) => t.record);
    expect(reports).toMatchObject([
      { phase: 'init', status: 'error', errorType: 'Runtime.HandlerNotFound' },
      { phase: 'invoke', status: 'error', errorType: 'Runtime.HandlerNotFound' },
    ]);
  });

  it('reports a module that throws at import as an init error (Runtime.Unknown after normalisation)', async () => {
    const env = await startEnv({ codeDir: fn('broken'), handler: 'index.handler' });
    expect(env.lastInit).toMatchObject({ status: 'error', errorType: 'Runtime.Unknown' });
    expect(env.output()).toContain('configuration missing at import time');
  });

  it('reports Runtime.ImportModuleError for a handler file that does not exist', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'nope.handler' });
    expect(env.lastInit).toMatchObject({ status: 'error', errorType: 'Runtime.ImportModuleError' });
  });
});

describe('response streaming', () => {
  it('streams a response written in chunks, and reports an error sent in the trailers', async () => {
    const env = await startEnv({ codeDir: fn('streaming'), handler: 'index.handler' });
    const ok = await env.invoke({});
    expect(ok).toMatchObject({ status: 'success', response: 'hello world' });
    const failed = await env.invoke({ fail: true });
    expect(failed.status).toBe('error');
    expect(failed.error).toMatchObject({ errorType: 'Error', errorMessage: 'stream broke' });
    const http = await env.invoke({ http: true });
    expect(http.response).toBe(
      `${JSON.stringify({ statusCode: 201, headers: { a: 'b' } })}${'\u0000'.repeat(8)}created`,
    );
  });
});

describe('callback handlers', () => {
  it('posts the callback result only once the event loop is empty (callbackWaitsForEmptyEventLoop)', async () => {
    const env = await startEnv({ codeDir: fn('callback'), handler: 'index.handler' });
    const r = await env.invoke({ file: 'cb-waits', timerMs: 200 });
    expect(r.status).toBe('success');
    expect(r.response).toMatchObject({ kind: 'callback', waits: true });
    // The timer ran before the response was posted.
    expect(existsSync(join(env.tmpDir, 'cb-waits'))).toBe(true);
  });

  it('posts at once with callbackWaitsForEmptyEventLoop=false; the pending timer stays frozen', async () => {
    const env = await startEnv({ codeDir: fn('callback'), handler: 'index.handler' });
    const r = await env.invoke({ file: 'cb-nowait', timerMs: 1000, waits: false });
    expect(r.response).toMatchObject({ waits: false });
    await sleep(1500);
    expect(existsSync(join(env.tmpDir, 'cb-nowait'))).toBe(false);
    // Thawed by the next invoke, the overdue timer fires.
    await env.invoke({ file: 'other', timerMs: 1 });
    const until = Date.now() + 5000;
    while (!existsSync(join(env.tmpDir, 'cb-nowait')) && Date.now() < until) await sleep(20);
    expect(existsSync(join(env.tmpDir, 'cb-nowait'))).toBe(true);
  });

  it('posts a callback error as a function error', async () => {
    const env = await startEnv({ codeDir: fn('callback'), handler: 'index.handler' });
    const r = await env.invoke({ file: 'cb-err', timerMs: 1, fail: true });
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({ errorType: 'Error', errorMessage: 'callback error' });
  });
});

describe('context, headers and variables', () => {
  it('gives the handler a Lambda context and a per-invoke _X_AMZN_TRACE_ID', async () => {
    const env = await startEnv({
      codeDir: fn('esm'),
      handler: 'index.handler',
      functionName: 'orders',
      memoryMb: 256,
      timeoutMs: 5000,
    });
    const a = await env.invoke(
      {},
      {
        clientContext: { custom: { k: 'v' } },
        identity: { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' },
        qualifier: 'live',
        traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      },
    );
    const b = await env.invoke({});
    const ra = a.response as { traceId: string; context: Record<string, unknown> };
    const rb = b.response as { traceId: string };
    expect(ra.context).toMatchObject({
      functionName: 'orders',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders:live',
      memoryLimitInMB: '256',
      awsRequestId: a.requestId,
      logGroupName: '/aws/lambda/orders',
      clientContext: { custom: { k: 'v' } },
      identity: { cognitoIdentityId: 'id-1', cognitoIdentityPoolId: 'pool-1' },
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(ra.context.remaining).toBeGreaterThan(0);
    expect(ra.context.remaining).toBeLessThanOrEqual(5000);
    expect(ra.traceId).toBe('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
    expect(rb.traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    expect(rb.traceId).not.toBe(ra.traceId);
  });

  it('sends every Runtime API header on /next', async () => {
    // A custom runtime (AWS_LAMBDA_EXEC_WRAPPER replaces the bootstrap) records the raw headers.
    const dir = tempDir('wrapper-');
    const wrapper = join(dir, 'wrapper.mjs');
    const { writeExecutable } = await import('./helpers.js');
    writeExecutable(
      wrapper,
      `#!/usr/bin/env node
import http from 'node:http';
import { writeFileSync } from 'node:fs';
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
http.get({ host, port, path: '/2018-06-01/runtime/invocation/next' }, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => {
    writeFileSync(process.env.TMPDIR + '/next.json', JSON.stringify({ headers: res.headers, body }));
    const id = res.headers['lambda-runtime-aws-request-id'];
    const req = http.request({ host, port, method: 'POST', path: '/2018-06-01/runtime/invocation/' + id + '/response' }, (r) => {
      r.resume();
      r.on('end', () => http.get({ host, port, path: '/2018-06-01/runtime/invocation/next' }, () => {}));
    });
    req.end('"ok"');
  });
});
`,
    );
    const env = await startEnv({
      codeDir: fn('esm'),
      handler: 'index.handler',
      env: { AWS_LAMBDA_EXEC_WRAPPER: wrapper },
    });
    const r = await env.invoke({ x: 1 }, { clientContext: { a: 1 }, tenantId: 'tenant-7' });
    expect(r).toMatchObject({ status: 'success', response: 'ok' });
    const seen = JSON.parse(readFileSync(join(env.tmpDir, 'next.json'), 'utf8')) as {
      headers: Record<string, string>;
      body: string;
    };
    expect(JSON.parse(seen.body)).toEqual({ x: 1 });
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['lambda-runtime-aws-request-id']).toBe(r.requestId);
    expect(Number(seen.headers['lambda-runtime-deadline-ms'])).toBeGreaterThan(Date.now() - 60_000);
    expect(seen.headers['lambda-runtime-invoked-function-arn']).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:local-function',
    );
    expect(seen.headers['lambda-runtime-trace-id']).toMatch(/^Root=1-/);
    expect(JSON.parse(seen.headers['lambda-runtime-client-context'] as string)).toEqual({ a: 1 });
    expect(seen.headers['lambda-runtime-cognito-identity']).toBeUndefined();
    expect(seen.headers['lambda-runtime-aws-tenant-id']).toBe('tenant-7');
    const start = env.telemetry.find((t) => t.type === 'platform.start')?.record;
    expect(start).toMatchObject({ requestId: r.requestId, tenantId: 'tenant-7' });
  });

  it('gives the runtime the Lambda variables, TMPDIR = the environment /tmp, and customer variables', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler', env: { MY_SETTING: 'on' } });
    const vars = ((await env.invoke({ action: 'env' })).response as { env: Record<string, string> }).env;
    expect(vars).toMatchObject({
      MY_SETTING: 'on',
      // In its mount namespace the environment's /tmp is at /tmp.
      TMPDIR: env.isolation === 'none' ? env.tmpDir : '/tmp',
      AWS_LAMBDA_FUNCTION_NAME: 'local-function',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_RUNTIME_API: env.runtimeApi,
      LAMBDA_TASK_ROOT: fn('esm'),
      _HANDLER: 'index.handler',
      AWS_REGION: 'us-east-1',
    });
    expect(vars.AWS_EXECUTION_ENV).toMatch(/^AWS_Lambda_nodejs\d+\.x$/);
    // NodeRIC removes the log fd variable once it has taken the fd.
    expect(vars._LAMBDA_TELEMETRY_LOG_FD).toBeUndefined();
  });
});

describe('errors and crashes', () => {
  it('reports a thrown error as status error with the body the runtime posted; no reset', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler' });
    const first = await env.invoke({});
    const r = await env.invoke({ action: 'throw', message: 'no such order' });
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({ errorType: 'TypeError', errorMessage: 'no such order' });
    expect(r.error?.trace?.[0]).toContain('TypeError: no such order');
    expect(r.errorType).toBe('Runtime.Unknown');
    const after = await env.invoke({});
    // Same runtime process: module scope survived (a handled error is not a reset).
    expect((after.response as { loadedAt: number }).loadedAt).toBe(
      (first.response as { loadedAt: number }).loadedAt,
    );
    const done = env.telemetry.find(
      (t) =>
        t.type === 'platform.runtimeDone' && (t.record as { requestId: string }).requestId === r.requestId,
    );
    expect(done?.record).toMatchObject({ status: 'error', errorType: 'Runtime.Unknown' });
  });

  it('turns an uncaught exception into exit 129, Runtime.ExitError and a reset', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler' });
    const resets: unknown[] = [];
    env.on('reset', (s) => resets.push(s));
    const r = await env.invoke({ action: 'crash' });
    expect(r.status).toBe('failure');
    expect(r.errorType).toBe('Runtime.ExitError');
    // NodeRIC posts the error before exiting: the client gets it.
    expect(r.error).toMatchObject({ errorType: 'Error', errorMessage: 'uncaught in a timer' });
    expect(resets).toHaveLength(1);
    expect(resets[0]).toMatchObject({ reason: 'failure', runtime: { exitCode: 129 } });
    const next = await env.invoke({});
    expect(next.status).toBe('success');
    expect(env.lastInit?.phase).toBe('invoke');
  });

  it('turns an unhandled rejection into exit 128', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler' });
    let exitCode: number | null | undefined;
    env.on('reset', (s) => {
      exitCode = s.runtime?.exitCode;
    });
    const r = await env.invoke({ action: 'reject' });
    expect(r.status).toBe('failure');
    expect(r.error?.errorType).toBe('Runtime.UnhandledPromiseRejection');
    expect(exitCode).toBe(128);
  });

  it('treats process.exit in the handler as a runtime crash', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler' });
    const r = await env.invoke({ action: 'exit', code: 3 });
    expect(r).toMatchObject({ status: 'failure', errorType: 'Runtime.ExitError' });
    expect(r.error?.errorMessage).toContain('exit status 3');
  });

  it('refuses a response over 6 MiB with 413 and reports Function.ResponseSizeTooLarge', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler' });
    const r = await env.invoke({ action: 'big', bytes: 6 * 1024 * 1024 + 200 });
    expect(r.status).toBe('error');
    expect(r.errorType).toBe('Function.ResponseSizeTooLarge');
    expect((await env.invoke({ action: 'big', bytes: 1000 })).status).toBe('success');
  });

  it('times out a slow handler, resets with reason timeout and re-inits on the next invoke', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler', timeoutMs: 1500 });
    const r = await env.invoke({ action: 'sleep', ms: 20_000 });
    expect(r.status).toBe('timeout');
    expect(r.error?.errorMessage).toBe('Task timed out after 1.50 seconds');
    expect(r.durationMs).toBeGreaterThanOrEqual(1500);
    const done = env.telemetry.find(
      (t) =>
        t.type === 'platform.runtimeDone' && (t.record as { requestId: string }).requestId === r.requestId,
    );
    expect(done?.record).toMatchObject({ status: 'timeout' });
    expect((await env.invoke({})).status).toBe('success');
    expect(env.lastInit?.phase).toBe('invoke');
  });
});

describe('Runtime API misuse', () => {
  it('answers a response for a wrong request id with 400 InvalidRequestID', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler' });
    const [host, port] = env.runtimeApi.split(':');
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host,
          port: Number(port),
          method: 'POST',
          path: '/2018-06-01/runtime/invocation/not-a-request/response',
        },
        (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({ errorType: 'InvalidRequestID' });
  });
});

describe('function logs', () => {
  it('makes each console call one function record, multi-line included, and splits raw stdout per line', async () => {
    const env = await startEnv({ codeDir: fn('esm'), handler: 'index.handler' });
    const reported = env.waitForRecord((t) => t.type === 'platform.report');
    const r = await env.invoke({ action: 'log', lines: ['one', 'two\nlines'], raw: 'raw-a\nraw-b\n' });
    const records = env.telemetry.filter((t) => t.type === 'function').map((t) => t.record as string);
    expect(records).toHaveLength(4);
    expect(records[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${r.requestId}\\tINFO\\tone$`));
    expect(records[1]).toContain('\tINFO\ttwo\nlines');
    expect(records.slice(2)).toEqual(['raw-a', 'raw-b']);
    expect(types(env, r.requestId)).toEqual(['platform.start', 'platform.runtimeDone', 'platform.report']);
    expect(env.recordsFor(r.requestId).map((t) => t.type)).toEqual([
      'platform.start',
      'function',
      'function',
      'platform.runtimeDone',
      'platform.report',
    ]);
    expect((await reported).record).toMatchObject({ requestId: r.requestId });
  });

  it('writes JSON log records when AWS_LAMBDA_LOG_FORMAT=JSON', async () => {
    const env = await startEnv({
      codeDir: fn('esm'),
      handler: 'index.handler',
      env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' },
    });
    const r = await env.invoke({ action: 'log', lines: ['structured'] });
    const rec = env.telemetry.find((t) => t.type === 'function')?.record;
    expect(rec).toMatchObject({ level: 'INFO', requestId: r.requestId, message: 'structured' });
  });
});
