// The awslogs destination: log records to CloudWatch Logs' OTLP endpoint, SigV4-signed (service
// `logs`), into the log group and stream named by the x-aws-log-group / x-aws-log-stream headers.
// The role needs logs:PutLogEvents on that group. Loaded only when selected.
import { createAwsOtlpDestination } from '../aws-otlp.js';
import { DestinationSettingError, settingReader } from '../read.js';
import type { Destination, DestinationContext, DestinationModule } from '../types.js';
import { AWSLOGS_ENDPOINT, AWSLOGS_LOG_GROUP, AWSLOGS_LOG_STREAM, AWSLOGS_TIMEOUT } from './settings.js';

export function createDestination(ctx: DestinationContext): Destination {
  const read = settingReader(ctx);
  const group = read(AWSLOGS_LOG_GROUP);
  if (!group)
    throw new DestinationSettingError(
      `${AWSLOGS_LOG_GROUP.name} is required for the awslogs destination; no log record is sent until it is set`,
    );
  const stream = read(AWSLOGS_LOG_STREAM);
  return createAwsOtlpDestination(ctx, {
    name: 'awslogs',
    signal: 'logs',
    service: 'logs',
    endpoint: AWSLOGS_ENDPOINT,
    timeout: AWSLOGS_TIMEOUT,
    headers: () => ({ 'x-aws-log-group': group, 'x-aws-log-stream': stream }),
  });
}

export default { createDestination } satisfies DestinationModule;
