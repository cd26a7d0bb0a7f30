import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectorLayerSkipReason, ensureCollectorLayer } from '../setup/peers/collector-layer.mjs';
import { cacheDir } from '../setup/peers.mjs';
import { freePort } from './ports.js';

export { collectorLayerSkipReason };

/**
 * The collector layer's pipelines as a user would configure them:
 * - `default`: OTLP in, OTLP/HTTP out, no processor (the layer's own config.yaml has no processor
 *   either; only its exporter, `debug`, is replaced by one that reaches the test collector);
 * - `batch`: `batch` then `decouple`, which the layer's docs recommend so the function returns before
 *   the export and exports are batched across invocations.
 */
export type CollectorLayerPipeline = 'default' | 'batch';

export interface CollectorLayerOptions {
  /** OTLP/HTTP base URL the layer's collector exports to (e.g. CollectorPeer.httpEndpoint). */
  exportTo: string;
  pipeline?: CollectorLayerPipeline;
  /**
   * The address the layer's OTLP receiver binds, seen from inside the environment. Default 127.0.0.1
   * (the environment's loopback: the host's in 'host' network mode, its own in 'isolated').
   */
  receiverHost?: string;
}

export interface CollectorLayer {
  /** The layers to give the environment: the built collector layer. */
  layers: string[];
  /**
   * Function variables: OPENTELEMETRY_COLLECTOR_CONFIG_URI, the layer's documented way to use a
   * configuration other than its default /opt/collector-config/config.yaml.
   */
  env: Record<string, string>;
  /** OTLP/HTTP base URL of the layer's receiver, for the function's exporter (append /v1/traces). */
  endpoint: string;
  /** The configuration written, for error messages. */
  config: string;
  /** Removes the configuration file. */
  dispose(): void;
}

/** The layer's collector configuration for one pipeline. */
export function collectorLayerConfig(
  pipeline: CollectorLayerPipeline,
  receiver: string,
  exportTo: string,
): string {
  const processors = pipeline === 'batch' ? '[batch, decouple]' : '[]';
  return `receivers:
  otlp:
    protocols:
      http: { endpoint: "${receiver}" }
processors:
  batch: {}
  decouple: {}
exporters:
  otlphttp:
    endpoint: "${exportTo}"
service:
  # No self-metrics server: it would bind a fixed port, shared by every environment on the host network.
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], processors: ${processors}, exporters: [otlphttp] }
    metrics: { receivers: [otlp], processors: ${processors}, exporters: [otlphttp] }
    logs: { receivers: [otlp], processors: ${processors}, exporters: [otlphttp] }
`;
}

/**
 * The OpenTelemetry Lambda collector layer (built on first use, see test/setup/peers/collector-layer.mjs),
 * unmodified, with a configuration for the given pipeline and a free receiver port. Throws when
 * the source setting is absent: callers skip first with collectorLayerSkipReason().
 */
export async function prepareCollectorLayer(opts: CollectorLayerOptions): Promise<CollectorLayer> {
  const layer = await ensureCollectorLayer();
  const receiver = `${opts.receiverHost ?? '127.0.0.1'}:${await freePort()}`;
  const config = collectorLayerConfig(opts.pipeline ?? 'default', receiver, opts.exportTo);
  // Not under /tmp: an environment with a mount namespace has a private /tmp.
  const scratch = join(cacheDir(), 'scratch');
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'collector-config-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, config);
  return {
    layers: [layer],
    env: { OPENTELEMETRY_COLLECTOR_CONFIG_URI: `file:${file}` },
    endpoint: `http://${receiver}`,
    config,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
