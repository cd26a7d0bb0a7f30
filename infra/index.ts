// lambda-otel-relay CDK constructs: the layer, and the relay added to functions in one call.
export {
  defaultLayerPath,
  OtelRelayLayer,
  type OtelRelayLayerProps,
  RELAY_ARCHITECTURES,
  RELAY_RUNTIMES,
} from './lib/layer.js';
export {
  type AddToOptions,
  type FlushStrategy,
  OtelRelay,
  type OtelRelayFallbackProps,
  type OtelRelayProps,
  RELAY_ENVIRONMENT,
} from './lib/relay.js';
export { OtelRelayReplayer, type OtelRelayReplayerProps } from './lib/replayer.js';
