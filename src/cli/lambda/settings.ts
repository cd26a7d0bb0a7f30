// The relay's settings as they live on a function: environment variables read by the extension.
// Names and accepted values are the extension's contract (see docs/configuration.md).
import { parseS3Uri } from '../../extension/fallback/index.js';
import { redactEndpoint } from '../../extension/redact.js';
import { parseFlushStrategy, parseOtlpHeaders } from '../../extension/settings/index.js';
import { UsageError } from '../usage.js';

export const RELAY_ENV = {
  endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  headers: 'OTEL_EXPORTER_OTLP_HEADERS',
  headersSecretArn: 'OTEL_RELAY_HEADERS_SECRET_ARN',
  flush: 'OTEL_RELAY_FLUSH',
  fallbackS3Uri: 'OTEL_RELAY_FALLBACK_S3_URI',
} as const;

export type RelaySettingName = keyof typeof RELAY_ENV;

/** What `attach` sets; a missing field leaves the function's current value alone. */
export type RelaySettings = Partial<Record<RelaySettingName, string>>;

/**
 * What `attach` replaced on a function that did not carry the relay yet: a JSON object of variable
 * name -> the value it had. `detach` puts those values back, so an endpoint another agent (ADOT, a
 * vendor layer) had set survives an attach/detach round trip.
 */
export const PREVIOUS_ENV = 'OTEL_RELAY_ATTACH_PREVIOUS';

/** Variables whose values are credentials: never printed (OTEL_EXPORTER_OTLP_HEADERS and per signal). */
export function isSecretVariable(name: string): boolean {
  return /^OTEL_EXPORTER_OTLP_(?:[A-Z]+_)?HEADERS$/.test(name);
}

/**
 * A variable's value as the CLI prints it anywhere (diff, status table, JSON): header values never,
 * URLs without the userinfo and query that often carry tokens, and the attach record by names only.
 */
export function displayValue(name: string, value: string): string {
  if (isSecretVariable(name)) return '<redacted>';
  if (name === PREVIOUS_ENV)
    return `<previous values of ${Object.keys(readPrevious(value)).join(', ') || 'nothing'}>`;
  if (/_ENDPOINT$/.test(name) || /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return redactEndpoint(value);
  return value;
}

/** The attach record; a value that is not the JSON object attach writes counts as no record. */
export function readPrevious(raw: string | undefined): Record<string, string> {
  if (raw === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  } catch {
    return {};
  }
}

/**
 * Whether the function names somewhere to send data: an OTLP endpoint (general or per signal) or a
 * destination's own endpoint (OTEL_RELAY_<DESTINATION>_ENDPOINT). Without one the relay would export
 * to localhost, where nothing listens in Lambda.
 */
export function hasExportTarget(env: Readonly<Record<string, string>>): boolean {
  return Object.entries(env).some(
    ([name, value]) =>
      value.trim() !== '' &&
      (/^OTEL_EXPORTER_OTLP_(?:(?:TRACES|METRICS|LOGS)_)?ENDPOINT$/.test(name) ||
        /^OTEL_RELAY_[A-Z0-9]+_ENDPOINT$/.test(name)),
  );
}

/** Everything `detach` removes: the variables above and any other OTEL_RELAY_* the user set. */
export function isRelayVariable(name: string): boolean {
  return name.startsWith('OTEL_RELAY_') || Object.values(RELAY_ENV).includes(name as never);
}

export const FLUSH_STRATEGIES = ['adaptive', 'end', 'continuous', 'periodic:<ms>', 'periodic:<n>s'] as const;

/** Accepts exactly what the extension accepts (its own parser), so a value set here is one it uses. */
export function validateFlush(value: string): string {
  if (parseFlushStrategy(value) !== undefined) return value;
  throw new UsageError(`--flush ${value} is not a flush strategy; use one of ${FLUSH_STRATEGIES.join(', ')}`);
}

export function validateEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new UsageError(
      `--endpoint ${value} is not a URL (expected e.g. https://collector.example.com:4318)`,
      {
        cause,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--endpoint ${value} must be an http:// or https:// URL`);
  }
  return value;
}

/**
 * OTEL_EXPORTER_OTLP_HEADERS format, checked by the extension's own parser: an entry it would skip
 * (no `key=value`, or not URL-encoded) is refused here, so every header given reaches the collector.
 */
export function validateHeaders(value: string): string {
  const { problems } = parseOtlpHeaders(value);
  if (problems.length > 0) {
    // The parser names entries by their position only; the value is a credential and is never echoed.
    throw new UsageError(
      `--headers ${problems[0]} by the extension; give comma-separated key=value pairs, URL-encoded, e.g. "x-api-key=abc,x-team=ops"`,
    );
  }
  return value;
}

/**
 * The extension reads the secret by ARN or by name (GetSecretValue's SecretId), so both are accepted:
 * a secret ARN, or a name as Secrets Manager allows it (1-512 of letters, digits and /_+=.@-).
 */
export function validateSecretArn(value: string): string {
  const arn = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(value);
  const name = /^[A-Za-z0-9/_+=.@-]{1,512}$/.test(value);
  if (!arn && !name) {
    throw new UsageError(
      `--headers-secret-arn ${value} is neither a Secrets Manager secret ARN nor a secret name`,
    );
  }
  return value;
}

/** `s3://bucket/prefix` (prefix optional), checked by the extension's own parser. */
export function validateS3Uri(value: string): string {
  try {
    parseS3Uri(value);
  } catch (cause) {
    throw new UsageError(`--fallback-s3-uri ${value} must look like s3://bucket/prefix/`, { cause });
  }
  return value;
}

/** An IAM policy statement as it goes into a role policy document. */
export interface IamStatement {
  Effect: 'Allow';
  Action: string;
  Resource: string;
}

/** A secret as a policy must name it: a name or a partial ARN matches nothing without `-??????`. */
export function secretPolicyArn(arnOrName: string): string {
  if (!arnOrName.startsWith('arn:')) return `arn:aws:secretsmanager:*:*:secret:${arnOrName}-??????`;
  return /-[A-Za-z0-9]{6}$/.test(arnOrName) ? arnOrName : `${arnOrName}-??????`;
}

/**
 * What the function's role must allow for these settings: GetSecretValue on the headers secret and
 * PutObject under the fallback prefix (write-only). A KMS-encrypted secret or bucket also needs
 * kms:Decrypt / kms:GenerateDataKey on its key, which the settings do not name.
 */
export function requiredStatements(settings: RelaySettings): IamStatement[] {
  const out: IamStatement[] = [];
  if (settings.headersSecretArn !== undefined) {
    out.push({
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: secretPolicyArn(settings.headersSecretArn),
    });
  }
  if (settings.fallbackS3Uri !== undefined) {
    const { bucket, prefix } = parseS3Uri(settings.fallbackS3Uri);
    out.push({
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${bucket}/${prefix === '' ? '*' : `${prefix}/*`}`,
    });
  }
  return out;
}
