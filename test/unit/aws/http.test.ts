// The small HTTP client under the S3 calls, against real loopback servers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRequestError, httpRequest } from '../../../src/aws/index.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
}

describe('httpRequest', () => {
  it('re-sends once on a fresh connection when a kept-alive socket was closed by the peer', async () => {
    // Each socket answers its first request; a second request on the same socket is cut off, as a
    // peer that dropped an idle connection during a freeze would.
    const served = new WeakMap<Socket, number>();
    let sockets = 0;
    const url = await listen((req, res) => {
      const n = served.get(req.socket) ?? 0;
      if (n === 0) sockets++;
      served.set(req.socket, n + 1);
      if (n > 0) {
        req.socket.destroy();
        return;
      }
      res.end('ok');
    });
    const first = await httpRequest(url, { method: 'GET' }, { timeoutMs: 2000 });
    const second = await httpRequest(url, { method: 'GET' }, { timeoutMs: 2000 });
    expect(Buffer.from(first.body).toString()).toBe('ok');
    expect(Buffer.from(second.body).toString()).toBe('ok');
    expect(sockets).toBe(2);
  });

  it('gives up at its deadline with a timeout error', async () => {
    const url = await listen(() => {});
    const err = await httpRequest(url, { method: 'GET' }, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpRequestError);
    expect((err as HttpRequestError).kind).toBe('timeout');
  });

  it('stops when its abort signal fires', async () => {
    const url = await listen(() => {});
    const ac = new AbortController();
    const pending = httpRequest(url, { method: 'GET' }, { timeoutMs: 10_000, signal: ac.signal });
    ac.abort();
    const err = await pending.catch((e: unknown) => e);
    expect((err as HttpRequestError).kind).toBe('aborted');
  });

  it('reports a refused connection as a network error', async () => {
    const url = await listen((_req, res) => res.end());
    server?.close();
    await new Promise((r) => setTimeout(r, 10));
    const err = await httpRequest(url, { method: 'GET' }, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect((err as HttpRequestError).kind).toBe('network');
  });
});
