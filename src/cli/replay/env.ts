// The replay function's settings: environment variables the OtelRelayReplayer construct sets and
// src/cli/replay/lambda.ts reads (besides the OTEL_EXPORTER_OTLP_* ones, read as the CLI reads them).
export const REPLAYER_ENV = {
  /** s3://bucket/prefix the relay spills to. */
  from: 'OTEL_RELAY_REPLAY_FROM',
  /** Per-object send budget in ms, retries included. */
  timeoutMs: 'OTEL_RELAY_REPLAY_TIMEOUT_MS',
  /** CloudWatch namespace of the self-metrics. */
  namespace: 'OTEL_RELAY_REPLAY_METRICS_NAMESPACE',
} as const;
