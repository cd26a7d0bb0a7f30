// Parsing of processor list settings (anchored regular expressions, key=value pairs), with errors
// that name the variable. A processor with an unusable rule is not created at all: a redaction or a
// filter silently doing nothing would pass on what the user meant to keep out.
import { DestinationSettingError } from '../destinations/read.js';
import type { Setting } from '../settings/registry.js';

export function splitList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function regex(pattern: string, s: Setting<unknown>, flags = ''): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, flags);
  } catch (err) {
    throw new DestinationSettingError(`${s.name}: ${JSON.stringify(pattern)} is not a regular expression`, {
      cause: err,
    });
  }
}

export function regexList(value: string | undefined, s: Setting<unknown>, flags = ''): RegExp[] {
  return splitList(value).map((p) => regex(p, s, flags));
}

export function pairs(value: string | undefined, s: Setting<unknown>): Array<[string, string]> {
  return splitList(value).map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new DestinationSettingError(`${s.name}: ${JSON.stringify(p)} is not key=value`);
    return [p.slice(0, eq).trim(), decodeURIComponent(p.slice(eq + 1).trim())];
  });
}
