// Loaded by the zero-code wrapper on the first require of ioredis (opt-in).
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';

export function create() {
  return new IORedisInstrumentation();
}
