import type { LocalFunctionConfig } from './types.js';

/** Options of `lambda-otel-relay local` (and of the demo that reuses it). */
export interface LocalRunOptions extends LocalFunctionConfig {
  /** The event of every invocation (default `{}`). */
  event?: unknown;
  /** Number of invocations (default 1). */
  count?: number;
  /** Pause between invocations, in ms (the environment stays frozen meanwhile). Default 0. */
  intervalMs?: number;
  /** One JSON object per line on stdout instead of a table. */
  json?: boolean;
}

/** Where runLocal writes: results to stdout, process output (labelled) to stderr. */
export interface LocalRunOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Runs `count` invocations then shuts down; returns the exit code (0 when every invocation succeeded). */
export async function runLocal(_options: LocalRunOptions, _out: LocalRunOutput): Promise<number> {
  throw new Error('not implemented yet');
}
