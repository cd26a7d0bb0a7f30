import { ensureZipkin } from '../setup/peers/zipkin.mjs';
import { type HttpPeer, startHttpPeer } from './http-peer.js';
import { freePort } from './ports.js';

/** A real Zipkin server (in-memory storage) on a free loopback port. */
export interface ZipkinPeer extends HttpPeer {
  /** The spans endpoint to give the zipkin destination. */
  spansEndpoint: string;
  /** GET /api/v2/trace/{id}: the spans Zipkin stored for that trace ([] while it has none). */
  trace(traceId: string): Promise<Array<Record<string, unknown>>>;
}

export async function startZipkin(): Promise<ZipkinPeer> {
  const { jar, java } = await ensureZipkin();
  const port = await freePort();
  const peer = await startHttpPeer({
    name: 'zipkin',
    command: java,
    args: ['-Xmx256m', '-jar', jar, `--server.port=${port}`, '--server.address=127.0.0.1'],
    port,
    readyPath: '/health',
    startTimeoutMs: 90_000,
  });
  return {
    ...peer,
    spansEndpoint: `${peer.url}/api/v2/spans`,
    async trace(traceId) {
      const r = await peer.get(`/api/v2/trace/${traceId}`);
      if (r.status === 404) return [];
      if (r.status !== 200)
        throw new Error(`zipkin: GET /api/v2/trace/${traceId} answered ${r.status}: ${r.text}`);
      return JSON.parse(r.text) as Array<Record<string, unknown>>;
    },
  };
}
