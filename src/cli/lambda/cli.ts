// What the four deployment commands share: argument parsing, output, and the selector options.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../usage.js';
import type { Clock } from './clock.js';
import type { FunctionSelector, Outcome } from './functions.js';
import { describeChanges } from './plan.js';

/** Where a command writes; tests pass their own, `run()` passes the process streams. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

/** What tests inject; the CLI uses the defaults. */
export interface CommandDeps {
  io: CommandIo;
  clock?: Clock;
  /** Aborted on Ctrl-C: bulk commands start no new function and say what was done. */
  interrupt?: AbortSignal;
}

/**
 * The process's Ctrl-C as an AbortSignal: the first SIGINT asks the command to stop after the
 * updates in flight; a second one exits at once (the updates already sent may still apply).
 */
export function processInterrupt(): AbortSignal {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      process.stderr.write('interrupted again: exiting; updates already sent may still apply\n');
      process.exit(130);
    }
    process.stderr.write(
      'interrupted: finishing the updates in flight, starting no new one (Ctrl-C again to exit now)\n',
    );
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return controller.signal;
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

type Options = NonNullable<ParseArgsConfig['options']>;

export const regionOption = { region: { type: 'string' } } as const satisfies Options;

export const selectorOptions = {
  function: { type: 'string', multiple: true, short: 'f' },
  prefix: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
} as const satisfies Options;

export function parse<O extends Options>(argv: string[], options: O, help: string) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (cause) {
    throw new UsageError(`${(cause as Error).message}\n\n${help}`, { cause });
  }
}

export function selectorFrom(
  values: { function?: string[] | undefined; prefix?: string[] | undefined; tag?: string[] | undefined },
  positionals: string[],
): FunctionSelector {
  const tags: Record<string, string> = {};
  for (const t of values.tag ?? []) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new UsageError(`--tag ${t} must be KEY=VALUE`);
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return { names: [...(values.function ?? []), ...positionals], prefixes: values.prefix ?? [], tags };
}

export function parseTimeout(value: string | undefined, fallbackSeconds: number): number {
  if (value === undefined) return fallbackSeconds * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--timeout ${value} must be a positive number of seconds`);
  return n * 1000;
}

/** Prints one function's outcome as it completes: a line and its diff, or one JSON line. */
export function printOutcome(io: CommandIo, o: Outcome, json: boolean): void {
  if (json) {
    const base = { function: o.name, result: o.result };
    io.out(
      JSON.stringify(
        o.result === 'failed'
          ? { ...base, error: o.error.message }
          : o.result === 'skipped'
            ? { ...base, reason: o.reason }
            : { ...base, changes: describeChanges(o.changes) },
      ),
    );
    return;
  }
  if (o.result === 'failed') {
    io.err(`${o.name}: ${o.error.message}`);
    return;
  }
  if (o.result === 'skipped') {
    io.out(`${o.name}: skipped, ${o.reason}`);
    return;
  }
  const verb = { changed: 'updated', unchanged: 'unchanged', 'would-change': 'would change (dry run)' }[
    o.result
  ];
  io.out(`${o.name}: ${verb}`);
  for (const line of describeChanges(o.changes)) io.out(`  ${line}`);
}

/** What a bulk run did, for the closing summary. */
export interface RunSummary {
  outcomes: Outcome[];
  problems: { target: string; error: Error }[];
  /** Selected functions never started because the run was interrupted. */
  notStarted: string[];
  interrupted: boolean;
}

/** The closing summary (a line, or a JSON line); returns the exit code (1 when anything failed). */
export function printSummary(io: CommandIo, run: RunSummary, json: boolean): number {
  const count = (r: Outcome['result']) => run.outcomes.filter((o) => o.result === r).length;
  const counts = {
    updated: count('changed'),
    wouldChange: count('would-change'),
    unchanged: count('unchanged'),
    skipped: count('skipped'),
    failed: count('failed') + run.problems.length,
    notStarted: run.notStarted.length,
  };
  const failed = counts.failed > 0 || run.interrupted;
  if (!json) for (const p of run.problems) io.err(`${p.target}: ${p.error.message}`);
  if (json) {
    for (const p of run.problems)
      io.out(JSON.stringify({ function: p.target, result: 'failed', error: p.error.message }));
    io.out(
      JSON.stringify({
        summary: { ...counts, interrupted: run.interrupted, notStartedFunctions: run.notStarted },
      }),
    );
    return failed ? 1 : 0;
  }
  const parts = [
    `${counts.updated} updated`,
    ...(counts.wouldChange ? [`${counts.wouldChange} would change`] : []),
    `${counts.unchanged} unchanged`,
    ...(counts.skipped ? [`${counts.skipped} skipped`] : []),
    `${counts.failed} failed`,
  ];
  if (run.interrupted) {
    io.err(
      `interrupted: ${parts.join(', ')}; ${counts.notStarted} not started and left as they were` +
        (run.notStarted.length ? ` (${run.notStarted.join(', ')})` : ''),
    );
  } else {
    io.out(`summary: ${parts.join(', ')}`);
  }
  return failed ? 1 : 0;
}
