// Small signed AWS calls for the extension and the CLI, on node built-ins only.

export {
  AwsCredentialsError,
  type CredentialProvider,
  credentialsFromEnv,
  defaultCredentialProvider,
  fetchContainerCredentials,
} from './credentials.js';
export {
  type HttpDeadline,
  type HttpFailureKind,
  HttpRequestError,
  type HttpResponse,
  httpRequest,
} from './http.js';
export {
  type CallBudget,
  type Clock,
  type ListObjectsV2Page,
  parseListObjectsV2,
  S3Client,
  type S3ClientOptions,
  S3Error,
  type S3ObjectSummary,
  type ServerSideEncryption,
} from './s3.js';
export { type AwsJsonClientOptions, AwsServiceError, awsJsonCall, getSecretValue } from './secrets.js';
export {
  type AwsCredentials,
  amzDate,
  EMPTY_SHA256,
  type PresignableRequest,
  type PresignParams,
  presignRequest,
  type SignableRequest,
  type SignedRequest,
  type SigningParams,
  sha256Hex,
  signRequest,
  uriEncode,
} from './sigv4.js';

/** The region Lambda runs in: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. */
export function regionFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
}
