// The RDS IAM auth token: a SigV4-presigned `connect` URL (without its scheme) used as the password,
// over TLS. RDS checks it against the role's `rds-db:connect` permission for that database user.
import { type AwsCredentials, presignRequest } from '../../../aws/index.js';

/** RDS accepts a token for 15 minutes; a connection made with it stays up after that. */
export const RDS_TOKEN_TTL_SECONDS = 900;

export function rdsIamToken(
  credentials: AwsCredentials,
  region: string,
  host: string,
  port: number,
  user: string,
  date: Date,
): string {
  const signed = presignRequest(
    {
      method: 'GET',
      host: `${host}:${port}`,
      path: '/',
      query: [
        ['Action', 'connect'],
        ['DBUser', user],
      ],
    },
    { credentials, region, service: 'rds-db', date, expiresInSeconds: RDS_TOKEN_TTL_SECONDS },
  );
  return `${host}:${port}${signed}`;
}
