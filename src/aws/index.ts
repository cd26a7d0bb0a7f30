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
export { regionFromEnv } from './region.js';
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
