// Parsing of processor settings: lists of anchored regular expressions and key=value pairs, with
// errors that name the variable.
import { DestinationSettingError, type Env, type SettingSpec } from '../destinations/read.js';

export class ProcessorSettingError extends DestinationSettingError {}

export function splitList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function regexList(env: Env, spec: SettingSpec, flags = ''): RegExp[] {
  return splitList(env[spec.name]).map((p) => {
    try {
      return new RegExp(`^(?:${p})$`, flags);
    } catch (err) {
      throw new ProcessorSettingError(`${spec.name}: ${JSON.stringify(p)} is not a regular expression`, {
        cause: err,
      });
    }
  });
}

export function pairs(env: Env, spec: SettingSpec): Array<[string, string]> {
  return splitList(env[spec.name]).map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ProcessorSettingError(`${spec.name}: ${JSON.stringify(p)} is not key=value`);
    return [p.slice(0, eq).trim(), decodeURIComponent(p.slice(eq + 1).trim())];
  });
}
