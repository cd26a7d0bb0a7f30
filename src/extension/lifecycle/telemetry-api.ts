// The Telemetry API (/2022-07-01): a listener for platform events and the subscription that points
// Lambda at it. Used for `platform.runtimeDone`, the end-of-invocation signal when the function does
// not send the relay's own "done" signal, and under SnapStart for `platform.initRuntimeDone`.
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../export/types.js';

export interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

export interface TelemetryListener {
  /** The URI given to Lambda; always with the `sandbox.localdomain` host, as Lambda requires. */
  uri: string;
  close(): Promise<void>;
}

const SANDBOX_HOST = 'sandbox.localdomain';
const TELEMETRY_BODY_MAX = 8 * 1024 * 1024;

/**
 * Binds where `sandbox.localdomain` resolves inside Lambda, else loopback (the local emulator maps
 * sandbox URIs to loopback). The lookup has a deadline: a resolver that hangs must not hold up init.
 */
export async function startTelemetryListener(
  port: number,
  onEvents: (events: TelemetryEvent[]) => void,
  log: Logger,
  lookupTimeoutMs = 250,
): Promise<TelemetryListener> {
  const host = await resolveSandboxHost(lookupTimeoutMs);
  // Bytes of unfinished bodies across all connections: Lambda delivers one batch at a time, so
  // several large bodies at once are not Lambda and must not add up in memory.
  let inflight = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let released = false;
    const release = () => {
      if (!released) inflight -= size;
      released = true;
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      inflight += c.length;
      // Lambda sends at most ~2 x maxBytes (1 MiB) per batch; anything far larger is not Lambda.
      if (size > TELEMETRY_BODY_MAX || inflight > TELEMETRY_BODY_MAX) {
        release();
        chunks.length = 0;
        req.destroy();
      } else chunks.push(c);
    });
    req.on('close', release);
    req.on('end', () => {
      release();
      res.writeHead(200).end();
      let events: unknown;
      try {
        events = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        log.debug('telemetry API sent a body that is not JSON; ignored', { error: err });
        return;
      }
      if (Array.isArray(events)) onEvents(events as TelemetryEvent[]);
    });
    req.on('error', () => res.destroy());
  });
  server.maxConnections = 16;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const bound = (server.address() as AddressInfo).port;
  return {
    uri: `http://${SANDBOX_HOST}:${bound}/`,
    // Lambda may keep its delivery connection open: close it too, or close() would wait for it.
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function resolveSandboxHost(timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      lookup(SANDBOX_HOST, { family: 4 }).then((r) => r.address),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      }),
    ]);
    return found ?? '127.0.0.1';
  } catch {
    return '127.0.0.1';
  } finally {
    clearTimeout(timer);
  }
}

/** PUT /2022-07-01/telemetry, with the smallest buffering Lambda allows (runtimeDone arrives sooner). */
export function subscribeTelemetry(
  runtimeApi: string,
  extensionId: string,
  uri: string,
  schemaVersion: '2022-12-13' | '2025-01-29',
  types: readonly string[] = ['platform'],
  timeoutMs = 2_000,
): Promise<void> {
  const body = JSON.stringify({
    schemaVersion,
    types,
    buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
    destination: { protocol: 'HTTP', URI: uri },
  });
  const i = runtimeApi.lastIndexOf(':');
  const host = i < 0 ? runtimeApi : runtimeApi.slice(0, i);
  const port = i < 0 ? 80 : Number(runtimeApi.slice(i + 1));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port,
        method: 'PUT',
        path: '/2022-07-01/telemetry',
        headers: {
          'Lambda-Extension-Identifier': extensionId,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 200) resolve();
          else
            reject(
              new Error(
                `telemetry subscription refused (${res.statusCode}): ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`,
              ),
            );
        });
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`telemetry subscription got no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}
