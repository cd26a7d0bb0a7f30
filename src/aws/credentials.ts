// Where the extension's AWS credentials come from. Lambda puts the function role's temporary keys in
// the standard variables; SnapStart (and the RIE's SnapStart mode) use the container credentials
// endpoint instead, because keys captured in a snapshot would be stale after restore.

import { type HttpDeadline, httpRequest } from './http.js';
import type { AwsCredentials } from './sigv4.js';

export type CredentialProvider = (deadline?: HttpDeadline) => Promise<AwsCredentials>;

export class AwsCredentialsError extends Error {
  override readonly name = 'AwsCredentialsError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, if both keys are set. */
export function credentialsFromEnv(env: Env): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

// Refresh this long before expiry so a spill never signs with keys that die in flight.
const REFRESH_MARGIN_MS = 5 * 60_000;
const ECS_HOST = 'http://169.254.170.2';

/**
 * The default chain: static variables first (what Lambda sets), then the container credentials
 * endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN
 * or _TOKEN_FILE). Endpoint credentials are cached until shortly before they expire.
 */
export function defaultCredentialProvider(
  env: Env = process.env,
  now: () => number = Date.now,
): CredentialProvider {
  let cached: AwsCredentials | undefined;
  return async (deadline) => {
    const fromEnv = credentialsFromEnv(env);
    if (fromEnv) return fromEnv;
    if (cached && (cached.expiration === undefined || cached.expiration - REFRESH_MARGIN_MS > now())) {
      return cached;
    }
    const uri =
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI ??
      (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
        ? ECS_HOST + env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
        : undefined);
    if (!uri) {
      throw new AwsCredentialsError(
        'no AWS credentials: neither AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set',
      );
    }
    cached = await fetchContainerCredentials(uri, await authorizationToken(env), deadline);
    return cached;
  };
}

async function authorizationToken(env: Env): Promise<string | undefined> {
  if (env.AWS_CONTAINER_AUTHORIZATION_TOKEN) return env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  const file = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  if (!file) return undefined;
  const { readFile } = process.getBuiltinModule('node:fs/promises');
  return (await readFile(file, 'utf8')).trim();
}

/** GETs the container credentials endpoint: `{AccessKeyId, SecretAccessKey, Token, Expiration}`. */
export async function fetchContainerCredentials(
  uri: string,
  token: string | undefined,
  deadline?: HttpDeadline,
): Promise<AwsCredentials> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (cause) {
    throw new AwsCredentialsError('AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL', { cause });
  }
  if (!allowedCredentialsEndpoint(url)) {
    // The authorization token goes with the request: only to the container agent or over TLS.
    throw new AwsCredentialsError(
      `container credentials endpoint ${url.protocol}//${url.host} is not loopback, the ECS/EKS agent address or https; not called`,
    );
  }
  const res = await httpRequest(
    url,
    { method: 'GET', headers: token ? { authorization: token } : {} },
    deadline ?? { timeoutMs: 1000 },
  );
  if (res.status !== 200) {
    throw new AwsCredentialsError(
      `container credentials endpoint ${url.origin}${url.pathname} answered HTTP ${res.status}`,
    );
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(res.body).toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new AwsCredentialsError('container credentials endpoint returned invalid JSON', { cause });
  }
  const accessKeyId = body.AccessKeyId;
  const secretAccessKey = body.SecretAccessKey;
  if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string') {
    throw new AwsCredentialsError('container credentials endpoint returned no AccessKeyId/SecretAccessKey');
  }
  const creds: AwsCredentials = { accessKeyId, secretAccessKey };
  if (typeof body.Token === 'string') creds.sessionToken = body.Token;
  if (typeof body.Expiration === 'string') {
    const ms = Date.parse(body.Expiration);
    if (Number.isFinite(ms)) creds.expiration = ms;
  }
  return creds;
}

/** The ECS task agent and the EKS Pod Identity agent (IPv4 and IPv6), as the AWS SDKs allow them. */
const AGENT_HOSTS = new Set(['169.254.170.2', '169.254.170.23', '[fd00:ec2::23]']);

/** As the AWS SDKs: https anywhere; plain http only to loopback or the container agents. */
export function allowedCredentialsEndpoint(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  const host = url.hostname;
  if (AGENT_HOSTS.has(host)) return true;
  if (host === 'localhost' || host === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
