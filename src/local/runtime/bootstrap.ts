// The emulated Node.js managed runtime: the function process the local emulator launches. It behaves
// like the managed runtime's interface client (NodeRIC) where a handler can tell the difference:
// module loading (ESM and CommonJS), async and callback handlers, the context object, console calls
// framed to the telemetry log fd, `_X_AMZN_TRACE_ID` per invoke, and crash exits (129 / 128).
// SnapStart: the managed Node.js runtime has no public runtime-hook API, so the emulator offers
// `awslambda.registerBeforeSnapshot(fn)` / `awslambda.registerAfterRestore(fn)`, shaped like the Python
// and .NET ones (before-snapshot hooks run in reverse order of registration, after-restore hooks in
// order), over the real Runtime API calls: GET /runtime/restore/next, POST /runtime/restore/error.
// It is bundled to dist/local/runtime.mjs and must not import anything outside node: built-ins.
import { existsSync, readFileSync, writeSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format, types } from 'node:util';

type Handler = (event: unknown, context: LambdaContext, callback: Callback) => unknown;
type Callback = (err?: unknown, result?: unknown) => void;
interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  identity?: unknown;
  clientContext?: unknown;
  tenantId?: string;
  getRemainingTimeInMillis(): number;
  succeed(result?: unknown): void;
  fail(err?: unknown): void;
  done(err?: unknown, result?: unknown): void;
}
interface RapidError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

const RUNTIME_PATH = '/2018-06-01/runtime';
const [apiHost = '127.0.0.1', apiPort = '9001'] = (process.env.AWS_LAMBDA_RUNTIME_API ?? '').split(':');
const concurrency = Math.max(1, Number(process.env.AWS_LAMBDA_MAX_CONCURRENCY ?? '1') || 1);
// NodeRIC keeps one keep-alive connection per worker; idle sockets are unref'd by the agent, so they
// never hold the event loop open (which matters for callbackWaitsForEmptyEventLoop).
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency + 1 });

// ---- errors (names as NodeRIC gives them: the errorType the platform reports) ----
class RuntimeError extends Error {
  constructor(name: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = `Runtime.${name}`;
  }
}

function toRapidError(error: unknown): RapidError {
  if (types.isNativeError(error) || isErrorLike(error)) {
    const e = error as Error;
    return { errorType: e.name, errorMessage: e.message, trace: String(e.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

function isErrorLike(v: unknown): v is Error {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Error).name === 'string' &&
    typeof (v as Error).message === 'string' &&
    typeof (v as Error).stack === 'string'
  );
}

// ---- the Runtime API client ----
interface ApiReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function call(
  method: string,
  path: string,
  headers: http.OutgoingHttpHeaders,
  body?: string,
): Promise<ApiReply> {
  return new Promise((resolvePromise, reject) => {
    const req = http.request(
      { host: apiHost, port: Number(apiPort), method, path, agent, headers },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          data += chunk;
        });
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: data }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function serialize(value: unknown): string {
  try {
    return JSON.stringify(value === undefined ? null : value) ?? 'null';
  } catch (err) {
    throw new Error('Unable to stringify response body', { cause: err });
  }
}

async function postError(path: string, error: unknown): Promise<void> {
  const body = toRapidError(error);
  const text = serialize(body);
  await call(
    'POST',
    path,
    {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'Lambda-Runtime-Function-Error-Type': body.errorType,
    },
    text,
  ).catch(() => undefined);
}

// ---- console -> telemetry log frames ----
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const globals = globalThis as unknown as Record<symbol, string | undefined>;
const levels = {
  TRACE: { priority: 1, mask: 0b00100 },
  DEBUG: { priority: 2, mask: 0b01000 },
  INFO: { priority: 3, mask: 0b01100 },
  WARN: { priority: 4, mask: 0b10000 },
  ERROR: { priority: 5, mask: 0b10100 },
  FATAL: { priority: 6, mask: 0b11000 },
} as const;
type Level = keyof typeof levels;

function patchConsole(): void {
  const json = process.env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  const fdText = process.env._LAMBDA_TELEMETRY_LOG_FD;
  delete process.env._LAMBDA_TELEMETRY_LOG_FD;
  const fd = fdText === undefined ? undefined : Number(fdText);
  const minLevel =
    levels[(process.env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase() ?? 'TRACE') as Level] ?? levels.TRACE;
  const header = Buffer.alloc(16);
  const write = (level: Level, params: unknown[]): void => {
    const date = new Date();
    const requestId = globals[REQUEST_ID];
    const message = json
      ? JSON.stringify({ timestamp: date.toISOString(), level, requestId, message: format(...params) })
      : `${date.toISOString()}\t${requestId}\t${level}\t${format(...params)}\n`;
    if (fd === undefined) {
      process.stdout.write(`${message.replace(/\n(?!$)/g, '\r').replace(/\n?$/, '')}\n`);
      return;
    }
    // One console call is one frame, however many lines it has: one telemetry record.
    const bytes = Buffer.from(message, 'utf8');
    header.writeUInt32BE(((json ? 0xa55a0002 : 0xa55a0003) | levels[level].mask) >>> 0, 0);
    header.writeInt32BE(bytes.length, 4);
    header.writeBigInt64BE(BigInt(date.getTime()) * 1000n, 8);
    writeSync(fd, header);
    writeSync(fd, bytes);
  };
  const make =
    (level: Level) =>
    (...params: unknown[]): void => {
      if (levels[level].priority >= minLevel.priority) write(level, params);
    };
  console.trace = make('TRACE');
  console.debug = make('DEBUG');
  console.info = make('INFO');
  console.log = console.info;
  console.warn = make('WARN');
  console.error = make('ERROR');
  (console as unknown as Record<string, unknown>).fatal = make('FATAL');
}

// ---- loading the handler ----
const STREAM = Symbol.for('aws.lambda.runtime.handler.streaming');
const isStreaming = (handler: Handler): boolean =>
  Boolean((handler as unknown as Record<symbol, unknown>)[STREAM]);

async function loadHandler(taskRoot: string, handlerString: string): Promise<Handler> {
  const slash = handlerString.lastIndexOf('/');
  const dir = handlerString.slice(0, slash + 1);
  const rest = handlerString.slice(slash + 1);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) {
    throw new RuntimeError('MalformedHandlerName', `'${handlerString}' is not a valid handler name.`);
  }
  const moduleName = dir + rest.slice(0, dot);
  const exportPath = rest.slice(dot + 1).split('.');
  const base = resolve(taskRoot, moduleName);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) {
    throw new RuntimeError('ImportModuleError', `Error: Cannot find module '${moduleName}'`);
  }
  let mod: unknown;
  try {
    if (file.endsWith('.mjs') || (file.endsWith('.js') && isModulePackage(dirname(file)))) {
      mod = await import(pathToFileURL(file).href);
    } else {
      mod = createRequire(join(taskRoot, 'noop.js'))(file);
    }
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new RuntimeError('UserCodeSyntaxError', `${err.name}: ${err.message}`, { cause: err });
    }
    const code = (err as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new RuntimeError('ImportModuleError', `Error: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
  let target: unknown = mod;
  for (const key of exportPath) {
    target = target === null || target === undefined ? undefined : (target as Record<string, unknown>)[key];
  }
  if (typeof target !== 'function') {
    throw new RuntimeError('HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  return target as Handler;
}

function isModulePackage(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(d) === d) return false;
  }
}

// ---- error hooks: NodeRIC posts the error, then exits 129 (uncaught) or 128 (rejection) ----
let currentInvokeId: string | undefined;
let initDone = false;

function crash(error: unknown, exitCode: number): void {
  console.error(initDone ? 'Invoke Error' : 'Init Error', serialize(toRapidError(error)));
  const path = initDone
    ? `${RUNTIME_PATH}/invocation/${encodeURIComponent(currentInvokeId ?? 'none')}/error`
    : `${RUNTIME_PATH}/init/error`;
  void postError(path, error).finally(() => process.exit(exitCode));
}

process.on('uncaughtException', (err) => crash(err, 129));
process.on('unhandledRejection', (reason) => {
  const error = new RuntimeError(
    'UnhandledPromiseRejection',
    String(reason instanceof Error ? reason : reason),
    {
      cause: reason,
    },
  );
  if (reason instanceof Error) error.stack = reason.stack;
  crash(error, 128);
});

// One beforeExit listener; what it does depends on the invoke in progress.
let onBeforeExit: (() => void) | undefined;
process.on('beforeExit', () => {
  const f = onBeforeExit;
  onBeforeExit = undefined;
  f?.();
});

/** The data part of the context object, shared by buffered and streaming invokes. */
function invokeFields(h: http.IncomingHttpHeaders, requestId: string, deadline: number) {
  const env = process.env;
  const parseJson = (v: string | string[] | undefined): unknown => {
    if (typeof v !== 'string') return undefined;
    try {
      return JSON.parse(v);
    } catch {
      return undefined;
    }
  };
  return {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '',
    invokedFunctionArn: String(h['lambda-runtime-invoked-function-arn'] ?? ''),
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
    awsRequestId: requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    identity: parseJson(h['lambda-runtime-cognito-identity']),
    clientContext: parseJson(h['lambda-runtime-client-context']),
    ...(typeof h['lambda-runtime-aws-tenant-id'] === 'string'
      ? { tenantId: h['lambda-runtime-aws-tenant-id'] }
      : {}),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

/**
 * A streaming invoke (awslambda.streamifyResponse): the handler writes to the /response request
 * itself (chunked); an error after the first byte goes in the trailers, as NodeRIC does.
 */
function runStreamingInvoke(
  handler: Handler,
  next: ApiReply,
  requestId: string,
  deadline: number,
  base: string,
): Promise<void> {
  return new Promise<void>((done) => {
    const req = http.request(
      {
        host: apiHost,
        port: Number(apiPort),
        method: 'POST',
        path: `${base}/response`,
        agent,
        headers: {
          'Lambda-Runtime-Function-Response-Mode': 'streaming',
          'Transfer-Encoding': 'chunked',
          Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
          'Content-Type': 'application/octet-stream',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => done());
      },
    );
    req.on('error', () => done());
    const stream = Object.assign(req, {
      setContentType: (type: string) => req.setHeader('Content-Type', type),
    });
    const fail = (err: unknown): void => {
      const body = toRapidError(err);
      console.error('Invoke Error', serialize(body));
      if (req.writableEnded) return;
      req.addTrailers({
        'Lambda-Runtime-Function-Error-Type': body.errorType,
        'Lambda-Runtime-Function-Error-Body': Buffer.from(serialize(body)).toString('base64'),
      });
      req.end();
    };
    let event: unknown;
    try {
      event = JSON.parse(next.body || 'null');
    } catch {
      event = next.body;
    }
    const context = {
      callbackWaitsForEmptyEventLoop: false,
      ...invokeFields(next.headers, requestId, deadline),
    };
    const streaming = handler as unknown as (e: unknown, s: typeof stream, c: typeof context) => unknown;
    Promise.resolve()
      .then(() => streaming(event, stream, context))
      .then(() => {
        if (!req.writableEnded) fail(new Error('Response stream is not finished.'));
      }, fail);
  });
}

// ---- one invocation ----
function isPromise(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}

function runInvoke(handler: Handler, next: ApiReply): Promise<void> {
  const h = next.headers;
  const requestId = String(h['lambda-runtime-aws-request-id'] ?? '');
  const deadline = Number(h['lambda-runtime-deadline-ms'] ?? 0);
  const traceId = h['lambda-runtime-trace-id'];
  if (typeof traceId === 'string') process.env._X_AMZN_TRACE_ID = traceId;
  else delete process.env._X_AMZN_TRACE_ID;
  globals[REQUEST_ID] = requestId;
  currentInvokeId = requestId;
  const base = `${RUNTIME_PATH}/invocation/${encodeURIComponent(requestId)}`;
  if (isStreaming(handler)) {
    return runStreamingInvoke(handler, next, requestId, deadline, base);
  }

  return new Promise<void>((done) => {
    let completed = false;
    const complete = (kind: 'response' | 'error', payload: unknown): void => {
      if (completed) {
        console.error(
          'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
        );
        return;
      }
      completed = true;
      onBeforeExit = undefined;
      if (kind === 'error') {
        console.error('Invoke Error', serialize(toRapidError(payload)));
        void postError(`${base}/error`, payload).then(() => done());
        return;
      }
      let text: string;
      try {
        text = serialize(payload);
      } catch (err) {
        completed = false;
        complete('error', err);
        return;
      }
      call(
        'POST',
        `${base}/response`,
        { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
        text,
      ).then(
        (reply) => {
          // A 413 needs nothing more from the runtime: the platform already turned the oversized
          // response into a Function.ResponseSizeTooLarge error.
          if (reply.status >= 400)
            console.error(`Runtime API refused the response (${reply.status}): ${reply.body}`);
          done();
        },
        () => done(),
      );
    };

    let waitForEmptyEventLoop = true;
    let finished = false;
    const once =
      <A extends unknown[]>(f: (...args: A) => void) =>
      (...args: A): void => {
        if (finished) return;
        finished = true;
        f(...args);
      };
    const callback: Callback = once((err?: unknown, result?: unknown) => {
      onBeforeExit = undefined;
      if (err !== undefined && err !== null) complete('error', err);
      else if (!waitForEmptyEventLoop) complete('response', result);
      else onBeforeExit = () => setImmediate(() => complete('response', result));
    });
    const doneFn = once((err?: unknown, result?: unknown) => {
      if (err !== undefined && err !== null) complete('error', err);
      else complete('response', result);
    });
    const context: LambdaContext = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value: boolean) {
        waitForEmptyEventLoop = value;
      },
      ...invokeFields(h, requestId, deadline),
      succeed: (result?: unknown) => doneFn(null, result),
      fail: (err?: unknown) => doneFn(err ?? 'handled'),
      done: doneFn,
    };

    const isAsync = types.isAsyncFunction(handler);
    // If the loop empties before a callback handler answers, NodeRIC posts null; for an async
    // handler whose promise can never settle, it posts Runtime.NodeJsExit.
    onBeforeExit = () => {
      finished = true;
      if (isAsync) {
        complete(
          'error',
          new RuntimeError(
            'NodeJsExit',
            'Error: Runtime exited without providing a reason. The function returned before its promise settled.',
          ),
        );
      } else complete('response', null);
    };
    let event: unknown;
    try {
      event = JSON.parse(next.body || 'null');
    } catch {
      event = next.body;
    }
    try {
      const result = handler(event, context, callback);
      if (isPromise(result)) {
        result.then(
          (value) => doneFn(null, value),
          (err: unknown) => doneFn(err ?? 'handled'),
        );
      }
    } catch (err) {
      callback(err);
    }
  });
}

async function worker(handler: Handler): Promise<never> {
  for (;;) {
    let next: ApiReply;
    try {
      next = await call('GET', `${RUNTIME_PATH}/invocation/next`, {});
    } catch (err) {
      // The Runtime API is gone: the environment is being torn down.
      console.error('Runtime API unreachable', String(err));
      process.exit(1);
    }
    if (next.status !== 200) {
      console.error(`Runtime API /next answered ${next.status}: ${next.body}`);
      process.exit(1);
    }
    await runInvoke(handler, next);
    // NodeRIC starts the next poll on setImmediate, never waiting for an empty event loop.
    await new Promise<void>((r) => setImmediate(r));
  }
}

// ---- SnapStart runtime hooks ----
type RuntimeHook = () => unknown;
const beforeSnapshotHooks: RuntimeHook[] = [];
const afterRestoreHooks: RuntimeHook[] = [];

function hookRegistrar(list: RuntimeHook[], what: string) {
  return (fn: RuntimeHook): void => {
    if (typeof fn !== 'function') throw new TypeError(`awslambda.${what} expects a function`);
    list.push(fn);
  };
}

/**
 * SnapStart's end of Init and its Restore phase, as managed runtimes drive them: before-snapshot hooks,
 * then GET /runtime/restore/next (answered only after the restore), then after-restore hooks. A
 * failing hook is reported (init/error, restore/error) and the runtime exits (64 / 65, as the Python
 * runtime does).
 */
async function snapshotAndRestore(): Promise<void> {
  try {
    for (const hook of [...beforeSnapshotHooks].reverse()) await hook();
  } catch (err) {
    const error = new RuntimeError('BeforeSnapshotError', String(err), { cause: err });
    console.error('Before snapshot hook failed', serialize(toRapidError(err)));
    await postError(`${RUNTIME_PATH}/init/error`, error);
    process.exit(64);
  }
  let restored: ApiReply;
  try {
    restored = await call('GET', `${RUNTIME_PATH}/restore/next`, {});
  } catch (err) {
    console.error('Runtime API unreachable', String(err));
    process.exit(1);
  }
  if (restored.status !== 200) {
    console.error(`Runtime API /restore/next answered ${restored.status}: ${restored.body}`);
    process.exit(1);
  }
  try {
    for (const hook of afterRestoreHooks) await hook();
  } catch (err) {
    const error = new RuntimeError('AfterRestoreError', String(err), { cause: err });
    console.error('After restore hook failed', serialize(toRapidError(err)));
    await postError(`${RUNTIME_PATH}/restore/error`, error);
    process.exit(65);
  }
}

async function main(): Promise<void> {
  patchConsole();
  const g = globalThis as unknown as Record<string, unknown>;
  g.awslambda = {
    registerBeforeSnapshot: hookRegistrar(beforeSnapshotHooks, 'registerBeforeSnapshot'),
    registerAfterRestore: hookRegistrar(afterRestoreHooks, 'registerAfterRestore'),
    streamifyResponse: (fn: Handler) => Object.assign(fn, { [STREAM]: 'response' }),
    HttpResponseStream: {
      // A JSON prelude (statusCode, headers, cookies) then 8 NUL bytes, then the body.
      from: (stream: http.ClientRequest & { setContentType(t: string): void }, prelude: unknown) => {
        stream.setContentType('application/vnd.awslambda.http-integration-response');
        stream.write(JSON.stringify(prelude));
        stream.write(Buffer.alloc(8));
        return stream;
      },
    },
  };
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const handlerString = process.env._HANDLER ?? '';
  let handler: Handler;
  try {
    handler = await loadHandler(taskRoot, handlerString);
    const major = Number(process.versions.node.split('.')[0]);
    if (major >= 24 && handler.length >= 3 && !types.isAsyncFunction(handler) && !isStreaming(handler)) {
      throw new RuntimeError(
        'CallbackHandlerDeprecated',
        'Callback-based function handlers are not supported on Node.js 24 and later. Use an async handler.',
      );
    }
  } catch (err) {
    crash(err, 129);
    return;
  }
  if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'snap-start') await snapshotAndRestore();
  initDone = true;
  for (let i = 0; i < concurrency; i++) void worker(handler);
}

void main();
