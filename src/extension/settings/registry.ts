// The shape of a setting and the one reader of the environment. Every value the extension takes from
// its environment is an entry (name, default, parser, range, description, group) in a table; every
// loader reads entries through `readSetting`, so a rule (what "true" means, what a size may look like,
// how an invalid value is reported) exists once. The docs page is generated from the same tables.

export type Env = Readonly<Record<string, string | undefined>>;

/** Where a setting is documented; one section of docs/configuration.md each. */
export type SettingGroup =
  | 'startup'
  | 'receivers'
  | 'buffer'
  | 'flush'
  | 'export'
  | 'destinations'
  | 'fallback'
  | 'telemetry';

/** Parses one raw (trimmed, non-empty) value; `undefined` means invalid. */
export interface Parser<T> {
  parse(raw: string): T | undefined;
  /** What a valid value looks like, for problem lines and the docs ("a size between 1024 and 64MiB"). */
  readonly expects: string;
  /** How a value is written back (problem lines' "using …", the docs' default column). */
  format(value: T): string;
}

export interface Setting<T = unknown> {
  readonly name: string;
  readonly group: SettingGroup;
  readonly default: T;
  /** The default as the docs show it, when the value is computed at run time (`$TMPDIR/…`). */
  readonly defaultText?: string;
  readonly parse: Parser<T>;
  readonly description: string;
  /** Also read per signal: `OTEL_EXPORTER_OTLP_TRACES_X` wins over `OTEL_EXPORTER_OTLP_X`. */
  readonly perSignal?: boolean;
  /** May hold a secret: problem lines never quote the value. */
  readonly secret?: boolean;
}

/** Declares an entry with its value type checked against its parser. */
export function setting<T>(s: Setting<T>): Setting<T> {
  return s;
}

/** The raw value of a variable: trimmed, and unset when empty (Lambda consoles leave empty values). */
export function rawValue(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The value of one setting, or its default with one problem line naming the variable, the value
 * (unless secret), what was expected and what is used instead. Never throws: a bad value never stops
 * the extension.
 */
export function readSetting<T>(env: Env, s: Setting<T>, problems: string[], name = s.name): T {
  const raw = rawValue(env, name);
  if (raw === undefined) return s.default;
  const value = s.parse.parse(raw);
  if (value !== undefined) return value;
  const shown = s.secret ? `${name} (value not shown)` : `${name}=${raw}`;
  const problem = `config: ${shown} is not ${s.parse.expects}; using ${s.defaultText ?? s.parse.format(s.default)}`;
  if (!problems.includes(problem)) problems.push(problem);
  return s.default;
}

/** Whether a variable is set (to a non-empty value). */
export function isSet(env: Env, s: Setting<unknown> | string): boolean {
  return rawValue(env, typeof s === 'string' ? s : s.name) !== undefined;
}

/**
 * A per-signal setting: `OTEL_EXPORTER_OTLP_<SIGNAL>_<KEY>` first, then the general variable. Returns
 * which variable gave the value (`specific` tells whether it was the per-signal one).
 */
export function readPerSignal<T>(
  env: Env,
  s: Setting<T>,
  signal: string,
  problems: string[],
): { value: T; name: string | undefined; specific: boolean } {
  const specific = perSignalName(s.name, signal);
  if (isSet(env, specific))
    return { value: readSetting(env, s, problems, specific), name: specific, specific: true };
  if (isSet(env, s.name)) return { value: readSetting(env, s, problems), name: s.name, specific: false };
  return { value: s.default, name: undefined, specific: false };
}

/** OTEL_EXPORTER_OTLP_ENDPOINT + traces → OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. */
export function perSignalName(general: string, signal: string): string {
  return general.replace(/^OTEL_EXPORTER_OTLP_/, `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_`);
}

// ---- parsers: one per kind of value ----

const MiB = 1024 * 1024;

/** "123", "64KiB", "8MiB", "1mb" → bytes (also plain counts for non-size settings). */
export function parseSize(raw: string): number | undefined {
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib)?$/i.exec(raw);
  if (!m) return undefined;
  const unit = m[2]?.toLowerCase();
  const mult = unit === undefined ? 1 : unit.startsWith('k') ? 1024 : MiB;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

function sizeText(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB}MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}KiB`;
  return String(n);
}

/** A whole number in [min, max]; sizes also take KiB/MiB suffixes. */
export function integer(min: number, max: number, unit: 'ms' | 'bytes' | 'count'): Parser<number> {
  const show = unit === 'bytes' ? sizeText : String;
  return {
    parse: (raw) => {
      const n = parseSize(raw);
      return n === undefined || n < min || n > max ? undefined : n;
    },
    expects:
      unit === 'bytes'
        ? `a size between ${show(min)} and ${show(max)} (bytes, or with KiB/MiB)`
        : `a whole number between ${min} and ${max}${unit === 'ms' ? ' (ms)' : ''}`,
    format: show,
  };
}

/** A positive number (fractions allowed), e.g. the OTel exporter timeout in ms. */
export const positiveNumber: Parser<number> = {
  parse: (raw) => {
    const n = Number(raw);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  },
  expects: 'a positive number of ms',
  format: String,
};

const TRUE = ['true', '1', 'on', 'yes'];
const FALSE = ['false', '0', 'off', 'no'];

/** true/false, also 1/0, on/off, yes/no (any case): the one rule for every switch. */
export const boolean: Parser<boolean> = {
  parse: (raw) => {
    const v = raw.toLowerCase();
    return TRUE.includes(v) ? true : FALSE.includes(v) ? false : undefined;
  },
  expects: 'true or false',
  format: String,
};

/** A TCP port, or (when `canBeOff`) "off"/"false" for a receiver that is not started. */
export function port(canBeOff: boolean): Parser<number | null> {
  return {
    parse: (raw) => {
      if (raw === 'off' || raw === 'false') return canBeOff ? null : undefined;
      const n = Number(raw);
      return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
    },
    expects: canBeOff
      ? 'a port (0-65535 or "off")'
      : 'a port (0-65535); the Telemetry API listener cannot be turned off (it tells the relay when an invocation ended)',
    format: (v) => (v === null ? 'off' : String(v)),
  };
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(values: readonly T[], caseless = false): Parser<T> {
  return {
    parse: (raw) => {
      const v = caseless ? raw.toLowerCase() : raw;
      return (values as readonly string[]).includes(v) ? (v as T) : undefined;
    },
    expects: values.length > 1 ? `${values.slice(0, -1).join(', ')} or ${values.at(-1)}` : `${values[0]}`,
    format: String,
  };
}

/** Any non-empty text (names, paths, ARNs). */
export const text: Parser<string> = { parse: (raw) => raw, expects: 'text', format: String };

/** Text, or nothing: for settings whose absence means "off". */
export const optionalText: Parser<string | undefined> = {
  parse: (raw) => raw,
  expects: 'text',
  format: (v) => v ?? '',
};

/**
 * A comma-separated list of words from `values` (destination names), de-duplicated in order. `none`
 * alone means the empty list.
 */
export function nameList(values: readonly string[]): Parser<readonly string[]> {
  return {
    parse: (raw) => {
      const names = [
        ...new Set(
          raw
            .split(',')
            .map((n) => n.trim().toLowerCase())
            .filter(Boolean),
        ),
      ];
      if (names.length === 1 && names[0] === 'none') return [];
      return names.length > 0 && names.every((n) => values.includes(n)) ? names : undefined;
    },
    expects: `a comma-separated list of ${values.join(', ')} (or none)`,
    format: (v) => (v.length === 0 ? 'none' : v.join(',')),
  };
}
