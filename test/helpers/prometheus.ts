import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrometheus } from '../setup/peers/prometheus.mjs';
import { type HttpPeer, startHttpPeer } from './http-peer.js';
import { freePort } from './ports.js';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A real Prometheus server with the remote write receiver on, scraping nothing, on a loopback port. */
export interface PrometheusPeer extends HttpPeer {
  /** The remote write URL to give the prometheusremotewrite destination. */
  writeEndpoint: string;
  /** PromQL instant query at `time` (seconds; default now): the vector result. */
  query(promql: string, time?: number): Promise<PromSample[]>;
}

export async function startPrometheus(opts: { outOfOrderWindow?: string } = {}): Promise<PrometheusPeer> {
  const binary = await ensurePrometheus();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'relay-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  const ooo = opts.outOfOrderWindow
    ? `storage:\n  tsdb:\n    out_of_order_time_window: ${opts.outOfOrderWindow}\n`
    : '';
  writeFileSync(config, `global:\n  scrape_interval: 1h\n${ooo}scrape_configs: []\n`);
  const peer = await startHttpPeer({
    name: 'prometheus',
    command: binary,
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ],
    port,
    readyPath: '/-/ready',
  });
  return {
    ...peer,
    writeEndpoint: `${peer.url}/api/v1/write`,
    async query(promql, time) {
      const q = new URLSearchParams({ query: promql });
      if (time !== undefined) q.set('time', String(time));
      const r = await peer.get(`/api/v1/query?${q}`);
      if (r.status !== 200) throw new Error(`prometheus: query ${promql} answered ${r.status}: ${r.text}`);
      const parsed = JSON.parse(r.text) as { data: { result: PromSample[] } };
      return parsed.data.result;
    },
    async stop() {
      await peer.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
