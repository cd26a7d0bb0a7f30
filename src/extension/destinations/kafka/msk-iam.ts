// The MSK IAM auth token: a SigV4-presigned `kafka-cluster:Connect` URL, base64url-encoded, sent as
// the SASL OAUTHBEARER token. MSK checks the signature against the function role's policy
// (kafka-cluster:Connect, WriteData, DescribeTopic on the cluster and topics).
import { type AwsCredentials, presignRequest } from '../../../aws/index.js';

/** MSK accepts a token for at most 15 minutes. */
const MAX_TTL_SECONDS = 900;

export interface MskIamToken {
  token: string;
  /** Epoch ms after which the broker refuses the token. */
  expiresAt: number;
}

/**
 * The token for `region`, signed at `date`. The ttl is 900 s, shortened to what is left of temporary
 * credentials. `userAgent` is appended after signing (the broker logs it; it is not signed).
 */
export function mskIamToken(
  credentials: AwsCredentials,
  region: string,
  date: Date,
  userAgent: string,
): MskIamToken {
  const host = `kafka.${region}.amazonaws.com`;
  const left =
    credentials.expiration === undefined
      ? MAX_TTL_SECONDS
      : Math.floor((credentials.expiration - date.getTime()) / 1000);
  const ttl = Math.max(1, Math.min(left, MAX_TTL_SECONDS));
  const signed = presignRequest(
    {
      method: 'GET',
      host,
      path: '/',
      query: [['Action', 'kafka-cluster:Connect']],
      unsignedQuery: [['User-Agent', userAgent]],
    },
    { credentials, region, service: 'kafka-cluster', date, expiresInSeconds: ttl },
  );
  const url = `https://${host}${signed}`;
  return {
    token: Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: date.getTime() + ttl * 1000,
  };
}
