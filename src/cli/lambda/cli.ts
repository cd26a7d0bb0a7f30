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

/** Prints each function's outcome; returns the exit code (1 when any function failed). */
export function report(
  io: CommandIo,
  outcomes: Outcome[],
  problems: { target: string; error: Error }[],
): number {
  for (const o of outcomes) {
    if (o.result === 'failed') {
      io.err(`${o.name}: ${o.error.message}`);
      continue;
    }
    const verb = { changed: 'updated', unchanged: 'unchanged', 'would-change': 'would change (dry run)' }[
      o.result
    ];
    io.out(`${o.name}: ${verb}`);
    for (const line of describeChanges(o.changes)) io.out(`  ${line}`);
  }
  for (const p of problems) io.err(`${p.target}: ${p.error.message}`);
  return outcomes.some((o) => o.result === 'failed') || problems.length > 0 ? 1 : 0;
}
