// Loaded by the zero-code wrapper on the first require of mongodb (opt-in).
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';

export function create() {
  return new MongoDBInstrumentation();
}
