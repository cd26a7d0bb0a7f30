// Loaded by the zero-code wrapper on the first require of kafkajs (opt-in).
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';

export function create() {
  return new KafkaJsInstrumentation();
}
