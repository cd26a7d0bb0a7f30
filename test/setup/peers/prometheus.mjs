// Prometheus server, the peer of the prometheusremotewrite destination (started with
// --web.enable-remote-write-receiver). Only cmd/prometheus is built; the web UI's assets are not
// needed (the API answers without them).
import { ensureGoBinary } from './go-binary.mjs';

export const PROMETHEUS_VERSION = 'v0.316.0';

/** @returns {Promise<string>} the path of the prometheus binary */
export function ensurePrometheus({ verbose = false } = {}) {
  return ensureGoBinary({
    name: 'prometheus',
    module: 'github.com/prometheus/prometheus',
    pkg: 'github.com/prometheus/prometheus/cmd/prometheus',
    version: PROMETHEUS_VERSION,
    verbose,
  });
}
