// One JSON line per notable event, on stdout (where Lambda collects function logs). The function side
// is quiet: it only speaks when telemetry is not reaching the extension, and then once per cause.
import type { LogSink } from './types.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const defaultSink: LogSink = (line) => process.stdout.write(`${line}\n`);

export class RelayLog {
  private readonly said = new Set<string>();
  constructor(private readonly sink: LogSink = defaultSink) {}

  write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    this.sink(JSON.stringify({ level, component: 'otel-relay/middleware', msg, ...fields }));
  }

  /** Logs `msg` the first time `key` is seen by this log, and never again. */
  once(key: string, level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    this.write(level, msg, fields);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
