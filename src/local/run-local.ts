// The core of `lambda-otel-relay local` (and of the demo): start an environment, invoke it `count`
// times, shut it down, and print one result per invocation plus the shutdown.
import { LambdaEnvironment } from './environment.js';
import type { InvocationResult, LocalFunctionConfig, OutputLine, ShutdownResult } from './types.js';

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
  /** Called after each invocation (the demo uses it to show progress). */
  onInvocation?: (result: InvocationResult, index: number) => void;
}

/** Where runLocal writes: results to stdout, process output (labelled) to stderr. */
export interface LocalRunOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The JSON line printed for each invocation with --json. */
export interface InvocationLine extends InvocationResult {
  type: 'invocation';
}

/** The JSON line printed for the shutdown with --json. */
export interface ShutdownLine extends ShutdownResult {
  type: 'shutdown';
}

/**
 * Runs `count` invocations then shuts down. Returns the exit code: 0 when every invocation
 * succeeded, 1 otherwise. Extension and function output goes to `out.stderr`, labelled.
 */
export async function runLocal(options: LocalRunOptions, out: LocalRunOutput): Promise<number> {
  const count = options.count ?? 1;
  const intervalMs = options.intervalMs ?? 0;
  const label = (l: OutputLine): string =>
    l.role === 'runtime' ? 'function' : l.role === 'platform' ? 'emulator' : `extension ${l.name}`;
  const env = await LambdaEnvironment.start({
    ...options,
    onOutput: (line) => {
      out.stderr(`[${label(line)}] ${line.text}\n`);
      options.onOutput?.(line);
    },
  });
  // Ctrl-C must not leave frozen processes behind.
  const interrupted = (): void => {
    void env.dispose({ removeTmp: true }).then(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const results: InvocationResult[] = [];
  try {
    if (!options.json) out.stdout(`${tableHeader()}\n`);
    for (let i = 0; i < count; i++) {
      if (i > 0 && intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
      const result = await env.invoke(options.event ?? {});
      results.push(result);
      options.onInvocation?.(result, i);
      if (options.json)
        out.stdout(`${JSON.stringify({ type: 'invocation', ...result } satisfies InvocationLine)}\n`);
      else out.stdout(`${tableRow(i + 1, result)}\n`);
    }
    const shutdown = await env.shutdown();
    if (options.json)
      out.stdout(`${JSON.stringify({ type: 'shutdown', ...shutdown } satisfies ShutdownLine)}\n`);
    else out.stdout(`${shutdownSummary(shutdown)}\n`);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    // A /tmp the emulator made for this run goes with it; one the caller named stays.
    await env.dispose({ removeTmp: true });
  }
  return results.every((r) => r.status === 'success') ? 0 : 1;
}

const COLUMNS = [
  ['#', 3],
  ['request id', 36],
  ['status', 8],
  ['duration', 11],
  ['post-runtime', 12],
  ['billed', 9],
  ['memory', 7],
  ['init', 11],
  ['restore', 11],
  ['error', 0],
] as const;

function row(cells: string[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(COLUMNS[i]?.[1] ?? 0)))
    .join('  ')
    .trimEnd();
}

function tableHeader(): string {
  return row(COLUMNS.map(([name]) => name));
}

const ms = (v: number | undefined): string => (v === undefined ? '' : `${v.toFixed(2)} ms`);

function tableRow(n: number, r: InvocationResult): string {
  return row([
    String(n),
    r.requestId,
    r.status,
    ms(r.durationMs),
    ms(r.postRuntimeMs),
    `${r.billedDurationMs} ms`,
    `${r.maxMemoryUsedMB} MB`,
    ms(r.initDurationMs),
    ms(r.restoreDurationMs),
    r.error ? `${r.error.errorType}: ${r.error.errorMessage}` : '',
  ]);
}

function shutdownSummary(s: ShutdownResult): string {
  const exts = s.extensions.map(
    (e) =>
      `${e.name}: ${e.state}${e.signal ? ` (${e.signal})` : e.exitCode !== null ? ` (exit ${e.exitCode})` : ''}`,
  );
  return `shutdown (${s.reason}) in ${s.durationMs.toFixed(2)} ms${exts.length ? `: ${exts.join(', ')}` : ', no extensions'}`;
}
