// What every deployment's fallback bucket must be, in CloudFormation terms: encrypted at rest (SSE-S3)
// and closed to the public. Shared by the CDK construct's tests and the serverless.yml package test.
export const PRIVATE_ENCRYPTED_BUCKET = {
  BucketEncryption: {
    ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
  },
  PublicAccessBlockConfiguration: {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  },
} as const;
