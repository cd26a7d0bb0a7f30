import type { Logger } from './export/types.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

export const LOG_LEVELS = Object.keys(RANK) as readonly LogLevel[];

export function isLogLevel(v: string): v is LogLevel {
  return v in RANK;
}

/**
 * JSON lines on stdout (Lambda sends an extension's stdout to CloudWatch as `extension` records).
 * Quiet by default: one line per problem, flush summaries only at debug.
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stdout.write(l),
): Logger & { setLevel(level: LogLevel): void } {
  let min = RANK[level];
  const emit = (lvl: Exclude<LogLevel, 'off'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const rec: Record<string, unknown> = {
      time: new Date().toISOString(),
      level: lvl,
      source: 'otel-relay',
      msg,
    };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = v instanceof Error ? errorText(v) : v;
    try {
      write(`${JSON.stringify(rec)}\n`);
    } catch {
      // A broken stdout must not take the extension down with it.
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    setLevel(l) {
      min = RANK[l];
    },
  };
}

/** The message of an error and of its causes, on one line. */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e !== undefined && e !== null; i++) {
    if (e instanceof Error) {
      const code = (e as NodeJS.ErrnoException).code;
      parts.push(code ? `${e.message} (${code})` : e.message);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(': ');
}

/** "37 spans", "1 log record", "12 metric data points": counts in log lines say what they count. */
export function itemsText(signal: 'traces' | 'metrics' | 'logs', n: number): string {
  const noun = signal === 'traces' ? 'span' : signal === 'logs' ? 'log record' : 'metric data point';
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
