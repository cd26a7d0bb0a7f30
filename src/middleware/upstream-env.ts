// In a function with the layer, OTEL_EXPORTER_OTLP_{ENDPOINT,HEADERS,TIMEOUT,COMPRESSION,CERTIFICATE,...}
// (and their TRACES_/METRICS_/LOGS_ variants) configure the extension's upstream collector. The SDK's
// OTLP exporters read them too and merge them under the options they are given: an explicit url,
// timeout or compression wins, but environment headers are added to ours key by key and cannot be
// removed by options. The exporters (0.208) read the environment once, synchronously, in their
// constructor, so hiding these variables for exactly that call keeps the upstream's credentials and
// transport settings off the loopback hop, while the function's own code still sees them.

/** The transport settings of the OTLP exporters, all signals: what describes the upstream connection. */
const UPSTREAM_TRANSPORT =
  /^OTEL_EXPORTER_OTLP_(?:(?:TRACES|METRICS|LOGS)_)?(?:ENDPOINT|HEADERS|TIMEOUT|COMPRESSION|PROTOCOL|INSECURE|CERTIFICATE|CLIENT_CERTIFICATE|CLIENT_KEY)$/;

/**
 * Runs `build` (synchronous: nothing else can run while the variables are hidden) with the upstream
 * OTLP transport variables removed from `env`, and puts them back afterwards, even if `build` throws.
 * Data-shape variables such as OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE stay: the function's
 * SDK is what produces the points the extension forwards unchanged.
 */
export function withoutUpstreamExporterEnv<T>(build: () => T, env: NodeJS.ProcessEnv = process.env): T {
  const hidden: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && UPSTREAM_TRANSPORT.test(key)) {
      hidden.push([key, value]);
      delete env[key];
    }
  }
  try {
    return build();
  } finally {
    for (const [key, value] of hidden) env[key] = value;
  }
}
