// Loaded by the zero-code wrapper on the first require of mysql2 (opt-in).
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';

export function create() {
  return new MySQL2Instrumentation();
}
