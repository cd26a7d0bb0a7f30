import { createServer } from 'node:net';

/**
 * A loopback port that was free a moment ago, for peers that cannot report the port they bound
 * (listen on 0 where the peer can). Another process may take it before it is used: callers that can
 * detect "address already in use" retry with a new one.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        addr && typeof addr === 'object'
          ? resolve(addr.port)
          : reject(new Error('ports: no port was assigned')),
      );
    });
  });
}
