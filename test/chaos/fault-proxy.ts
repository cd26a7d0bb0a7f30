// A loopback HTTP proxy that injects faults between the relay and a real peer (collector or S3):
// refuse connections, reset them, answer with a status (500, 400, 429 + Retry-After, 403), hang, or
// delay. Ephemeral port; the mode can change while the relay runs.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultMode =
  | { kind: 'pass' }
  /** Accepts and immediately destroys the connection (ECONNRESET / socket hang up). */
  | { kind: 'reset' }
  /** Answers every request with this status (and headers/body) without reaching the peer. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Reads the request and never answers. */
  | { kind: 'hang' }
  /** Forwards after a delay. */
  | { kind: 'delay'; ms: number }
  /** Forwards the first `n` requests, then resets every connection (a peer that dies mid-batch). */
  | { kind: 'pass-then-reset'; n: number };

export interface FaultProxy {
  url: string;
  port: number;
  setMode(mode: FaultMode): void;
  /** Closes every open connection, as a peer or NAT does to idle keep-alive sockets during a freeze. */
  dropConnections(): void;
  /** Requests seen (forwarded or not), by path, with their headers (to see what the relay sent). */
  requests: Array<{
    method: string;
    path: string;
    mode: FaultMode['kind'];
    headers: http.IncomingHttpHeaders;
  }>;
  close(): Promise<void>;
}

export async function startFaultProxy(
  target: string,
  mode: FaultMode = { kind: 'pass' },
): Promise<FaultProxy> {
  const upstream = new URL(target);
  let current = mode;
  let forwarded = 0;
  const sockets = new Set<Socket>();
  const requests: FaultProxy['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      mode: current.kind,
      headers: req.headers,
    });
    const m = current;
    if (m.kind === 'reset' || (m.kind === 'pass-then-reset' && forwarded >= m.n)) {
      req.socket.destroy();
      return;
    }
    if (m.kind === 'hang') {
      req.resume();
      return;
    }
    if (m.kind === 'status') {
      req.resume();
      req.on('end', () => res.writeHead(m.status, m.headers ?? {}).end(m.body ?? ''));
      return;
    }
    const forward = () => {
      forwarded++;
      const out = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => req.socket.destroy());
      req.pipe(out);
    };
    if (m.kind === 'delay') setTimeout(forward, m.ms);
    else forward();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setMode(next) {
      current = next;
      // Kept-alive connections must see the new mode too.
      if (next.kind !== 'pass') for (const s of sockets) s.destroy();
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
