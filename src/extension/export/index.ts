// Public surface of export/: the seam types, the exporters, the refusal classification.

export {
  createOtlpExporter,
  GRPC_EXPORT_PATHS,
  type LookupFor,
  parseRetryAfter,
  SELF_LOOP_CODE,
} from './otlp-exporter.js';
export {
  classifyRefusal,
  type RefusalClass,
  refusalMeaning,
} from './refusal.js';
export {
  createSecretHeadersExporter,
  type HeaderMap,
  parseSecretHeaders,
  type SecretFetch,
  SecretHeaders,
  secretsManagerFetch,
  withHeaders,
} from './secret-headers.js';
export type {
  Batch,
  Clock,
  Delivery,
  DeliveryContext,
  DeliveryFactory,
  DeliveryResult,
  ExportOutcome,
  FlushBudget,
  FlushReason,
  Logger,
  SignalExporter,
} from './types.js';
