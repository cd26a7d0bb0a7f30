// One HTTP server per environment on 127.0.0.1:0 (an isolated network: its host address) serves the Runtime, Extensions and Telemetry APIs
// (AWS_LAMBDA_RUNTIME_API). Long polls (`next`) are held as open Replies until an event is released.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Responses above 6 MiB (+100 bytes of slack, as RIE allows) are refused with 413. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;
/** Streamed responses may reach 20 MiB (the soft limit of response streaming). */
export const MAX_STREAMED_RESPONSE_BYTES = 20 * 1024 * 1024;
/** Bodies of the other calls (register, subscribe, errors) are small; cap them anyway. */
const MAX_CONTROL_BYTES = 1024 * 1024;

export interface ApiRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body exceeded the cap and was not kept. */
  tooLarge: boolean;
  /** Trailers (streamed responses). */
  trailers: NodeJS.Dict<string>;
  /** Epoch ms the request's headers arrived, from the environment's clock. */
  startedAt: number;
  /** Epoch ms the request was complete. */
  receivedAt: number;
}

export class Reply {
  private sent = false;
  private closedFlag = false;

  constructor(private readonly res: http.ServerResponse) {
    res.on('close', () => {
      this.closedFlag = true;
    });
  }

  /** The caller went away (its process died) or the reply was sent. */
  get done(): boolean {
    return this.sent || this.closedFlag || this.res.destroyed;
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): boolean {
    return this.raw(status, JSON.stringify(body), { 'Content-Type': 'application/json', ...headers });
  }

  raw(status: number, body: string, headers: Record<string, string> = {}): boolean {
    if (this.done) return false;
    this.sent = true;
    this.res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
    this.res.end(body);
    return true;
  }

  error(status: number, errorType: string, errorMessage: string): boolean {
    return this.json(status, { errorType, errorMessage });
  }
}

export type ApiHandler = (req: ApiRequest, reply: Reply) => void;

export interface ApiServer {
  port: number;
  close(): Promise<void>;
}

/** `host`: the address the environment's processes reach the emulator at (loopback, or an isolated network's host side). */
export async function startApiServer(
  handle: ApiHandler,
  now: () => number,
  host = '127.0.0.1',
): Promise<ApiServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const isResponse = /\/runtime\/invocation\/[^/]+\/response$/.test(path);
    const streamed = req.headers['lambda-runtime-function-response-mode'] === 'streaming';
    const cap = isResponse
      ? streamed
        ? MAX_STREAMED_RESPONSE_BYTES
        : MAX_RESPONSE_BYTES
      : MAX_CONTROL_BYTES;
    const startedAt = now();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        tooLarge = true;
        chunks.length = 0;
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      const reply = new Reply(res);
      try {
        handle(
          {
            method: req.method ?? 'GET',
            path,
            headers: req.headers,
            body: Buffer.concat(chunks),
            tooLarge,
            trailers: req.trailers,
            startedAt,
            receivedAt: now(),
          },
          reply,
        );
      } catch (err) {
        reply.error(500, 'ServiceException', `local emulator error: ${(err as Error).message}`);
      }
    });
  });
  // Processes are frozen for arbitrary times between invokes, and parked in long polls: no
  // server-side timeout may close their connections (a closed idle socket would be reset on thaw).
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.timeout = 0;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
