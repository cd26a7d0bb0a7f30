// Public surface of telemetry/: the relay's counters and their OTLP encoding (self-telemetry).
export { ProtoWriter } from './protobuf-writer.js';
export {
  type BreakerReading,
  breakerReadings,
  encodeSelfMetrics,
  type SelfTelemetryResource,
} from './self.js';
export { type PerSignal, RelayStats } from './stats.js';
