// Secrets Manager GetSecretValue, for OTLP headers kept out of the function's environment
// (OTEL_RELAY_HEADERS_SECRET_ARN). One signed JSON call on node built-ins, like the S3 client.

import { type CredentialProvider, defaultCredentialProvider } from './credentials.js';
import { httpRequest } from './http.js';
import type { CallBudget, Clock } from './s3.js';
import { signRequest } from './sigv4.js';

/** An AWS JSON-protocol service answered with an error (`__type` is its error code). */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface AwsJsonClientOptions {
  region: string;
  /** e.g. `http://127.0.0.1:5000` for moto; default `https://<service>.<region>.amazonaws.com`. */
  endpoint?: string;
  credentials?: CredentialProvider;
  clock?: Clock;
}

const DEFAULT_CALL_MS = 5000;

/** One call of an AWS JSON 1.1 API (`X-Amz-Target: <target>`), signed for `service`. */
export async function awsJsonCall(
  service: string,
  target: string,
  payload: unknown,
  options: AwsJsonClientOptions,
  budget: CallBudget = {},
): Promise<Record<string, unknown>> {
  const clock = options.clock ?? { now: Date.now };
  const deadline = budget.deadline ?? clock.now() + DEFAULT_CALL_MS;
  const base = new URL(options.endpoint ?? `https://${service}.${options.region}.amazonaws.com`);
  const credentials = await (options.credentials ?? defaultCredentialProvider())({
    timeoutMs: deadline - clock.now(),
    signal: budget.signal,
  });
  const body = Buffer.from(JSON.stringify(payload));
  const signed = signRequest(
    {
      method: 'POST',
      host: base.host,
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      body,
    },
    { credentials, region: options.region, service, date: new Date(clock.now()) },
  );
  const res = await httpRequest(
    new URL(`${base.protocol}//${base.host}/`),
    { method: 'POST', headers: signed.headers, body },
    { timeoutMs: deadline - clock.now(), signal: budget.signal },
  );
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(Buffer.from(res.body).toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    // An unparsable body is reported below through the status.
  }
  if (res.status >= 300) {
    const code = String(json.__type ?? `HTTP${res.status}`).replace(/^.*#/, '');
    const message = String(json.message ?? json.Message ?? '');
    throw new AwsServiceError(
      `${target} failed: HTTP ${res.status} ${code}${message ? ` (${message})` : ''}`,
      res.status,
      code,
    );
  }
  return json;
}

/** The SecretString of a secret (by ARN or name). Throws AwsServiceError when it has none. */
export async function getSecretValue(
  secretId: string,
  options: AwsJsonClientOptions,
  budget: CallBudget = {},
): Promise<string> {
  const out = await awsJsonCall(
    'secretsmanager',
    'secretsmanager.GetSecretValue',
    { SecretId: secretId },
    options,
    budget,
  );
  if (typeof out.SecretString !== 'string') {
    throw new AwsServiceError(
      `secret ${secretId} has no SecretString (binary secrets are not supported)`,
      200,
      'NoSecretString',
    );
  }
  return out.SecretString;
}
