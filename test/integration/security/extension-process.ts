// The built extension (dist/layer/otel-relay/extension.js) as a real process, against a scripted
// Extensions API on loopback: the test decides what `register` and each `event/next` answer, which is
// how garbage and silence from the platform are injected. Every wait is bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { traceRequest } from '../../unit/extension/fakes.js';

export const extensionJs = resolve(import.meta.dirname, '../../../dist/layer/otel-relay/extension.js');

/** What the scripted API answers: a status and a raw body (garbage allowed), or silence. */
export type ApiAnswer = { status: number; body: string; headers?: Record<string, string> } | 'hang';

export interface ExtensionRun {
  /** The extension's process id (for reading its memory from /proc). */
  readonly pid: number | undefined;
  /** Requests the extension made to the API, as `METHOD path`, in order. */
  readonly calls: string[];
  /** The request bodies, in the same order as `calls`. */
  readonly bodies: string[];
  /** Answers the next (pending or future) `event/next` call. */
  answerNext(answer: ApiAnswer): void;
  /** Resolves with stdout once it matches, or rejects after `timeoutMs`. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code, or rejects (and kills the process) after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<number | null>;
  stdout(): string;
  stop(): Promise<void>;
}

export interface ExtensionRunOptions {
  register?: ApiAnswer;
  env?: Record<string, string>;
  /** Node flags before the script (e.g. `-r preload.cjs`). */
  nodeArgs?: string[];
}

const REGISTERED: ApiAnswer = {
  status: 200,
  body: '{"functionName":"sec-fn","functionVersion":"$LATEST"}',
  headers: { 'lambda-extension-identifier': 'sec-ext-id' },
};

export async function startExtension(o: ExtensionRunOptions = {}): Promise<ExtensionRun> {
  const calls: string[] = [];
  const bodies: string[] = [];
  const queued: ApiAnswer[] = [];
  const waiting: ((a: ApiAnswer) => void)[] = [];
  const held = new Set<http.ServerResponse>();
  const reply = (res: http.ServerResponse, a: ApiAnswer) => {
    if (a === 'hang') {
      held.add(res);
      return;
    }
    res.writeHead(a.status, a.headers ?? {});
    res.end(a.body);
  };
  const api = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const i = bodies.push('') - 1;
    req.on('data', (c: Buffer) => {
      bodies[i] += c.toString('utf8');
    });
    req.on('end', () => {
      if (req.url?.endsWith('/extension/register')) return reply(res, o.register ?? REGISTERED);
      if (req.url?.endsWith('/extension/event/next')) {
        const a = queued.shift();
        if (a) return reply(res, a);
        waiting.push((x) => reply(res, x));
        return;
      }
      reply(res, { status: req.method === 'PUT' ? 200 : 202, body: '' });
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const port = (api.address() as AddressInfo).port;
  const spoolDir = mkdtempSync(join(tmpdir(), 'sec-spool-'));
  const child: ChildProcess = spawn(process.execPath, [...(o.nodeArgs ?? []), extensionJs], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      OTEL_RELAY_HTTP_PORT: '0',
      OTEL_RELAY_GRPC_PORT: '0',
      OTEL_RELAY_TELEMETRY_PORT: '0',
      OTEL_RELAY_SPOOL_DIR: spoolDir,
      OTEL_RELAY_SELF_TELEMETRY: 'false',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const run: ExtensionRun = {
    pid: child.pid,
    calls,
    bodies,
    answerNext(a) {
      const w = waiting.shift();
      if (w) w(a);
      else queued.push(a);
    },
    async waitForOutput(re, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(out);
        if (m) return m;
        if (Date.now() > end)
          throw new Error(`extension output did not match ${re} in ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async exited(timeoutMs = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exit,
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        throw new Error(`extension did not exit within ${timeoutMs} ms:\n${out}`);
      }
      return code;
    },
    stdout: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exit;
      }
      for (const res of held) res.destroy();
      api.closeAllConnections();
      await new Promise<void>((r) => api.close(() => r()));
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
  return run;
}

export const shutdownEvent = (deadlineMs = Date.now() + 2_000): ApiAnswer => ({
  status: 200,
  body: JSON.stringify({ eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs }),
});

export const invokeEvent = (requestId: string, deadlineMs: unknown): ApiAnswer => ({
  status: 200,
  body: JSON.stringify({
    eventType: 'INVOKE',
    requestId,
    deadlineMs,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sec-fn',
  }),
});

/** A loopback server that answers every request with `status` and `body`, recording the headers. */
export async function refusingServer(status: number, body: string) {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Posts a real SDK-encoded trace export request to the relay's OTLP/HTTP receiver. */
export async function postTraces(port: number, spans: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: await traceRequest(spans),
    signal: AbortSignal.timeout(5_000),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`the relay answered ${res.status} to ${spans} spans`);
}
