// lambda-otel-relay/middleware: the function side of lambda-otel-relay. Three ways in over one core
// (InvocationTracer): the middy middleware, wrapHandler, and setupOtelRelay for the SDK.

export { InvocationContextManager } from './context-manager.js';
export { type MessageSpanOptions, withMessageSpan } from './messages.js';
export { cleanupOtelRelay, MIDDY_CLEANUP_KEY, MIDDY_INTERNAL_KEY, otelRelay } from './middy.js';
export { type FaasTrigger, lambdaResourceAttributes } from './semconv.js';
export { type OtelRelaySdk, type SetupOptions, setupOtelRelay } from './setup.js';
export { detectTrigger, type TriggerInfo, type TriggerSource } from './trigger.js';
export type {
  AsyncLambdaHandler,
  CallbackLambdaHandler,
  Clock,
  Flushable,
  HandoffTiming,
  LambdaCallback,
  LambdaContext,
  LambdaHandler,
  LogSink,
  MiddyMiddleware,
  MiddyRequest,
  OtelRelayOptions,
} from './types.js';
export { wrapHandler } from './wrap.js';
