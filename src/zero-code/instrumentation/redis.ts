// Loaded by the zero-code wrapper on the first require of redis (opt-in).
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';

export function create() {
  return new RedisInstrumentation();
}
