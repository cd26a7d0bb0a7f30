// A thin typed client of the Lambda Extensions API (/2020-01-01) over node:http.
import http from 'node:http';

export interface InvokeEvent {
  eventType: 'INVOKE';
  deadlineMs: number;
  requestId: string;
  invokedFunctionArn: string;
  tracing?: { type: string; value: string };
}

export interface ShutdownEvent {
  eventType: 'SHUTDOWN';
  /** Lowercase on the wire (spindown | timeout | failure); compare case-insensitively. */
  shutdownReason: string;
  deadlineMs: number;
}

export type LifecycleEvent = InvokeEvent | ShutdownEvent;

export interface RegisterResult {
  extensionId: string;
  functionName?: string;
  functionVersion?: string;
  handler?: string;
}

export class ExtensionsApiError extends Error {
  override readonly name = 'ExtensionsApiError';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ExtensionsApiClient {
  register(name: string, events: ReadonlyArray<'INVOKE' | 'SHUTDOWN'>): Promise<RegisterResult>;
  /** Long poll with no timeout: the process is frozen inside this call between invocations. */
  next(): Promise<LifecycleEvent>;
  initError(errorType: string, message: string): Promise<void>;
  exitError(errorType: string, message: string): Promise<void>;
}

/**
 * `runtimeApi` is AWS_LAMBDA_RUNTIME_API ("host:port"); `registeredId` is the identifier when the
 * launcher has registered already.
 */
export function createExtensionsApiClient(runtimeApi: string, registeredId = ''): ExtensionsApiClient {
  const [host, portText] = splitHostPort(runtimeApi);
  const port = Number(portText ?? 80);
  // One socket, kept alive: the API is local, and a fresh connect per call is wasted time.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let extensionId = registeredId;

  const call = (
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
    timeoutMs?: number,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host, port, method, path: `/2020-01-01${path}`, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      });
      if (timeoutMs !== undefined) {
        req.setTimeout(timeoutMs, () =>
          req.destroy(new ExtensionsApiError(`${method} ${path} got no answer in ${timeoutMs} ms`)),
        );
      }
      req.on('error', (err) =>
        reject(
          err instanceof ExtensionsApiError
            ? err
            : new ExtensionsApiError(`${method} ${path} failed`, undefined, { cause: err }),
        ),
      );
      req.end(body);
    });

  const idHeader = () => ({ 'Lambda-Extension-Identifier': extensionId });

  return {
    async register(name, events) {
      const body = JSON.stringify({ events });
      // Registration is answered at once by the platform; a hang here would block the whole Init.
      const res = await call(
        'POST',
        '/extension/register',
        { 'Lambda-Extension-Name': name, 'Content-Type': 'application/json' },
        body,
        5_000,
      );
      if (res.status !== 200) {
        throw new ExtensionsApiError(`register was refused (${res.status}): ${res.body}`, res.status);
      }
      const id = res.headers['lambda-extension-identifier'];
      if (typeof id !== 'string' || id === '') {
        throw new ExtensionsApiError('register answered without a Lambda-Extension-Identifier header');
      }
      extensionId = id;
      const info = safeJson(res.body) as Partial<RegisterResult> | undefined;
      return {
        extensionId: id,
        functionName: info?.functionName,
        functionVersion: info?.functionVersion,
        handler: info?.handler,
      };
    },
    async next() {
      const res = await call('GET', '/extension/event/next', idHeader());
      if (res.status !== 200) {
        throw new ExtensionsApiError(`event/next was refused (${res.status}): ${res.body}`, res.status);
      }
      const ev = safeJson(res.body) as Partial<LifecycleEvent> | undefined;
      if (ev?.eventType === 'INVOKE' && typeof ev.requestId === 'string') {
        return { ...(ev as InvokeEvent), deadlineMs: Number(ev.deadlineMs) };
      }
      if (ev?.eventType === 'SHUTDOWN') {
        const s = ev as Partial<ShutdownEvent>;
        return {
          eventType: 'SHUTDOWN',
          shutdownReason: String(s.shutdownReason ?? 'unknown').toLowerCase(),
          deadlineMs: Number(s.deadlineMs),
        };
      }
      throw new ExtensionsApiError(`event/next returned an event this extension does not know: ${res.body}`);
    },
    async initError(errorType, message) {
      await call(
        'POST',
        '/extension/init/error',
        {
          ...idHeader(),
          'Lambda-Extension-Function-Error-Type': errorType,
          'Content-Type': 'application/json',
        },
        JSON.stringify({ errorType, errorMessage: message }),
        2_000,
      );
    },
    async exitError(errorType, message) {
      await call(
        'POST',
        '/extension/exit/error',
        {
          ...idHeader(),
          'Lambda-Extension-Function-Error-Type': errorType,
          'Content-Type': 'application/json',
        },
        JSON.stringify({ errorType, errorMessage: message }),
        2_000,
      );
    },
  };
}

function splitHostPort(hostPort: string): [string, string | undefined] {
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    return [hostPort.slice(1, end), hostPort.slice(end + 2) || undefined];
  }
  const i = hostPort.lastIndexOf(':');
  return i < 0 ? [hostPort, undefined] : [hostPort.slice(0, i), hostPort.slice(i + 1)];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
