// Loaded by the zero-code wrapper on the first require of pg (opt-in).
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';

export function create() {
  return new PgInstrumentation();
}
