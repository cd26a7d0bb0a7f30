// Reading one destination's own settings (OTEL_RELAY_<DESTINATION>_*) with errors that name the
// variable and say what happens to the data. Each destination lists its settings in its own
// settings.ts as SettingSpec entries, which the docs' reference table and the settings registry read.
export type Env = Readonly<Record<string, string | undefined>>;

export interface SettingSpec {
  /** The environment variable, e.g. OTEL_RELAY_ZIPKIN_ENDPOINT. */
  name: string;
  /** The default, as the user would write it; undefined when the setting is required. */
  default?: string;
  description: string;
}

/** A destination setting that is missing or invalid: the destination is not created. */
export class DestinationSettingError extends Error {
  override readonly name = 'DestinationSettingError';
}

function raw(env: Env, spec: SettingSpec): string | undefined {
  const v = env[spec.name]?.trim();
  return v ? v : spec.default;
}

export function readUrl(env: Env, spec: SettingSpec, destination: string): URL {
  const v = raw(env, spec);
  if (v === undefined)
    throw new DestinationSettingError(
      `${spec.name} is required for the ${destination} destination; nothing is sent to ${destination} until it is set`,
    );
  let url: URL;
  try {
    url = new URL(v);
  } catch (err) {
    throw new DestinationSettingError(
      `${spec.name}=${JSON.stringify(v)} is not a URL (${destination} destination)`,
      {
        cause: err,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DestinationSettingError(
      `${spec.name} must be an http:// or https:// URL, got ${JSON.stringify(v)}`,
    );
  return url;
}

export function readString(env: Env, spec: SettingSpec): string | undefined {
  return raw(env, spec);
}

export function readPositiveInt(env: Env, spec: SettingSpec): number {
  const v = raw(env, spec);
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n <= 0)
    throw new DestinationSettingError(`${spec.name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

export function readChoice<T extends string>(env: Env, spec: SettingSpec, choices: readonly T[]): T {
  const v = raw(env, spec);
  if (!choices.includes(v as T))
    throw new DestinationSettingError(
      `${spec.name} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`,
    );
  return v as T;
}

export function readBool(env: Env, spec: SettingSpec): boolean {
  const v = raw(env, spec)?.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0' || v === undefined) return false;
  throw new DestinationSettingError(`${spec.name} must be true or false, got ${JSON.stringify(v)}`);
}
