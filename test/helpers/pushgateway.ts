import { ensurePushgateway } from '../setup/peers/pushgateway.mjs';
import { type HttpPeer, startHttpPeer } from './http-peer.js';
import { freePort } from './ports.js';

/** One group as the Pushgateway's API lists it (GET /api/v1/metrics). */
export interface PushgatewayGroup {
  labels: Record<string, string>;
  [metric: string]: unknown;
}

/** A real Pushgateway on a loopback port. */
export interface PushgatewayPeer extends HttpPeer {
  groups(): Promise<PushgatewayGroup[]>;
  /** The /metrics exposition text it serves to Prometheus. */
  metrics(): Promise<string>;
}

export async function startPushgateway(): Promise<PushgatewayPeer> {
  const binary = await ensurePushgateway();
  const port = await freePort();
  const peer = await startHttpPeer({
    name: 'pushgateway',
    command: binary,
    args: [`--web.listen-address=127.0.0.1:${port}`],
    port,
    readyPath: '/-/ready',
  });
  return {
    ...peer,
    async groups() {
      const r = await peer.get('/api/v1/metrics');
      if (r.status !== 200) throw new Error(`pushgateway: /api/v1/metrics answered ${r.status}: ${r.text}`);
      return (JSON.parse(r.text) as { data: PushgatewayGroup[] }).data;
    },
    async metrics() {
      return (await peer.get('/metrics')).text;
    },
  };
}
