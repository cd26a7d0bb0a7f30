// Reading one destination's or processor's settings through the settings registry (one rule for
// what a value may look like and how a bad one is reported), plus the one thing the registry leaves
// to us: a required setting without which the destination cannot exist.
import { type Env, readSetting, type Setting } from '../settings/registry.js';

export type { Env };

/** A destination or processor setting that is missing or unusable: it is not created. */
export class DestinationSettingError extends Error {
  override readonly name = 'DestinationSettingError';
}

export interface SettingContext {
  env: Env;
  log: { warn(msg: string, fields?: Record<string, unknown>): void };
  onConfigProblem?: (problem: string) => void;
}

/** A reader that logs and counts each invalid value once, then uses the setting's default. */
export function settingReader(ctx: SettingContext): <T>(s: Setting<T>) => T {
  return (s) => {
    const problems: string[] = [];
    const value = readSetting(ctx.env, s, problems);
    for (const p of problems) {
      ctx.log.warn(p);
      ctx.onConfigProblem?.(p);
    }
    return value;
  };
}

/** A required URL setting. @throws DestinationSettingError naming the variable and what happens to the data. */
export function requireUrl(value: string | undefined, s: Setting<unknown>, destination: string): URL {
  if (value === undefined)
    throw new DestinationSettingError(
      `${s.name} is required for the ${destination} destination; nothing is sent to ${destination} until it is set`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch (err) {
    throw new DestinationSettingError(
      `${s.name}=${JSON.stringify(value)} is not a URL (${destination} destination)`,
      {
        cause: err,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DestinationSettingError(
      `${s.name} must be an http:// or https:// URL, got ${JSON.stringify(value)}`,
    );
  return url;
}
