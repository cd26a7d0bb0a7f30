// The awsxray destination: traces to X-Ray's OTLP endpoint, SigV4-signed (service `xray`) with the
// function role's credentials. The role needs xray:PutTraceSegments (AWSXRayDaemonWriteAccess), and
// the account needs Transaction Search enabled for X-Ray to take OTLP. Loaded only when selected.
import { createAwsOtlpDestination } from '../aws-otlp.js';
import type { Destination, DestinationContext, DestinationModule } from '../types.js';
import { AWSXRAY_ENDPOINT, AWSXRAY_TIMEOUT } from './settings.js';

export function createDestination(ctx: DestinationContext): Destination {
  return createAwsOtlpDestination(ctx, {
    name: 'awsxray',
    signal: 'traces',
    service: 'xray',
    endpoint: AWSXRAY_ENDPOINT,
    timeout: AWSXRAY_TIMEOUT,
  });
}

export default { createDestination } satisfies DestinationModule;
