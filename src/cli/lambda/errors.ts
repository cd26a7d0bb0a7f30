// Turns AWS SDK errors into one sentence that says what failed, why it probably failed, and what
// happened to the function (in every case here: nothing was changed).

interface AwsErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function shape(err: unknown): AwsErrorShape {
  return typeof err === 'object' && err !== null ? (err as AwsErrorShape) : {};
}

export function awsErrorName(err: unknown): string | undefined {
  return shape(err).name;
}

/** A failure the user can act on; `cause` keeps the SDK error for DEBUG=1. */
export class LambdaCommandError extends Error {
  override readonly name = 'LambdaCommandError';
}

export interface CallContext {
  /** The Lambda API action, e.g. UpdateFunctionConfiguration. */
  action: string;
  /** What it was called on: a function name, a layer name. */
  target: string;
  region: string;
}

export function explainAwsError(err: unknown, ctx: CallContext): LambdaCommandError {
  const e = shape(err);
  const status = e.$metadata?.httpStatusCode;
  const detail = e.message ? ` (${e.message})` : '';
  const where = `${ctx.action} on ${ctx.target} in ${ctx.region}`;
  let message: string;
  if (e.name === 'AccessDeniedException' || e.name === 'AccessDenied' || status === 403) {
    message = `access denied: ${where}; the credentials in use need lambda:${ctx.action}${detail}`;
  } else if (e.name === 'ResourceNotFoundException' || status === 404) {
    message = `${ctx.target} was not found in ${ctx.region} (${ctx.action}); check the name and --region${detail}`;
  } else if (
    e.name === 'UnrecognizedClientException' ||
    e.name === 'InvalidSignatureException' ||
    e.name === 'CredentialsProviderError' ||
    e.name === 'ExpiredTokenException'
  ) {
    message = `the AWS credentials were rejected or not found: ${where}${detail}`;
  } else if (e.name === 'TooManyRequestsException') {
    message = `throttled by Lambda: ${where}; try again later${detail}`;
  } else {
    message = `${where} failed: ${e.name ?? 'error'}${detail}`;
  }
  return new LambdaCommandError(message, { cause: err });
}
