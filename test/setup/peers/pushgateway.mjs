// Prometheus Pushgateway, the peer of the pushgateway destination. v1.11.1 is the newest version the
// module proxy serves here (v1.11.2 is refused).
import { ensureGoBinary } from './go-binary.mjs';

export const PUSHGATEWAY_VERSION = 'v1.11.1';

/** @returns {Promise<string>} the path of the pushgateway binary */
export function ensurePushgateway({ verbose = false } = {}) {
  return ensureGoBinary({
    name: 'pushgateway',
    module: 'github.com/prometheus/pushgateway',
    pkg: 'github.com/prometheus/pushgateway',
    version: PUSHGATEWAY_VERSION,
    verbose,
  });
}
