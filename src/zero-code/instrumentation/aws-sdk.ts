// Loaded by the zero-code wrapper on the first require of an AWS SDK v3 module. The SDK's own HTTP
// request is not a second CLIENT span under the AWS one.
import { AwsInstrumentation } from '@opentelemetry/instrumentation-aws-sdk';

export function create() {
  return new AwsInstrumentation({ suppressInternalInstrumentation: true });
}
