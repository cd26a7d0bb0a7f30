// Prometheus server, the peer of the prometheusremotewrite destination (started with
// --web.enable-remote-write-receiver). Only cmd/prometheus is built, without the service discovery
// plugins (build tag remove_all_sd): the tests scrape nothing, and the cloud SDKs those plugins pull
// in made the build exceed 45 minutes on 2 shared cores. The web UI's assets are not needed.
import { ensureGoBinary } from './go-binary.mjs';

export const PROMETHEUS_VERSION = 'v0.316.0';

/** @returns {Promise<string>} the path of the prometheus binary */
export function ensurePrometheus({ verbose = false } = {}) {
  return ensureGoBinary({
    name: 'prometheus',
    module: 'github.com/prometheus/prometheus',
    pkg: 'github.com/prometheus/prometheus/cmd/prometheus',
    version: PROMETHEUS_VERSION,
    tags: ['remove_all_sd'],
    verbose,
  });
}
