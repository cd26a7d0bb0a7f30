// A loopback HTTP proxy in front of moto that injects the Lambda API behaviour moto does not model:
// conflicts from concurrent updates, access denied, and updates that stay InProgress for a while.
// Everything else reaches the real moto server unchanged.
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Fault {
  method: string;
  /** Matched against the URL path, e.g. /functions\/[^/]+\/configuration$/. */
  path: RegExp;
  /** How many matching requests this fault applies to; then it is spent. */
  times: number;
  /** Answer without forwarding: an AWS JSON error. */
  error?: { status: number; type: string; message: string };
  /** Forward, then rewrite the JSON body of moto's answer. */
  rewrite?: (body: Record<string, unknown>) => Record<string, unknown>;
}

export interface SeenRequest {
  method: string;
  path: string;
}

export interface FaultProxy {
  endpoint: string;
  inject(fault: Fault): void;
  /** Requests seen since the last reset, in order. */
  seen(): SeenRequest[];
  count(method: string, path: RegExp): number;
  reset(): void;
  close(): Promise<void>;
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  let faults: Fault[] = [];
  let seen: SeenRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    try {
      const method = req.method ?? 'GET';
      const path = new URL(req.url ?? '/', 'http://proxy').pathname;
      seen.push({ method, path });
      const body = await readBody(req);
      const fault = faults.find((f) => f.times > 0 && f.method === method && f.path.test(path));
      if (fault) fault.times--;
      if (fault?.error) {
        res.writeHead(fault.error.status, {
          'content-type': 'application/json',
          'x-amzn-errortype': fault.error.type,
          'x-amzn-requestid': 'fault-proxy',
        });
        res.end(JSON.stringify({ Type: 'User', message: fault.error.message }));
        return;
      }
      const upstreamRes = await new Promise<IncomingMessage>((resolve, reject) => {
        const up = request(
          {
            host: target.hostname,
            port: target.port,
            method,
            path: req.url,
            headers: req.headers,
            timeout: 20_000,
          },
          resolve,
        );
        up.on('timeout', () => up.destroy(new Error('moto did not answer within 20 s')));
        up.on('error', reject);
        up.end(body);
      });
      let answer = await readBody(upstreamRes);
      const headers = { ...upstreamRes.headers };
      if (fault?.rewrite) {
        answer = Buffer.from(JSON.stringify(fault.rewrite(JSON.parse(answer.toString('utf8')))));
        headers['content-length'] = String(answer.length);
      }
      res.writeHead(upstreamRes.statusCode ?? 502, headers);
      res.end(answer);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault proxy: ${String(err)}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    inject: (fault) => {
      faults.push({ ...fault });
    },
    seen: () => [...seen],
    count: (method, path) => seen.filter((s) => s.method === method && path.test(s.path)).length,
    reset: () => {
      faults = [];
      seen = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
