// Jaeger v2 (all-in-one, in-memory storage), which takes OTLP natively: the relay's otlp destination
// pointed at it is the Jaeger integration. Read back through its query API.
import { ensureGoBinary } from './go-binary.mjs';

export const JAEGER_VERSION = 'v1.75.0';

/** @returns {Promise<string>} the path of the jaeger binary */
export function ensureJaeger({ verbose = false } = {}) {
  return ensureGoBinary({
    name: 'jaeger',
    module: 'github.com/jaegertracing/jaeger',
    pkg: 'github.com/jaegertracing/jaeger/cmd/jaeger',
    version: JAEGER_VERSION,
    verbose,
  });
}
