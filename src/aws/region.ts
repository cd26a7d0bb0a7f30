// Kept apart from the signing and S3 modules: the extension reads the region at startup, and
// importing the package index there would load node:crypto (sigv4) before the first `next`.

/** The region Lambda runs in: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. */
export function regionFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
}
